/**
 * Adaptive politeness (--adaptive): AIMD on a host's start rate, as TCP does with its window.
 * A throttle (429/503) halves the rate; each good answer adds a little, about 5% per second at
 * high rates and at least +1/s per second at low ones, never above the ceiling (--per-host-rate).
 * Pure: the scheduler keeps the state and applies the rate.
 */

/** Never slower than one start every ten seconds: a host that throttles everything still gets probed. */
export const MIN_ADAPTIVE_RATE = 0.1;

/** The rate after a throttle. `observedPerSec`: what the host was actually getting (when it had no limit yet). */
export function cutRate(currentPerSec: number, observedPerSec: number): number {
  const base = Math.min(currentPerSec, observedPerSec);
  return Math.max(MIN_ADAPTIVE_RATE, (Number.isFinite(base) ? base : 1) / 2);
}

/** The rate after a good answer (an unlimited rate stays unlimited). */
export function growRate(currentPerSec: number, ceilingPerSec: number): number {
  if (!Number.isFinite(currentPerSec)) return currentPerSec;
  const next = currentPerSec + Math.max(1 / currentPerSec, 0.05);
  return Math.min(next, ceilingPerSec);
}

/** Smoothed gap between a host's starts, for its observed rate (an EWMA: recent gaps weigh most). */
export function nextGapEwma(ewmaMs: number, gapMs: number): number {
  return Number.isFinite(ewmaMs) ? 0.8 * ewmaMs + 0.2 * gapMs : gapMs;
}
