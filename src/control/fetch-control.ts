/**
 * What the control port may do to a running fetch. The runner implements it; `serve` has none,
 * so fetch-only commands answer `ERR not running a fetch` there.
 */
export interface FetchControl {
  /** A JSON-able snapshot for `STATS`. */
  stats(): Record<string, unknown>;
  /** No new attempts start; in-flight ones finish. */
  pause(): void;
  resume(): void;
  /** Starts per second, globally or for one host; Infinity lifts the limit. */
  setRate(perSec: number, host?: string): void;
  /** Max in flight, globally or for one host. */
  setConcurrency(n: number, host?: string): void;
  /** The same stop path as the first SIGINT, but the run exits 0. */
  shutdown(): void;
}
