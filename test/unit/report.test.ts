import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Metrics } from '../../src/metrics.js';
import { buildReport, rateWarnings, type Report } from '../../src/report.js';
import { formatBytes, formatReportText, formatSeconds } from '../../src/report-text.js';
import type { Result } from '../../src/result.js';

const ANSI = /\x1b\[/;

function result(over: Partial<Result>): Result {
  return { line: 1, url: 'http://a.test/', host: 'a.test', status: 200, ok: true, bytes: 10, attempts: 1, ms: 1, wait_ms: 0, error: null, ...over };
}

/** A run with a mix of outcomes; latencies 1..n ms on host a.test. */
function sampleMetrics(outcomes: { ok: number; failed: number; invalid: number }, latencies = 0): Metrics {
  const m = new Metrics({ clock: new ManualClock() });
  for (let ms = 1; ms <= latencies; ms++) m.recordAttempt('a.test', ms, 200);
  for (let i = 0; i < outcomes.ok; i++) m.write(result({}));
  for (let i = 0; i < outcomes.failed; i++) m.write(result({ status: null, ok: false, error: 'timeout', attempts: 2 }));
  for (let i = 0; i < outcomes.invalid; i++) m.write(result({ host: '', status: null, ok: false, attempts: 0, error: 'invalid_url' }));
  return m;
}

function hostsMetrics(hostCount: number): Metrics {
  const m = new Metrics({ clock: new ManualClock() });
  for (let h = 0; h < hostCount; h++) {
    // host h gets h+1 requests, so the busiest is the last one
    for (let i = 0; i <= h; i++) m.recordAttempt(`h${String(h).padStart(2, '0')}.test`, 5, 200);
  }
  return m;
}

describe('buildReport', () => {
  it.each([
    { ok: 0, failed: 0, invalid: 0 },
    { ok: 5, failed: 0, invalid: 0 },
    { ok: 3, failed: 2, invalid: 1 },
    { ok: 0, failed: 0, invalid: 4 },
  ])('keeps total = ok + failed + invalid for $ok/$failed/$invalid', (outcomes) => {
    const r = buildReport(sampleMetrics(outcomes), { durationS: 1 });
    expect(r.total).toBe(outcomes.ok + outcomes.failed + outcomes.invalid);
    expect(r.total).toBe(r.ok + r.failed + r.invalid);
    expect([r.ok, r.failed, r.invalid]).toEqual([outcomes.ok, outcomes.failed, outcomes.invalid]);
  });

  it.each([
    ['p50', 500],
    ['p90', 900],
    ['p95', 950],
    ['p99', 990],
    ['p999', 999],
  ] as const)('%s of 1..1000 ms is %d ms within HdrHistogram precision', (key, expected) => {
    const r = buildReport(sampleMetrics({ ok: 1, failed: 0, invalid: 0 }, 1000), { durationS: 1 });
    const actual = r.latency_ms[key] as number;
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected * 0.001 + 0.01);
  });

  it('has exact min, mean and max, rounded to 0.01 ms', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (const ms of [1.234, 2.5, 10.001]) m.recordAttempt('a.test', ms, 200);
    const l = buildReport(m, { durationS: 1 }).latency_ms;
    expect([l.count, l.min, l.mean, l.max]).toEqual([3, 1.23, 4.58, 10]);
  });

  it('reports null latencies (not 0) when no attempt got a response', () => {
    const m = new Metrics({ clock: new ManualClock() });
    m.recordAttempt('a.test', null, null);
    m.write(result({ status: null, ok: false, error: 'connect_refused' }));
    const r = buildReport(m, { durationS: 2 });
    expect(r.latency_ms).toEqual({ count: 0, min: null, mean: null, p50: null, p90: null, p95: null, p99: null, p999: null, max: null });
    expect(r.hosts).toEqual({ 'a.test': { host: 'a.test', requests: 1, ok: 0, failed: 1, throttled: 0, p50: null, p99: null, rps: null } });
    expect(r.errors).toEqual({ connect_refused: 1 });
  });

  it.each([
    { durationS: 2, attempts: 10, urls: 4, rps: 5, urlsPerS: 2 },
    { durationS: 3, attempts: 10, urls: 10, rps: 3.33, urlsPerS: 3.33 },
    { durationS: 0, attempts: 10, urls: 10, rps: 0, urlsPerS: 0 },
  ])('rates over $durationS s', ({ durationS, attempts, urls, rps, urlsPerS }) => {
    const m = new Metrics({ clock: new ManualClock() });
    for (let i = 0; i < attempts; i++) m.recordAttempt('a.test', 1, 200);
    for (let i = 0; i < urls; i++) m.write(result({}));
    const r = buildReport(m, { durationS });
    expect([r.rps, r.urls_per_s, r.duration_s]).toEqual([rps, urlsPerS, durationS]);
  });

  it('computes per-host rps between first and last attempt, busiest host first', () => {
    const clock = new ManualClock();
    const m = new Metrics({ clock });
    for (let i = 0; i < 11; i++) {
      m.recordAttempt('busy.test', 2, 200);
      clock.advance(100); // 11 attempts over 1 s = 10/s
    }
    m.recordAttempt('once.test', 3, 200);
    const r = buildReport(m, { durationS: 1.2, startedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
    expect(Object.values(r.hosts).map((h) => [h.host, h.requests, h.rps])).toEqual([
      ['busy.test', 11, 10],
      ['once.test', 1, null],
    ]);
    expect(r.started_at).toBe('2024-01-02T03:04:05.000Z');
  });

  it('orders status codes numerically and errors by count', () => {
    const m = new Metrics({ clock: new ManualClock() });
    for (const status of [503, 200, 404, 200]) m.write(result({ status, ok: status === 200 }));
    for (const error of ['dns', 'timeout', 'timeout'] as const) m.write(result({ status: null, ok: false, error }));
    const r = buildReport(m, { durationS: 1 });
    expect(Object.entries(r.status)).toEqual([['200', 2], ['404', 1], ['503', 1]]);
    expect(Object.entries(r.errors)).toEqual([['timeout', 2], ['dns', 1]]);
  });

  it('is plain JSON', () => {
    const r = buildReport(sampleMetrics({ ok: 2, failed: 1, invalid: 1 }, 10), { durationS: 1 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('holds every host in JSON', () => {
    expect(Object.keys(buildReport(hostsMetrics(25), { durationS: 1 }).hosts)).toHaveLength(25);
  });
});

describe('formatReportText', () => {
  const report: Report = buildReport(sampleMetrics({ ok: 3, failed: 2, invalid: 1 }, 100), { durationS: 2 });

  it('has no ANSI codes when color is false, and some when true', () => {
    expect(formatReportText(report, { color: false })).not.toMatch(ANSI);
    expect(formatReportText(report, { color: true })).toMatch(ANSI);
  });

  it('shows the sections', () => {
    const text = formatReportText(report, { color: false });
    for (const label of ['Requests', 'Duration', 'Throughput', 'Latency', 'Status', 'Attempts', 'Errors', 'Hosts']) {
      expect(text).toMatch(new RegExp(`^${label} `, 'm'));
    }
    expect(text).toContain('6 URLs: 3 ok, 2 failed, 1 invalid; 100 attempts, 2 retries');
    expect(text).toContain('timeout: 2');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('aligns latency values under their titles', () => {
    const lines = formatReportText(report, { color: false }).split('\n');
    const i = lines.findIndex((l) => l.startsWith('Latency'));
    const titles = lines[i]!;
    const values = lines[i + 1]!;
    for (const title of ['min', 'p50', 'p99.9', 'max']) {
      const end = titles.indexOf(` ${title} `) + title.length + 1;
      expect(values[end - 1]).toMatch(/\d/);
      expect(values[end] ?? ' ').toBe(' ');
    }
  });

  it('says so when there was no response', () => {
    const text = formatReportText(buildReport(sampleMetrics({ ok: 0, failed: 1, invalid: 0 }), { durationS: 1 }), { color: false });
    expect(text).toMatch(/^Latency +no responses$/m);
  });

  it.each([
    { hosts: 25, maxHosts: undefined, rows: 20, title: 'top 20 of 25 by requests', more: '... and 5 more hosts' },
    { hosts: 5, maxHosts: undefined, rows: 5, title: '5 by requests', more: null },
    { hosts: 25, maxHosts: 3, rows: 3, title: 'top 3 of 25 by requests', more: '... and 22 more hosts' },
  ])('cuts $hosts hosts to $rows rows', ({ hosts, maxHosts, rows, title, more }) => {
    const r = buildReport(hostsMetrics(hosts), { durationS: 1 });
    const text = formatReportText(r, maxHosts === undefined ? { color: false } : { color: false, maxHosts });
    const hostRows = text.split('\n').filter((l) => /^ {2}h\d\d\.test /.test(l));
    expect(hostRows).toHaveLength(rows);
    expect(hostRows[0]).toMatch(new RegExp(`^  h${String(hosts - 1).padStart(2, '0')}\\.test +${hosts} `)); // busiest first
    expect(text).toContain(title);
    if (more) expect(text).toContain(more);
    else expect(text).not.toContain('more hosts');
  });
});

describe('units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 * 1024, '5.0 MiB'],
  ])('formatBytes(%d) = %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [0.1234, '0.123s'],
    [12.345, '12.35s'],
  ])('formatSeconds(%d) = %s', (s, text) => expect(formatSeconds(s)).toBe(text));
});

describe('schedule and coordinated omission', () => {
  const limits = { ratePerSec: 100, perHostRatePerSec: Infinity, concurrency: 10, perHost: 10 };

  it('reports corrected latency from the intended start, and late starts', () => {
    const clock = new ManualClock();
    const m = new Metrics({ clock });
    m.recordStart(0, 0);
    m.recordAttempt('a.test', 10, 200, 10);
    m.recordStart(10, 50); // started 50 ms after it was scheduled
    m.recordAttempt('a.test', 10, 200, 60);
    const r = buildReport(m, { durationS: 1, limits });
    expect(r.latency_ms.max).toBeCloseTo(10, 1);
    expect(r.latency_corrected_ms.max).toBeCloseTo(60, 0);
    expect(r.schedule).toMatchObject({ rate_per_s: 100, starts: 2, late_starts: 1, late_max_ms: 50 });
  });

  it('corrected equals measured latency when nothing is scheduled', () => {
    const m = new Metrics({ clock: new ManualClock() });
    m.recordAttempt('a.test', 12, 200);
    const r = buildReport(m, { durationS: 1 });
    expect(r.latency_corrected_ms).toEqual(r.latency_ms);
    expect(r.schedule.rate_per_s).toBeNull();
  });

  function reportWith(achieved: number, meanMs: number, hosts = 1): Report {
    const m = new Metrics({ clock: new ManualClock() });
    for (let i = 0; i < 100; i++) {
      m.recordStart((i * 1000) / achieved, 0);
      m.recordAttempt(`h${i % hosts}.test`, meanMs, 200);
    }
    return buildReport(m, { durationS: 100 / achieved, limits });
  }

  it.each([
    { name: 'achieved: no warning', achieved: 99.5, meanMs: 5, lim: limits, match: null },
    { name: 'concurrency cap (Little)', achieved: 50, meanMs: 200, lim: limits, match: /concurrency cap: -c 10 .* raise --concurrency to at least 20/ },
    { name: 'per-host cap', achieved: 50, meanMs: 200, lim: { ...limits, concurrency: 100, perHost: 2 }, match: /per-host cap/ },
    { name: 'per-host rate', achieved: 50, meanMs: 1, lim: { ...limits, perHostRatePerSec: 50 }, match: /--per-host-rate 50\/s over 1 hosts/ },
    { name: 'client or server', achieved: 50, meanMs: 1, lim: limits, match: /could not keep up/ },
  ])('$name', ({ achieved, meanMs, lim, match }) => {
    const r = reportWith(achieved, meanMs);
    const w = rateWarnings(r, lim);
    if (match === null) expect(w).toEqual([]);
    else expect(w[0]).toMatch(match);
  });
});
