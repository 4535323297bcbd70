import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../src/random.js';
import { TokenBucket } from '../../src/token-bucket.js';

/** A greedy caller that takes the moment it is allowed: the first `n` start times from t=0. */
function greedyStarts(ratePerSec: number, burst: number, n: number): number[] {
  const b = new TokenBucket(ratePerSec, burst, 0);
  const out: number[] = [];
  let t = 0;
  while (out.length < n) {
    t += b.delayMs(t);
    b.take(t);
    out.push(t);
  }
  return out;
}

/**
 * A caller driven by a timer that always fires `lateMs` after the bucket allowed the take, and
 * passes the lateness (or not) as credit. Returns the start times up to `untilMs`.
 */
function lateTimerStarts(ratePerSec: number, burst: number, lateMs: number, untilMs: number, credit: boolean): number[] {
  const b = new TokenBucket(ratePerSec, burst, 0, credit ? 25 : 0);
  const out: number[] = [];
  let t = 0;
  for (;;) {
    const delay = b.delayMs(t);
    const fireAt = delay > 0 ? t + delay + lateMs : t; // only a wait goes through the (late) timer
    if (fireAt > untilMs) return out;
    if (delay > 0) b.expectTake();
    b.take(fireAt);
    out.push(fireAt);
    t = fireAt;
  }
}

/** Max number of starts in any closed window [s, s + windowMs]; a window worth checking starts at a start. */
function maxInWindow(starts: number[], windowMs: number): number {
  let max = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    if (j < i) j = i;
    while (j < starts.length && starts[j]! <= starts[i]! + windowMs + 1e-9) j++;
    max = Math.max(max, j - i);
  }
  return max;
}


describe('TokenBucket: greedy start times', () => {
  it.each<[string, number, number, number[]]>([
    ['10/s burst 1: one per 100 ms', 10, 1, [0, 100, 200, 300, 400]],
    ['1000/s burst 1: one per ms', 1000, 1, [0, 1, 2, 3]],
    ['10/s burst 3: three at once, then spaced', 10, 3, [0, 0, 0, 100, 200, 300]],
    ['2/s burst 5', 2, 5, [0, 0, 0, 0, 0, 500, 1000]],
    ['0.5/s burst 1: one per 2 s', 0.5, 1, [0, 2000, 4000, 6000]],
    ['0.5/s burst 2', 0.5, 2, [0, 0, 2000, 4000]],
    ['0.1/s burst 1', 0.1, 1, [0, 10_000, 20_000]],
    ['burst 0 behaves as 1', 10, 0, [0, 100, 200]],
  ])('%s', (_name, rate, burst, expected) => {
    const starts = greedyStarts(rate, burst, expected.length);
    expect(starts).toHaveLength(expected.length);
    starts.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 6));
  });

  it('3/s: fractional intervals, no rounding drift after 3000 starts', () => {
    const starts = greedyStarts(3, 1, 3001);
    expect(starts[1]).toBeCloseTo(1000 / 3, 9);
    expect(starts[3000]).toBeCloseTo(1_000_000, 6);
  });

  it('Infinity: never waits, takes are free', () => {
    const b = new TokenBucket(Infinity, 1, 0);
    expect(b.ratePerSec).toBe(Infinity);
    for (let i = 0; i < 1000; i++) {
      expect(b.delayMs(0)).toBe(0);
      b.take(0);
    }
    expect(b.tryTake(0)).toBe(true);
  });

  it.each([0, -1, NaN, -Infinity])('rejects rate %s', (rate) => {
    expect(() => new TokenBucket(rate, 1, 0)).toThrow(RangeError);
  });

  it('reports its rate', () => {
    expect(new TokenBucket(250, 1, 0).ratePerSec).toBeCloseTo(250, 9);
    expect(new TokenBucket(0.5, 1, 0).ratePerSec).toBeCloseTo(0.5, 9);
  });
});

describe('TokenBucket: tryTake and idle refill', () => {
  it('tryTake consumes only when allowed', () => {
    const b = new TokenBucket(10, 2, 0);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, false]);
    expect(b.delayMs(0)).toBeCloseTo(100, 9);
    expect(b.tryTake(99)).toBe(false);
    expect(b.delayMs(99)).toBeCloseTo(1, 9); // a refused try does not consume
    expect(b.tryTake(100)).toBe(true);
    expect(b.tryTake(100)).toBe(false);
  });

  it('an idle bucket refills to burst, never beyond', () => {
    const b = new TokenBucket(10, 3, 0);
    let n = 0;
    while (b.tryTake(0)) n++;
    expect(n).toBe(3);
    n = 0;
    while (b.tryTake(60_000)) n++; // a minute idle at 10/s would be 600 tokens without the cap
    expect(n).toBe(3);
  });

  it('delayMs is never negative', () => {
    const b = new TokenBucket(10, 1, 0);
    b.take(0);
    expect(b.delayMs(10_000)).toBe(0);
  });
});

describe('TokenBucket: late timer credit', () => {
  it.each<[number, number]>([
    [100, 1],
    [1000, 1],
    [37, 1],
    [100, 4],
    [0.5, 1],
  ])('%s/s burst %s, timer always 0.3 ms late: achieved = rate * time within 1 over 1000+ starts', (rate, burst) => {
    const untilMs = (1010 / rate) * 1000;
    const starts = lateTimerStarts(rate, burst, 0.3, untilMs, true);
    expect(starts.length).toBeGreaterThanOrEqual(1000);
    // Ideal: burst at t=0, then rate per second: 1 + rate*T/1000 starts in [0, T] for burst 1.
    const ideal = burst - 1 + Math.floor((untilMs * rate) / 1000) + 1;
    expect(Math.abs(starts.length - ideal)).toBeLessThanOrEqual(1);
  });

  it('without the credit, the same late timer loses capacity (the test above can fail)', () => {
    const untilMs = 10_100; // 1000/s ideal at 1000/s would be ~10100 starts
    const starts = lateTimerStarts(1000, 1, 0.3, untilMs, false);
    expect(starts.length).toBeLessThan(0.8 * 10_100);
  });

  it('a take late by up to catchUpMs keeps the schedule; a later one restarts it from now', () => {
    const b = new TokenBucket(100, 1, 0, 25); // interval 10 ms
    b.take(0);
    b.expectTake();
    b.take(10.3);
    expect(b.delayMs(10.3)).toBeCloseTo(9.7, 9); // next due at 20, not 20.3
    b.expectTake();
    b.take(20);
    expect(b.delayMs(20)).toBeCloseTo(10, 9);
    b.expectTake();
    b.take(1000); // awaited, but ~1 s late: a stall, not a late timer: no credit, no burst
    expect(b.delayMs(1000)).toBeCloseTo(10, 9);
    b.take(1012); // nobody waited (idle after the token came at 1010): restart from now
    expect(b.delayMs(1012)).toBeCloseTo(10, 9);
  });

  it('the window invariant holds with late-timer credit', () => {
    const starts = lateTimerStarts(100, 1, 0.3, 10_000, true);
    for (const w of [0, 5, 10, 50, 1000]) expect(maxInWindow(starts, w)).toBeLessThanOrEqual(1 + (w * 100) / 1000 + 1e-9);
  });
});

describe('TokenBucket: setRate mid-run', () => {
  it('speeding up 10/s -> 100/s: debt is rescaled so the new spacing applies from now', () => {
    const b = new TokenBucket(10, 1, 0);
    b.take(1000); // next due at 1100 at 10/s
    b.setRate(100, 1000);
    expect(b.delayMs(1000)).toBeCloseTo(10, 9);
    expect(b.ratePerSec).toBeCloseTo(100, 9);
  });

  it('slowing down 100/s -> 1/s: the next start waits a full new interval', () => {
    const b = new TokenBucket(100, 1, 0);
    b.take(500);
    b.setRate(1, 500);
    expect(b.delayMs(500)).toBeCloseTo(1000, 9);
  });

  it('a change on an idle bucket carries no debt', () => {
    const b = new TokenBucket(10, 1, 0);
    b.take(0);
    b.setRate(1, 5000);
    expect(b.delayMs(5000)).toBe(0);
  });

  it('Infinity and back: unlimited meanwhile, then limited from the change on', () => {
    const b = new TokenBucket(10, 1, 0);
    b.take(0);
    b.setRate(Infinity, 10);
    for (let i = 0; i < 50; i++) expect(b.tryTake(10)).toBe(true);
    b.setRate(10, 20);
    expect(b.tryTake(20)).toBe(true);
    expect(b.delayMs(20)).toBeCloseTo(100, 9);
  });

  it('setRate rejects a non-positive rate and keeps the old one', () => {
    const b = new TokenBucket(10, 1, 0);
    expect(() => b.setRate(0, 0)).toThrow(RangeError);
    expect(b.ratePerSec).toBeCloseTo(10, 9);
  });

  it('over a greedy run, each phase achieves its own rate', () => {
    const b = new TokenBucket(10, 1, 0);
    const starts: number[] = [];
    let t = 0;
    for (;;) {
      if (t >= 2000) break;
      if (t >= 1000 && b.ratePerSec < 50) b.setRate(100, 1000);
      const d = b.delayMs(t);
      if (d > 0) {
        // Stop at the phase boundary so setRate happens at exactly t=1000.
        t = t < 1000 && t + d > 1000 ? 1000 : t + d;
        continue;
      }
      b.take(t);
      starts.push(t);
    }
    const first = starts.filter((s) => s < 1000).length;
    const second = starts.filter((s) => s >= 1000).length;
    expect(first).toBe(10);
    expect(Math.abs(second - 100)).toBeLessThanOrEqual(1);
  });
});

describe('TokenBucket: window invariant over simulated runs', () => {
  // Callers arrive at irregular times (bursts of demand, idle gaps) and take whenever allowed.
  it.each<[number, number]>([
    [100, 1],
    [100, 5],
    [7, 1],
    [7, 3],
    [0.5, 2],
    [1000, 10],
  ])('rate %s/s burst %s: at most burst + W*rate/1000 starts in any window W', (rate, burst) => {
    const b = new TokenBucket(rate, burst, 0);
    const rnd = prng(rate * 1000 + burst);
    const horizon = (2000 / rate) * 1000; // about 2000 intervals
    const starts: number[] = [];
    let t = 0;
    while (t < horizon) {
      const demand = rnd() < 0.8 ? 1 + Math.floor(rnd() * 2 * burst) : 0;
      for (let i = 0; i < demand; i++) if (b.tryTake(t)) starts.push(t);
      t += rnd() * (rnd() < 0.1 ? 20_000 / rate : 2000 / rate);
    }
    expect(starts.length).toBeGreaterThan(100);
    const interval = 1000 / rate;
    for (const w of [0, interval / 2, interval, 3.5 * interval, 10 * interval, 100 * interval]) {
      expect(maxInWindow(starts, w)).toBeLessThanOrEqual(burst + (w * rate) / 1000 + 1e-6);
    }
  });
});
