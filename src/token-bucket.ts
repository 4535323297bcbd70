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
  #tat: number; // the schedule: a take is allowed when now >= tat - tolerance
  #catchUpMs: number;
  #expected = NaN; // the token a caller waits for (its availability time), see expectTake
  #lastTakeMs = -Infinity;
  #minGapMs = 0; // burst 1: catching up after a late timer never starts two at once

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
    return Math.max(0, this.#tat - this.#toleranceMs - nowMs, this.#lastTakeMs + this.#minGapMs - nowMs);
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
    this.#lastTakeMs = nowMs;
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
    // With burst 1, a catch-up start keeps half an interval from the previous one. Below ~4 ms
    // intervals timers cannot be that precise, and catching up within a tick is the lesser evil.
    this.#minGapMs = this.#burst === 1 && interval >= 4 ? interval / 2 : 0;
    this.#lastTakeMs = -Infinity; // a new rate starts a new schedule
    this.#tat = debt > 0 && oldInterval > 0 ? nowMs + (debt * interval) / oldInterval : nowMs;
  }
}
