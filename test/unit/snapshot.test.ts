import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Metrics } from '../../src/metrics.js';
import { snapshotLine } from '../../src/snapshot.js';

describe('snapshotLine', () => {
  it('covers the interval only, and resets it', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (let i = 1; i <= 100; i++) m.recordAttempt('a.test', i, 200);
    m.recordAttempt('a.test', null, null); // a connection error
    const first = JSON.parse(snapshotLine(m.takeInterval(), { elapsedMs: 2000, intervalMs: 1000, done: 101, inFlight: 3 }));
    expect(first).toMatchObject({ elapsed_s: 2, done: 101, rps: 101, errors: 1, in_flight: 3 });
    expect(first.p50_ms).toBeCloseTo(50, 0);
    expect(first.p99_ms).toBeCloseTo(99, 0);
    const second = JSON.parse(snapshotLine(m.takeInterval(), { elapsedMs: 3000, intervalMs: 1000, done: 101, inFlight: 0 }));
    expect(second).toMatchObject({ rps: 0, errors: 0, p50_ms: null, p99_ms: null });
  });
});
