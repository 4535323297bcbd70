import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Metrics } from '../../src/metrics.js';
import type { Result } from '../../src/result.js';

function result(over: Partial<Result>): Result {
  return { line: 1, url: 'http://a.test/', host: 'a.test', status: 200, ok: true, bytes: 0, attempts: 1, ms: 1, wait_ms: 0, error: null, ...over };
}

/** HdrHistogram with 3 significant digits: within 0.1% (plus the 0.001 ms unit). */
function expectNear(actual: number | null | undefined, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * 0.001 + 1);
}

describe('Metrics.write', () => {
  it.each([
    { name: 'ok', r: result({}), ok: 1, failed: 0, invalid: 0 },
    { name: 'http 404 is failed', r: result({ status: 404, ok: false }), ok: 0, failed: 1, invalid: 0 },
    { name: 'timeout is failed', r: result({ status: null, ok: false, error: 'timeout' }), ok: 0, failed: 1, invalid: 0 },
    { name: 'cancelled before any attempt', r: result({ status: null, ok: false, attempts: 0, error: 'cancelled' }), ok: 0, failed: 1, invalid: 0 },
    { name: 'invalid url is invalid, not failed', r: result({ host: '', status: null, ok: false, attempts: 0, error: 'invalid_url' }), ok: 0, failed: 0, invalid: 1 },
  ])('$name', ({ r, ok, failed, invalid }) => {
    const m = new Metrics({ clock: new ManualClock() });
    m.write(r);
    expect({ total: m.total, ok: m.ok, failed: m.failed, invalid: m.invalid }).toEqual({ total: 1, ok, failed, invalid });
  });

  it('counts bytes, retries, final statuses and errors', () => {
    const m = new Metrics({ clock: new ManualClock() });
    const results = [
      result({ bytes: 100, attempts: 1 }),
      result({ bytes: 50, attempts: 3 }),
      result({ status: 503, ok: false, attempts: 4, bytes: 7 }),
      result({ status: null, ok: false, attempts: 2, error: 'timeout' }),
      result({ status: null, ok: false, attempts: 0, error: 'cancelled' }),
      result({ host: '', status: null, ok: false, attempts: 0, error: 'invalid_url' }),
    ];
    for (const r of results) m.write(r);
    expect(m.bytes).toBe(157);
    expect(m.retries).toBe(0 + 2 + 3 + 1); // attempts 10 minus 4 URLs that made an attempt
    expect(Object.fromEntries(m.statusCounts())).toEqual({ 200: 2, 503: 1 });
    expect(Object.fromEntries(m.errorCounts())).toEqual({ timeout: 1, cancelled: 1, invalid_url: 1 });
    expect(m.total).toBe(m.ok + m.failed + m.invalid);
    // invalid URLs have no host entry
    expect([...m.hosts()].map((h) => h.host)).toEqual(['a.test']);
  });
});

describe('Metrics.recordAttempt', () => {
  it('puts only attempts with a response into the histograms', () => {
    const m = new Metrics({ clock: new ManualClock() });
    m.recordAttempt('a.test', null, null);
    m.recordAttempt('a.test', 10, 200);
    m.recordAttempt('b.test', null, null);
    expect(m.attempts).toBe(3);
    expect(m.latencyUs()?.count).toBe(1);
    const hosts = new Map([...m.hosts()].map((h) => [h.host, h]));
    expect(hosts.get('a.test')?.requests).toBe(2);
    expect(hosts.get('a.test')?.percentileUs(50)).toBe(10_000);
    expect(hosts.get('b.test')?.requests).toBe(1);
    expect(hosts.get('b.test')?.percentileUs(50)).toBeNull();
    expect(Object.fromEntries(m.attemptStatusCounts())).toEqual({ 200: 1 });
  });

  it('per-host percentiles agree whether the host got a flat histogram (first 256 hosts) or a packed one', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (let h = 0; h < 300; h++) for (let ms = 1; ms <= 100; ms++) m.recordAttempt(`h${h}.test`, ms, 200);
    const hosts = [...m.hosts()];
    expect(hosts.filter((h) => h.packed)).toHaveLength(300 - 256);
    for (const h of hosts) {
      expect(h.percentileUs(50)).toBe(hosts[0]!.percentileUs(50));
      expect(h.percentileUs(99)).toBe(hosts[0]!.percentileUs(99));
    }
    expect(Math.abs(hosts[0]!.percentileUs(50)! - 50_000)).toBeLessThanOrEqual(500); // 2 significant digits
  });

  it('has no latency without responses', () => {
    const m = new Metrics({ clock: new ManualClock() });
    expect(m.latencyUs()).toBeNull();
    expect(m.snapshot()).toEqual({ done: 0, ok: 0, failed: 0, invalid: 0, attempts: 0, p50Ms: null, p99Ms: null });
  });

  it('tracks first and last attempt time per host on the injected clock', () => {
    const clock = new ManualClock(1000);
    const m = new Metrics({ clock });
    m.recordAttempt('a.test', 1, 200);
    clock.advance(500);
    m.recordAttempt('a.test', null, null);
    clock.advance(500);
    m.recordAttempt('a.test', 1, 200);
    const [h] = [...m.hosts()];
    expect([h?.firstAttemptMs, h?.lastAttemptMs]).toEqual([1000, 2000]);
  });

  it('summarises known samples: 1..1000 ms', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (let ms = 1; ms <= 1000; ms++) m.recordAttempt('a.test', ms, 200);
    const l = m.latencyUs();
    expect(l?.count).toBe(1000);
    expect(l?.min).toBe(1000); // exact
    expect(l?.max).toBe(1_000_000); // exact
    expect(l?.mean).toBe(500_500); // exact
    expectNear(l?.p50, 500_000);
    expectNear(l?.p90, 900_000);
    expectNear(l?.p95, 950_000);
    expectNear(l?.p99, 990_000);
    expectNear(l?.p999, 999_000);
    expect(l!.p999).toBeLessThanOrEqual(l!.max);
  });

  it.each([
    { latencyMs: 0, us: 0 },
    { latencyMs: 0.0004, us: 0 },
    { latencyMs: 1.2345, us: 1235 },
    { latencyMs: 10 * 3600_000, us: 3_600_000_000 }, // clamped to the histogram range (1 h)
  ])('records $latencyMs ms as $us µs', ({ latencyMs, us }) => {
    const m = new Metrics({ clock: new ManualClock() });
    m.recordAttempt('a.test', latencyMs, 200);
    expect(m.latencyUs()?.max).toBe(us);
  });
});

describe('Metrics.snapshot', () => {
  it('reports live counts and percentiles in ms', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (let i = 1; i <= 100; i++) m.recordAttempt('a.test', i, 200);
    m.write(result({}));
    m.write(result({ ok: false, status: 500 }));
    const s = m.snapshot();
    expect({ done: s.done, ok: s.ok, failed: s.failed, attempts: s.attempts }).toEqual({ done: 2, ok: 1, failed: 1, attempts: 100 });
    expectNear((s.p50Ms ?? 0) * 1000, 50_000);
    expectNear((s.p99Ms ?? 0) * 1000, 99_000);
  });
});
