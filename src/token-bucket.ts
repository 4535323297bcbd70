/**
 * A token bucket, kept as GCRA state (the "theoretical arrival time" of the next start) so that
 * credit is fractional and exact: no rounding, no periodic refill, no drift over long runs.
 * Pure: every method takes `now` in milliseconds.
 *
 * Invariant: over any window of length W at most burst + W * ratePerSec / 1000 takes, except
 * that a caller late by up to `catchUpMs` may catch up (see expectTake); with burst 1 it catches up
 * at twice the rate, never all at once.
 */

/** Timer granularity allowed to the catch-up pace: starts this close count as spaced. */
const PACE_SLACK_MS = 1;
export class TokenBucket {
  #intervalMs: number; // 1000 / rate; 0 = unlimited
  #toleranceMs: number; // (burst - 1) * interval: how far ahead of the schedule a take may be
  #burst: number;
  #tat: number; // the schedule: a take is allowed when now >= tat - tolerance
  #catchUpMs: number;
  #expected = NaN; // the token a caller waits for (its availability time), see expectTake
  #paceAt = -Infinity; // burst 1: a second schedule at twice the rate that paces catching up
  #paceIntervalMs = 0;

  /**
   * `ratePerSec` may be Infinity (unlimited); `burst` >= 1. `catchUpMs`: see `expectTake`.
   */
  constructor(ratePerSec: number, burst: number, nowMs: number, catchUpMs = 0) {
    this.#burst = Math.max(1, burst);
    this.#catchUpMs = catchUpMs;
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
    return Math.max(0, this.#tat - this.#toleranceMs - nowMs, this.#paceAt - PACE_SLACK_MS - nowMs);
  }

  /**
   * A caller is waiting for the next token and will take it as soon as it can. If that take then
   * comes late (a timer fired late, the loop was busy) by at most `catchUpMs`, the schedule is kept,
   * so no capacity is lost. A take nobody waited for (after idling), or a later one, restarts the
   * schedule from now, so an idle spell never turns into a burst.
   */
  expectTake(): void {
    this.#expected = this.#tat - this.#toleranceMs;
  }

  /** Consumes one token; call only when `delayMs(now)` is 0. */
  take(nowMs: number): void {
    if (this.#intervalMs === 0) return;
    const due = this.#tat - this.#toleranceMs;
    const keep = this.#expected === due && nowMs - due <= this.#catchUpMs;
    this.#tat = (keep ? this.#tat : Math.max(this.#tat, nowMs)) + this.#intervalMs;
    this.#expected = NaN;
    if (this.#paceIntervalMs > 0) this.#paceAt = Math.max(this.#paceAt, nowMs) + this.#paceIntervalMs;
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
    // With burst 1, catching up after a late timer or a stall goes at twice the rate, not at once.
    this.#paceIntervalMs = this.#burst === 1 ? interval / 2 : 0;
    this.#paceAt = -Infinity; // a new rate starts a new schedule
    this.#tat = debt > 0 && oldInterval > 0 ? nowMs + (debt * interval) / oldInterval : nowMs;
  }
}
