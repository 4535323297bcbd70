/**
 * `--snapshot-every`: one NDJSON line per interval for long runs, so a stall or a latency drift in
 * hour three is visible without waiting for the final report.
 */
import type { Clock } from './clock.js';
import type { Metrics } from './metrics.js';

/** One snapshot line; latencies and rates cover the interval only, `done` the whole run. */
export function snapshotLine(
  interval: ReturnType<Metrics['takeInterval']>,
  o: { elapsedMs: number; intervalMs: number; done: number; inFlight: number },
): string {
  const ms = (us: number | undefined): number | null => (us === undefined ? null : Math.round(us / 10) / 100);
  return (
    JSON.stringify({
      elapsed_s: Math.round(o.elapsedMs) / 1000,
      done: o.done,
      rps: o.intervalMs > 0 ? Math.round((interval.attempts * 100_000) / o.intervalMs) / 100 : 0,
      p50_ms: ms(interval.latency?.p50),
      p99_ms: ms(interval.latency?.p99),
      errors: interval.errors,
      in_flight: o.inFlight,
    }) + '\n'
  );
}

/** Writes a snapshot every `everyMs` until stopped; returns the stop function (which writes a last one). */
export function startSnapshots(out: NodeJS.WritableStream, everyMs: number, metrics: Metrics, inFlight: () => number, clock: Clock): () => void {
  const started = clock.now();
  let last = started;
  const write = (): void => {
    const now = clock.now();
    out.write(snapshotLine(metrics.takeInterval(), { elapsedMs: now - started, intervalMs: now - last, done: metrics.total, inFlight: inFlight() }));
    last = now;
  };
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    write();
  };
}
