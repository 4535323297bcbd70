/**
 * A token bucket, kept as GCRA state (the "theoretical arrival time" of the next start) so that
 * credit is fractional and exact: no rounding, no periodic refill, no drift over long runs.
 * Pure: every method takes `now` in milliseconds.
 *
 * Invariant: at most `burst` takes in any instant, and over any window of length W at most
 * burst + W * ratePerSec / 1000 takes.
 */
export class TokenBucket {
  #intervalMs: number; // 1000 / rate; 0 = unlimited
  #toleranceMs: number; // (burst - 1) * interval: how far ahead of the schedule a take may be
  #burst: number;
  #tat: number; // when the bucket is next "empty-free": a take is allowed when now >= tat - tolerance

  /** `ratePerSec` may be Infinity (unlimited); `burst` >= 1. */
  constructor(ratePerSec: number, burst: number, nowMs: number) {
    this.#burst = Math.max(1, burst);
    this.#intervalMs = 0;
    this.#toleranceMs = 0;
    this.#tat = nowMs;
    this.setRate(ratePerSec, nowMs);
  }

  get ratePerSec(): number {
    return this.#intervalMs === 0 ? Infinity : 1000 / this.#intervalMs;
  }

  /** Milliseconds until a take is allowed; 0 means now. */
  delayMs(nowMs: number): number {
    if (this.#intervalMs === 0) return 0;
    return Math.max(0, this.#tat - this.#toleranceMs - nowMs);
  }

  /**
   * Consumes one token; call only when `delayMs(now)` is 0.
   * `lateMs`: how long the caller has already been due (a timer that fired late). That credit is
   * given back so a late timer never loses capacity; the caller bounds it so a long stall never
   * turns into a burst.
   */
  take(nowMs: number, lateMs = 0): void {
    if (this.#intervalMs === 0) return;
    this.#tat = Math.max(this.#tat, nowMs - Math.max(0, lateMs)) + this.#intervalMs;
  }

  /** Takes a token if one is available now. */
  tryTake(nowMs: number): boolean {
    if (this.delayMs(nowMs) > 0) return false;
    this.take(nowMs);
    return true;
  }

  /** Changes the rate live, scaling any debt so the change takes effect from now. */
  setRate(ratePerSec: number, nowMs: number): void {
    if (!(ratePerSec > 0)) throw new RangeError(`rate must be > 0, got ${ratePerSec}`);
    const oldInterval = this.#intervalMs;
    const interval = Number.isFinite(ratePerSec) ? 1000 / ratePerSec : 0;
    const debt = this.#tat - nowMs;
    this.#intervalMs = interval;
    this.#toleranceMs = (this.#burst - 1) * interval;
    this.#tat = debt > 0 && oldInterval > 0 ? nowMs + (debt * interval) / oldInterval : nowMs;
  }
}
