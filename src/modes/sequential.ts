/**
 * The `sequential` mode: one request at a time, each awaited to its last body byte (and its work)
 * before the next starts. The loop here is also what each worker thread of the `threads` mode runs.
 *
 * Requests go through the same attempt code and dispatcher as the real pipeline
 * (`fetchAttempt`, `createDispatcher`), so sequential, threads and async differ only in how
 * requests are scheduled. The pipeline discards bodies; `withBodyWork` wraps the dispatcher with an
 * undici interceptor that feeds each body to the `--work` before the attempt completes.
 */
import type { Dispatcher } from 'undici';
import { systemClock } from '../clock.js';
import { DEFAULTS } from '../config.js';
import { createDispatcher } from '../dispatcher.js';
import { Deadlines } from '../deadlines.js';
import { fetchAttempt, type AttemptResult, type RequestSpec } from '../fetch.js';
import { parseTarget, type Target } from '../target.js';
import {
  bodyWork,
  indexSource,
  LatencyHistogram,
  WorkTally,
  type BodyWork,
  type ModeCounts,
  type ModeSpec,
  type PreparedMode,
} from './measure.js';

/** Feeds each response body to a fresh BodyWork; the attempt completes only after the work. */
class WorkHandler implements Dispatcher.DispatchHandler {
  #work: BodyWork | null = null;

  constructor(
    readonly inner: Dispatcher.DispatchHandler,
    readonly make: () => BodyWork,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }
  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>, message?: string): void {
    if (status >= 200) this.#work = this.make();
    this.inner.onResponseStart?.(controller, status, headers, message);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#work?.update(chunk);
    this.inner.onResponseData?.(controller, chunk);
  }
  onResponseEnd(controller: Dispatcher.DispatchController, trailers: Record<string, string | string[] | undefined>): void {
    try {
      this.#work?.finish();
    } catch (err) {
      // A body the work cannot process is a failed request, not a crash.
      return this.inner.onResponseError?.(controller, err as Error);
    }
    this.inner.onResponseEnd?.(controller, trailers);
  }
  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    this.inner.onResponseError?.(controller, err);
  }
}

/** The dispatcher with per-body work, or the dispatcher itself when there is none. */
export function withBodyWork(dispatcher: Dispatcher, make: (() => BodyWork) | null): Dispatcher {
  if (make === null) return dispatcher;
  return dispatcher.compose((dispatch) => (opts, handler) => dispatch(opts, new WorkHandler(handler, make)));
}

/** The request every undici-based mode sends. */
export function requestSpec(spec: ModeSpec): RequestSpec {
  return { method: 'GET', headers: { 'user-agent': spec.userAgent }, timeoutMs: spec.timeoutMs, maxBodyBytes: DEFAULTS.maxBodyBytes, maxRedirects: 0 };
}

/**
 * The i-th URL as a request target, parsed when it is needed (as the Runner does each line): a
 * parsed copy of a 20,000-URL list in each of 64 worker threads would cost more memory and GC than
 * the requests themselves. The command has already rejected invalid URLs.
 */
export function targetAt(urls: readonly string[], i: number): Target {
  const t = parseTarget({ line: i + 1, text: urls[i]!, overlong: false });
  if (t === null) throw new TypeError(`bench-modes: invalid URL ${JSON.stringify(urls[i])}`);
  return t;
}

/** One attempt, awaited. `deadlines` times it out, as the Runner's does for its attempts. */
export function fetchOne(dispatcher: Dispatcher, target: Target, spec: RequestSpec, deadlines: Deadlines): Promise<AttemptResult> {
  return new Promise((resolve) => fetchAttempt(dispatcher, target, spec, deadlines, resolve));
}

/** The undici-side state of a sequential loop: a dispatcher (with work) and the targets. */
export interface OneAtATime {
  dispatcher: Dispatcher;
  urls: readonly string[];
  request: RequestSpec;
  /** One per loop (per thread), like the Runner's one per run. */
  deadlines: Deadlines;
  tally: WorkTally;
  /** Closes the deadlines and the underlying dispatcher (the composed one is a proxy of it). */
  close(): Promise<void>;
}

export function setUpOneAtATime(spec: ModeSpec): OneAtATime {
  const tally = new WorkTally();
  const base = createDispatcher({ timeoutMs: spec.timeoutMs, http2: false, resolve: new Map() });
  const deadlines = new Deadlines(spec.timeoutMs, systemClock);
  return {
    dispatcher: withBodyWork(base, bodyWork(spec.work, tally)),
    urls: spec.urls,
    request: requestSpec(spec),
    deadlines,
    tally,
    close: () => {
      deadlines.close();
      return base.close();
    },
  };
}

/**
 * Fetches `urls[next()]` one at a time until `next` returns -1; records each complete
 * response's latency (start to last body byte, work included).
 */
export async function runOneAtATime(s: OneAtATime, next: () => number, record: (latencyMs: number) => void): Promise<{ completed: number; failed: number }> {
  let completed = 0;
  let failed = 0;
  for (let i = next(); i >= 0; i = next()) {
    const t0 = performance.now();
    const r = await fetchOne(s.dispatcher, targetAt(s.urls, i), s.request, s.deadlines);
    if (r.error === null && r.status !== null) {
      record(performance.now() - t0);
      completed++;
    } else failed++;
  }
  return { completed, failed };
}

export async function prepareSequential(spec: ModeSpec): Promise<PreparedMode> {
  const s = setUpOneAtATime(spec);
  await fetchOne(s.dispatcher, targetAt(s.urls, 0), s.request, s.deadlines); // warm-up: connection, JIT; not counted
  return {
    async go(): Promise<ModeCounts> {
      const latency = new LatencyHistogram();
      const checksum0 = s.tally.checksum;
      const { completed, failed } = await runOneAtATime(s, indexSource(s.urls.length, performance.now() + spec.maxTimeMs), (ms) => latency.record(ms));
      return { completed, failed, latency, checksum: s.tally.checksum ^ checksum0, threads: 1 };
    },
    close: () => s.close(),
  };
}
