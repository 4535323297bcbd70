/**
 * What `bench-modes` measures and the load it applies, shared by every mode: the per-body CPU work,
 * a latency histogram, and one timed window (wall time, CPU of the whole process, peak RSS).
 *
 * Every mode runs in a fresh process (see commands/bench-modes.ts), so `process.cpuUsage()` (which
 * counts every thread of the process, worker threads included) and the peak RSS belong to that
 * mode alone.
 */
import { createHash, type Hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { WORK_KINDS, type WorkKind } from './kinds.js';

export { WORK_KINDS, type WorkKind };

/** The CPU work done on each response body. */

/** Work on one body: fed chunk by chunk, then finished once the body is complete. */
export interface BodyWork {
  update(chunk: Uint8Array): void;
  finish(): void;
}

/** A checksum over every body's work result, so the work cannot be optimised away (and runs compare). */
export class WorkTally {
  checksum = 0;
  bodies = 0;
}

/**
 * A factory of per-body work, or null for `none` (the body is only counted and discarded).
 * - `sha256`: the body is hashed as it streams in (no buffering), then digested.
 * - `json`: the body is buffered, decoded as UTF-8 and `JSON.parse`d. A body that is not JSON (the
 *   built-in target sends runs of `x`) is parsed as one JSON string literal instead, so the cost is
 *   still a full decode and parse of every byte.
 */
export function bodyWork(kind: WorkKind, tally: WorkTally): (() => BodyWork) | null {
  if (kind === 'none') return null;
  if (kind === 'sha256') {
    return () => {
      const hash: Hash = createHash('sha256');
      return {
        update: (chunk) => void hash.update(chunk),
        finish: () => {
          tally.checksum ^= hash.digest().readUInt32LE(0);
          tally.bodies++;
        },
      };
    };
  }
  return () => {
    const chunks: Uint8Array[] = [];
    return {
      update: (chunk) => void chunks.push(chunk),
      finish: () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = JSON.parse(`"${text}"`);
        }
        tally.checksum ^= typeof parsed === 'string' ? parsed.length : JSON.stringify(parsed).length;
        tally.bodies++;
      },
    };
  };
}

/** Latencies above one hour are recorded as one hour. */
const MAX_LATENCY_US = 3_600_000_000;

/** Request latencies in µs (3 significant digits), read out in ms. */
export class LatencyHistogram {
  readonly #hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_LATENCY_US,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
  count = 0;

  record(latencyMs: number): void {
    this.#hist.recordValue(Math.min(MAX_LATENCY_US, Math.max(1, Math.round(latencyMs * 1000))));
    this.count++;
  }

  /** Percentile in ms; null when nothing was recorded. */
  percentileMs(p: number): number | null {
    return this.count === 0 ? null : this.#hist.getValueAtPercentile(p) / 1000;
  }
}

/** What a mode reports about its timed window. */
export interface ModeCounts {
  /** Complete responses (any status), body read and worked on. */
  completed: number;
  /** Requests that got no complete response (transport error, timeout). */
  failed: number;
  latency: LatencyHistogram;
  /** WorkTally.checksum, to show the work was done. */
  checksum: number;
  /** Parallel units used: worker threads for `threads`, else 1. */
  threads: number;
}

/** One measured run of one mode, as the child process reports it. */
export interface RunMeasure {
  completed: number;
  failed: number;
  elapsedMs: number;
  rps: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** User + system CPU of the whole process (all threads) during the window. */
  cpuMs: number;
  /** Peak resident set of the process, in MB: max of 50 ms samples and the kernel's high-water mark. */
  peakRssMb: number;
  threads: number;
  checksum: number;
}

const RSS_SAMPLE_MS = 50;

/** Times `run` and measures CPU and memory around it. */
export async function measureWindow(run: () => Promise<ModeCounts>): Promise<RunMeasure> {
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let counts: ModeCounts;
  try {
    counts = await run();
  } finally {
    clearInterval(sampler);
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // ru_maxrss is in KiB on Linux; it catches peaks between samples (e.g. threads starting).
  const kernelPeak = process.resourceUsage().maxRSS * 1024;
  const h = counts.latency;
  return {
    completed: counts.completed,
    failed: counts.failed,
    elapsedMs,
    rps: counts.completed / (elapsedMs / 1000),
    p50Ms: h.percentileMs(50),
    p95Ms: h.percentileMs(95),
    p99Ms: h.percentileMs(99),
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMb: Math.max(peakRss, kernelPeak) / 2 ** 20,
    threads: counts.threads,
    checksum: counts.checksum,
  };
}

/** CPU ms (user + system) another process has used so far, from /proc; null where there is none. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (fields[11], fields[12] after the state field), in
    // clock ticks, which are 100 per second on every Linux we run on.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** Median of the numbers (mean of the middle two for an even count); null for none. */
export function median(values: ReadonlyArray<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** What a mode is asked to do, the same for every mode (the child process receives it as JSON). */
export interface ModeSpec {
  urls: string[];
  /** Requests in flight (async, fetch) or worker threads (threads, capped at maxThreads); sequential ignores it. */
  concurrency: number;
  /** Per-host cap of the async mode's scheduler. */
  perHost: number;
  maxThreads: number;
  work: WorkKind;
  /** Time box: no request starts after this long; those in flight finish. */
  maxTimeMs: number;
  /** Per request, start to last body byte. */
  timeoutMs: number;
  userAgent: string;
}

/** A mode set up (connections may be warm, threads started) and ready for its timed window. */
export interface PreparedMode {
  go(): Promise<ModeCounts>;
  close(): Promise<void>;
}

/** Hands out URL indexes until the list or the time box runs out (one thread). */
export function indexSource(count: number, deadlineMs: number): () => number {
  let i = 0;
  return () => (i < count && performance.now() < deadlineMs ? i++ : -1);
}
