/**
 * Aggregation of a run: counters, status and error counts, latency histograms, per-host stats.
 * `recordAttempt` and `write` are on the hot path (tens of thousands of calls per second): they
 * only bump counters, do Map lookups and record into preallocated histograms, never allocate per call.
 * Reading (`latencyUs`, `hosts`, `snapshot`) is for the report and live stats, and may allocate.
 */
import { createRequire } from 'node:module';
import type Int32Module from 'hdr-histogram-js/dist/Int32Histogram.js';
import type PackedModule from 'hdr-histogram-js/dist/PackedHistogram.js';
import { systemClock, type Clock } from './clock.js';
import type { Result, ResultSink } from './result.js';

// The two histogram classes we use, not the package index: the index also loads the log writer,
// the encoder (pako) and the WebAssembly build, ~30 ms of start-up for nothing here. require():
// an ES import of these CommonJS files differs between Node and test loaders in what `default` is.
const require = createRequire(import.meta.url);
const { default: Int32Histogram } = require('hdr-histogram-js/dist/Int32Histogram.js') as typeof Int32Module;
const { default: PackedHistogram } = require('hdr-histogram-js/dist/PackedHistogram.js') as typeof PackedModule;

/** Latencies above this (one hour) are recorded as this; a fixed range keeps the histograms preallocated. */
const MAX_LATENCY_US = 3_600_000_000;

/**
 * The first this many hosts get flat per-host histograms (13 KB each, 3.3 MB at most); later ones
 * packed ones, which grow with the values seen: a crawl over 100,000 hosts stays small. Recording
 * into a packed histogram cost ~0.6 µs more per attempt (Metrics.recordAttempt 1.47 -> ~0.85 µs).
 */
const FLAT_HOST_HISTOGRAMS = 256;

/** A start later than this after its intended time counts as late (below it is timer granularity). */
export const LATE_START_MS = 1;

/** Latency summary in microseconds, of the attempts that got a response. */
export interface LatencyStatsUs {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Cheap live numbers for the progress line and the control port; latencies null until a response came. */
export interface MetricsSnapshot {
  done: number;
  ok: number;
  failed: number;
  invalid: number;
  attempts: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** A histogram plus exact count, min, max and sum (the histogram's own are bucket-rounded). */
class LatencyRecorder {
  readonly #hist: InstanceType<typeof Int32Histogram | typeof PackedHistogram>;
  count = 0;
  minUs = Infinity;
  maxUs = 0;
  sumUs = 0;

  /** Packed: memory grows with the values seen, not the range (per-host histograms, one per host). */
  constructor(digits: 2 | 3, packed: boolean) {
    const Histogram = packed ? PackedHistogram : Int32Histogram;
    this.#hist = new Histogram(1, MAX_LATENCY_US, digits);
  }

  record(latencyMs: number): void {
    const us = Math.min(MAX_LATENCY_US, Math.max(0, Math.round(latencyMs * 1000)));
    this.#hist.recordValue(us);
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Forgets everything (for per-interval snapshots). */
  reset(): void {
    this.#hist.reset();
    this.count = 0;
    this.minUs = Infinity;
    this.maxUs = 0;
    this.sumUs = 0;
  }

  /** Summary in µs; null when empty. */
  summary(): LatencyStatsUs | null {
    if (this.count === 0) return null;
    const at = (p: number): number => this.percentileUs(p) ?? 0;
    return { count: this.count, min: this.minUs, mean: this.sumUs / this.count, p50: at(50), p90: at(90), p95: at(95), p99: at(99), p999: at(99.9), max: this.maxUs };
  }

  /** Percentile in µs, clamped to the exact min and max so that p50 <= ... <= p999 <= max always holds. */
  percentileUs(p: number): number | null {
    if (this.count === 0) return null;
    return Math.min(this.maxUs, Math.max(this.minUs, this.#hist.getValueAtPercentile(p)));
  }
}

/** Per-host aggregate. Requests are attempts; ok and failed are URLs (final results). */
export class HostStats {
  requests = 0;
  ok = 0;
  failed = 0;
  /** Attempts answered 429 or 503: the host asked us to slow down. */
  throttled = 0;
  /** Clock times (ms) of the first and last recorded attempt; NaN until one is recorded. */
  firstAttemptMs = NaN;
  lastAttemptMs = NaN;
  /** Created on the first response: many hosts never get one, and each histogram costs memory. */
  #latency: LatencyRecorder | null = null;

  /** `packed`: a histogram that grows with the values seen (see FLAT_HOST_HISTOGRAMS). */
  constructor(
    readonly host: string,
    readonly packed = true,
  ) {}

  recordLatency(latencyMs: number): void {
    (this.#latency ??= new LatencyRecorder(2, this.packed)).record(latencyMs);
  }

  /** Percentile of this host's response latencies in µs (2 significant digits), null when none. */
  percentileUs(p: number): number | null {
    return this.#latency?.percentileUs(p) ?? null;
  }
}

/** Aggregates one run. `now` must be the same clock the runner uses (per-host rates come from it). */
export class Metrics implements ResultSink {
  readonly #clock: Pick<Clock, 'now'>;
  readonly #latency = new LatencyRecorder(3, false);
  /** Latency from the intended (scheduled) start: corrected for coordinated omission. */
  readonly #corrected = new LatencyRecorder(3, false);
  /** Latency since the last `takeInterval`, for --snapshot-every. */
  readonly #interval = new LatencyRecorder(3, false);
  #intervalErrors = 0;
  #intervalAttempts = 0;
  #starts = 0;
  #firstStartMs = NaN;
  #lastStartMs = NaN;
  #lateStarts = 0;
  #lateSumMs = 0;
  #lateMaxMs = 0;
  readonly #hosts = new Map<string, HostStats>();
  readonly #status = new Map<number, number>();
  readonly #attemptStatus = new Map<number, number>();
  readonly #errors = new Map<string, number>();
  #total = 0;
  #ok = 0;
  #failed = 0;
  #invalid = 0;
  #attempts = 0;
  #retries = 0;
  #bytes = 0;

  constructor(options: { clock?: Pick<Clock, 'now'> } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * An attempt started `lateMs` after its intended start (0 when on time). Starts later than
   * LATE_START_MS count as late: below that is timer granularity, not a stall.
   */
  recordStart(nowMs: number, lateMs: number): void {
    if (this.#starts === 0) this.#firstStartMs = nowMs;
    this.#starts++;
    this.#lastStartMs = nowMs;
    if (lateMs > LATE_START_MS) {
      this.#lateStarts++;
      this.#lateSumMs += lateMs;
      if (lateMs > this.#lateMaxMs) this.#lateMaxMs = lateMs;
    }
  }

  /**
   * One HTTP attempt finished. `latencyMs` null when no response came (it then stays out of the
   * histograms); `correctedMs` is the latency from the intended start (defaults to `latencyMs`).
   */
  recordAttempt(host: string, latencyMs: number | null, status: number | null, correctedMs?: number): void {
    const now = this.#clock.now();
    this.#intervalAttempts++;
    if (latencyMs === null || (status !== null && status >= 500)) this.#intervalErrors++;
    const h = this.#host(host);
    if (h.requests === 0) h.firstAttemptMs = now;
    h.requests++;
    h.lastAttemptMs = now;
    this.#attempts++;
    if (status !== null) this.#attemptStatus.set(status, (this.#attemptStatus.get(status) ?? 0) + 1);
    if (status === 429 || status === 503) h.throttled++;
    if (latencyMs !== null) {
      this.#latency.record(latencyMs);
      this.#corrected.record(correctedMs ?? latencyMs);
      this.#interval.record(latencyMs);
      h.recordLatency(latencyMs);
    }
  }

  /** One final result per input line. Invalid URLs count as invalid, never as failed. */
  write(r: Result): void {
    this.#total++;
    this.#bytes += r.bytes;
    // Retries come from the results, not from recordAttempt, so they never go negative mid-run.
    if (r.attempts > 1) this.#retries += r.attempts - 1;
    if (r.status !== null) this.#status.set(r.status, (this.#status.get(r.status) ?? 0) + 1);
    if (r.error !== null) this.#errors.set(r.error, (this.#errors.get(r.error) ?? 0) + 1);
    if (r.error === 'invalid_url') {
      this.#invalid++;
      return;
    }
    const h = this.#host(r.host);
    if (r.ok) {
      this.#ok++;
      h.ok++;
    } else {
      this.#failed++;
      h.failed++;
    }
  }

  #host(host: string): HostStats {
    let h = this.#hosts.get(host);
    if (h === undefined) {
      h = new HostStats(host, this.#hosts.size >= FLAT_HOST_HISTOGRAMS);
      this.#hosts.set(host, h);
    }
    return h;
  }

  /** Results written (input lines done). */
  get total(): number {
    return this.#total;
  }
  get ok(): number {
    return this.#ok;
  }
  get failed(): number {
    return this.#failed;
  }
  get invalid(): number {
    return this.#invalid;
  }
  /** HTTP attempts recorded, including retries. */
  get attempts(): number {
    return this.#attempts;
  }
  /** Sum over results of (attempts - 1): attempts minus URLs that made at least one. */
  get retries(): number {
    return this.#retries;
  }
  /** Body bytes of the final attempts. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Final status of each URL, by code. */
  statusCounts(): ReadonlyMap<number, number> {
    return this.#status;
  }
  /** Status of every attempt that got a response, by code (shows the 429s and 503s that were retried). */
  attemptStatusCounts(): ReadonlyMap<number, number> {
    return this.#attemptStatus;
  }
  /** Final error of each URL, by code. */
  errorCounts(): ReadonlyMap<string, number> {
    return this.#errors;
  }
  /** Per-host stats, in first-seen order. */
  hosts(): Iterable<HostStats> {
    return this.#hosts.values();
  }

  /** Latency of all attempts that got a response, in µs (3 significant digits); null when there were none. */
  latencyUs(): LatencyStatsUs | null {
    return this.#latency.summary();
  }

  /** The same from each attempt's intended start (equal to latencyUs when no rate is set). */
  correctedLatencyUs(): LatencyStatsUs | null {
    return this.#corrected.summary();
  }

  /** Starts: how many, how many late (and by how much), and the achieved start rate. */
  starts(): { count: number; late: number; lateMeanMs: number; lateMaxMs: number; ratePerSec: number | null } {
    const spanS = (this.#lastStartMs - this.#firstStartMs) / 1000;
    return {
      count: this.#starts,
      late: this.#lateStarts,
      lateMeanMs: this.#lateStarts > 0 ? this.#lateSumMs / this.#lateStarts : 0,
      lateMaxMs: this.#lateMaxMs,
      ratePerSec: this.#starts > 1 && spanS > 0 ? (this.#starts - 1) / spanS : null,
    };
  }

  /** Latency, attempts and errors since the last call (then reset): one --snapshot-every line. */
  takeInterval(): { attempts: number; errors: number; latency: LatencyStatsUs | null } {
    const out = { attempts: this.#intervalAttempts, errors: this.#intervalErrors, latency: this.#interval.summary() };
    this.#interval.reset();
    this.#intervalAttempts = 0;
    this.#intervalErrors = 0;
    return out;
  }

  /** Live numbers; two percentile scans of the global histogram, fine at a few calls per second. */
  snapshot(): MetricsSnapshot {
    const p50 = this.#latency.percentileUs(50);
    const p99 = this.#latency.percentileUs(99);
    return {
      done: this.#total,
      ok: this.#ok,
      failed: this.#failed,
      invalid: this.#invalid,
      attempts: this.#attempts,
      p50Ms: p50 === null ? null : p50 / 1000,
      p99Ms: p99 === null ? null : p99 / 1000,
    };
  }
}
