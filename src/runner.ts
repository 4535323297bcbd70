/**
 * The run: reads URL lines, feeds the scheduler, runs attempts, decides retries, and writes exactly
 * one result per URL line to the sinks. Stopping is one path for everything (end of input, SIGINT,
 * SHUTDOWN, a closed output): stop intake, cancel what waits, let in-flight attempts finish for up
 * to the grace period, then cancel them too.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Clock } from './clock.js';
import type { FetchControl } from './control/fetch-control.js';
import { Deadlines } from './deadlines.js';
import { fetchAttempt, type AttemptResult, type Cancel, type RequestSpec } from './fetch.js';
import type { ErrorCode, Result, ResultSink } from './result.js';
import { decideRetry, type RetryPolicy } from './retry.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { readLines } from './source.js';
import { parseTarget, type Target } from './target.js';

/** What the runner needs from the metrics besides the results. */
export interface AttemptRecorder {
  /** Every start, with how late it was against its intended start. */
  recordStart(nowMs: number, lateMs: number): void;
  /** Every attempt's end; latency only when a response came; corrected = from the intended start. */
  recordAttempt(host: string, latencyMs: number | null, status: number | null, correctedMs?: number): void;
  /** Latency so far, for STATS. */
  snapshot?(): { p50Ms: number | null; p99Ms: number | null };
}

export interface RunnerOptions {
  input: Readable;
  scheduler: Omit<SchedulerOptions, 'clock'>;
  retry: RetryPolicy;
  request: RequestSpec;
  /** How long in-flight attempts may finish after a stop. */
  graceMs: number;
  dispatcher: Dispatcher;
  clock: Clock;
  /** Wall-clock epoch ms, for Retry-After dates. */
  wallNow: () => number;
  random: () => number;
  sinks: ResultSink[];
  attempts: AttemptRecorder;
  /** A gate on starting work (output backpressure). */
  canStart?: () => boolean;
  /** Input lines to pass over without a result (already done, for --resume); not counted as read. */
  skipLine?: (line: number) => boolean;
}

/** Why a run stopped early: SIGINT/SIGTERM, SHUTDOWN, stdout closed by its reader, or an output that failed. */
export type StopReason = 'interrupt' | 'shutdown' | 'output_closed' | 'output_failed';

export interface RunSummary {
  /** URL lines read (= results written). */
  total: number;
  durationMs: number;
  /** Why the run stopped early, or null when the input was finished. */
  stopped: StopReason | null;
}

/**
 * A URL on its way through the pipeline. A class with every field set in the constructor: one
 * hidden class for all jobs (an object spread here cost ~7 µs per URL and doubled GC).
 */
class Job implements Target {
  readonly line: number;
  readonly url: string;
  readonly host: string;
  readonly origin: string;
  readonly path: string;
  attempts = 0;
  firstStartMs: number;
  /** When it last became ready to wait for a start (queued, or its backoff began). */
  readyAtMs: number;
  /** When it is due to start: queued, or its backoff ends (the scheduler's schedule starts here). */
  dueMs: number;
  /** The scheduler's intended start of the current attempt. */
  intendedMs: number;
  waitMs = 0;
  attemptStartMs = 0;
  cancel: Cancel | null = null;

  constructor(t: Target, nowMs: number) {
    this.line = t.line;
    this.url = t.url;
    this.host = t.host;
    this.origin = t.origin;
    this.path = t.path;
    this.firstStartMs = this.readyAtMs = this.dueMs = this.intendedMs = nowMs;
  }
}

export class Runner implements FetchControl {
  readonly #o: RunnerOptions;
  readonly #clock: Clock;
  readonly scheduler: Scheduler<Job>;
  readonly #inFlight = new Set<Job>();
  readonly #startedAt: number;
  #read = 0;
  #finished = 0;
  #ok = 0;
  #inputDone = false;
  #stopped: StopReason | null = null;
  #resolve!: (s: RunSummary) => void;
  readonly #done: Promise<RunSummary>;
  #graceTimer: (() => void) | null = null;
  readonly #startsPerSec = new StartCounter();
  readonly #deadlines: Deadlines;

  constructor(options: RunnerOptions) {
    this.#o = options;
    this.#clock = options.clock;
    this.#startedAt = this.#clock.now();
    this.#deadlines = new Deadlines(options.request.timeoutMs, options.clock);
    this.scheduler = new Scheduler<Job>({ ...options.scheduler, clock: options.clock }, (job, intended) => this.#start(job, intended));
    if (options.canStart) this.scheduler.canStart = options.canStart;
    this.#done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Runs to the end of the input or a stop; resolves once every line read has its result. */
  run(): Promise<RunSummary> {
    this.#feed().catch(() => this.#endOfInput()); // a failing input stream ends intake, never the run
    return this.#done;
  }

  /** The one stop path. Idempotent: the first reason wins. */
  stop(reason: StopReason): void {
    if (this.#stopped) return;
    this.#stopped = reason;
    this.#o.input.destroy(); // unblocks a reader waiting for stdin
    const now = this.#clock.now();
    for (const job of this.scheduler.stop()) this.#finish(job, cancelled(), now, true);
    const grace = reason === 'output_closed' || reason === 'output_failed' ? 0 : this.#o.graceMs;
    this.#graceTimer = this.#clock.setTimer(() => {
      for (const job of [...this.#inFlight]) job.cancel?.();
    }, grace);
    this.#checkDone();
  }

  async #feed(): Promise<void> {
    for await (const batch of readLines(this.#o.input)) {
      for (const src of batch) {
        if (this.#stopped) return this.#endOfInput();
        if (this.#o.skipLine?.(src.line)) continue;
        this.#read++;
        const target = parseTarget(src);
        const now = this.#clock.now();
        if (!target) {
          this.#emit({ line: src.line, url: src.text, host: '', status: null, ok: false, bytes: 0, attempts: 0, ms: 0, wait_ms: 0, error: 'invalid_url' });
          continue;
        }
        const job = new Job(target, now);
        const room = this.scheduler.waitForRoom();
        if (room) await room;
        if (this.#stopped) {
          this.#finish(job, cancelled(), this.#clock.now(), true);
          return this.#endOfInput();
        }
        job.readyAtMs = job.dueMs = this.#clock.now();
        this.scheduler.submit(job);
      }
    }
    this.#endOfInput();
  }

  #endOfInput(): void {
    this.#inputDone = true;
    this.#checkDone();
  }

  #start(job: Job, intendedMs: number): void {
    const now = this.#clock.now();
    job.intendedMs = Number.isNaN(intendedMs) ? now : intendedMs;
    this.#o.attempts.recordStart(now, now - job.intendedMs);
    job.waitMs += now - job.readyAtMs;
    if (job.attempts === 0) job.firstStartMs = now;
    job.attempts++;
    job.attemptStartMs = now;
    this.#inFlight.add(job);
    this.#startsPerSec.add(now);
    job.cancel = fetchAttempt(this.#o.dispatcher, job, this.#o.request, this.#deadlines, (r) => this.#attemptEnded(job, r));
  }

  #attemptEnded(job: Job, r: AttemptResult): void {
    const now = this.#clock.now();
    job.cancel = null;
    this.#inFlight.delete(job);
    this.#o.attempts.recordAttempt(job.host, r.status !== null ? now - job.attemptStartMs : null, r.status, now - job.intendedMs);
    if (this.#o.scheduler.adaptive && r.status !== null) {
      this.scheduler.adapt(job.host, r.status === 429 || r.status === 503, job.attemptStartMs);
    }
    const decision = decideRetry(this.#o.retry, job.attempts, r, this.#o.wallNow(), this.#o.random);
    if (decision.pauseHostMs > 0) this.scheduler.pauseHost(job.host, now + decision.pauseHostMs);
    if (decision.retry && !this.#stopped) {
      job.readyAtMs = now;
      job.dueMs = now + decision.delayMs;
      this.scheduler.retryAfter(job, decision.delayMs);
    } else {
      this.#finish(job, r, now);
    }
    this.scheduler.release(job.host);
  }

  /** Writes the job's result. `waiting`: it was queued or in backoff, not in flight, until now. */
  #finish(job: Job, r: AttemptResult, now: number, waiting = false): void {
    const ok = r.error === null && r.status !== null && r.status >= 200 && r.status < 400;
    const ms = job.attempts > 0 ? now - job.firstStartMs : 0;
    const waitMs = waiting ? job.waitMs + (now - job.readyAtMs) : job.waitMs;
    this.#emit({ line: job.line, url: job.url, host: job.host, status: r.status, ok, bytes: r.bytes, attempts: job.attempts, ms, wait_ms: waitMs, error: r.error });
  }

  #emit(result: Result): void {
    this.#finished++;
    if (result.ok) this.#ok++;
    for (const sink of this.#o.sinks) sink.write(result);
    this.#checkDone();
  }

  #checkDone(): void {
    if (!this.#inputDone || this.#finished < this.#read) return;
    this.#graceTimer?.();
    this.#graceTimer = null;
    this.#deadlines.close();
    this.#resolve({ total: this.#read, durationMs: this.#clock.now() - this.#startedAt, stopped: this.#stopped });
  }

  // --- FetchControl (the control port) ---

  stats(): Record<string, unknown> {
    const now = this.#clock.now();
    const s = this.scheduler;
    const latency = this.#o.attempts.snapshot?.();
    return {
      elapsed_s: round((now - this.#startedAt) / 1000),
      read: this.#read,
      done: this.#finished,
      ok: this.#ok,
      failed: this.#finished - this.#ok,
      in_flight: s.inFlight,
      queued: s.queued,
      retries_waiting: s.retryWaiting,
      paused: s.paused,
      rps: round(this.#startsPerSec.rate(now)),
      rate_limit_per_s: Number.isFinite(s.limits.ratePerSec) ? s.limits.ratePerSec : null,
      concurrency: s.limits.concurrency,
      latency_ms: { p50: roundOrNull(latency?.p50Ms), p99: roundOrNull(latency?.p99Ms) },
      hosts: s.hosts(10),
    };
  }
  pause(): void {
    this.scheduler.pause();
  }
  resume(): void {
    this.scheduler.resume();
  }
  setRate(perSec: number, host?: string): void {
    this.scheduler.setRate(perSec, host === undefined ? undefined : hostKey(host));
  }
  setConcurrency(n: number, host?: string): void {
    this.scheduler.setConcurrency(n, host === undefined ? undefined : hostKey(host));
  }
  shutdown(): void {
    this.stop('shutdown');
  }
}

function cancelled(): AttemptResult {
  return { status: null, bytes: 0, error: 'cancelled' as ErrorCode, retryAfter: null };
}

/** Limits are per hostname: `Host:8080` and `[::1]:80` name the lanes `host` and `[::1]`. */
function hostKey(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1) || h;
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function roundOrNull(n: number | null | undefined): number | null {
  return n === null || n === undefined ? null : round(n);
}

/** Starts over the last few whole seconds, for a live rate that needs no timer. */
class StartCounter {
  #counts = new Array<number>(6).fill(0);
  #second = 0;
  #firstSecond = NaN;
  add(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (Number.isNaN(this.#firstSecond)) this.#firstSecond = second;
    this.#advance(second);
    this.#counts[this.#second % 6]!++;
  }
  /** Starts per second over the last (up to five) complete seconds; the current second so far before that. */
  rate(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    this.#advance(second);
    const complete = Math.min(5, second - this.#firstSecond);
    if (!(complete > 0)) return this.#counts[this.#second % 6]! / Math.max(0.001, (nowMs % 1000) / 1000);
    let sum = 0;
    for (let i = 1; i <= complete; i++) sum += this.#counts[(this.#second - i + 6) % 6]!;
    return sum / complete;
  }
  #advance(second: number): void {
    if (second - this.#second >= 6) this.#counts.fill(0);
    else for (let s = this.#second + 1; s <= second; s++) this.#counts[s % 6] = 0;
    if (second > this.#second) this.#second = second;
  }
}
