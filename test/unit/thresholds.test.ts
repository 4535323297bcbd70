import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/io.js';
import type { Report } from '../../src/report.js';
import { checkThresholds, exitCode, formatBreach, formatUnchecked, parseFailOn, uncheckedRules, type Breach } from '../../src/thresholds.js';

const noLatency = { count: 0, min: null, mean: null, p50: null, p90: null, p95: null, p99: null, p999: null, max: null };

function report(over: Partial<Report> = {}): Report {
  return {
    started_at: null,
    total: 100,
    ok: 97,
    failed: 2,
    invalid: 1,
    attempts: 110,
    retries: 10,
    duration_s: 10,
    rps: 11,
    urls_per_s: 10,
    bytes: 0,
    latency_ms: { count: 105, min: 1, mean: 50, p50: 40, p90: 120, p95: 200, p99: 312.4, p999: 400, max: 500 },
    status: {},
    attempt_status: {},
    errors: {},
    hosts: [],
    ...over,
  };
}

describe('parseFailOn', () => {
  it.each([
    ['p99>250ms', { metric: 'p99', op: '>', value: 250, text: 'p99>250ms' }],
    ['p99>250', { metric: 'p99', op: '>', value: 250, text: 'p99>250' }],
    ['p95 >= 0.5s', { metric: 'p95', op: '>=', value: 500, text: 'p95>=0.5s' }],
    ['max>1500us', { metric: 'max', op: '>', value: 1.5, text: 'max>1500us' }],
    ['max=1.005s', { metric: 'max', op: '=', value: 1005, text: 'max=1.005s' }],
    ['max=1234us', { metric: 'max', op: '=', value: 1.234, text: 'max=1234us' }],
    ['P99.9 > 1s', { metric: 'p999', op: '>', value: 1000, text: 'P99.9>1s' }],
    ['mean<=.5ms', { metric: 'mean', op: '<=', value: 0.5, text: 'mean<=.5ms' }],
    ['error-rate>1%', { metric: 'error-rate', op: '>', value: 0.01, text: 'error-rate>1%' }],
    ['error_rate>0.05', { metric: 'error-rate', op: '>', value: 0.05, text: 'error_rate>0.05' }],
    ['rps<100', { metric: 'rps', op: '<', value: 100, text: 'rps<100' }],
    ['rps<100/s', { metric: 'rps', op: '<', value: 100, text: 'rps<100/s' }],
    ['urls-per-s < 20', { metric: 'urls-per-s', op: '<', value: 20, text: 'urls-per-s<20' }],
    ['failed>0', { metric: 'failed', op: '>', value: 0, text: 'failed>0' }],
    ['invalid!=0', { metric: 'invalid', op: '!=', value: 0, text: 'invalid!=0' }],
    ['total==0', { metric: 'total', op: '=', value: 0, text: 'total==0' }],
    ['ok=5', { metric: 'ok', op: '=', value: 5, text: 'ok=5' }],
    ['retries>10', { metric: 'retries', op: '>', value: 10, text: 'retries>10' }],
    ['attempts>=1000', { metric: 'attempts', op: '>=', value: 1000, text: 'attempts>=1000' }],
  ])('parses %j', (text, rule) => {
    expect(parseFailOn(text)).toEqual([rule]);
  });

  it('parses a comma-separated list in order, whitespace tolerated', () => {
    const rules = parseFailOn(' p99>250ms , error-rate>1%,rps<100,failed>0 ');
    expect(rules.map((r) => r.text)).toEqual(['p99>250ms', 'error-rate>1%', 'rps<100', 'failed>0']);
  });

  it.each([
    ['', /invalid --fail-on "": expected rules/],
    [' , ', /invalid --fail-on/],
    ['p98>1ms', /rule "p98>1ms": unknown metric "p98"/],
    ['latency>1ms', /unknown metric "latency"/],
    ['p99~250', /rule "p99~250": expected METRIC OP VALUE/],
    ['p99>', /expected METRIC OP VALUE/],
    ['p99>-1', /expected METRIC OP VALUE/],
    ['p99>abc', /expected METRIC OP VALUE/],
    ['p99>1min', /unknown unit "min" for p99/],
    ['error-rate>1ms', /error-rate takes a percentage/],
    ['failed>1%', /failed takes a plain number/],
    ['rps<100ms', /rps takes a number per second/],
    ['p99>1ms,', /rule "": expected METRIC OP VALUE/],
    ['p99>1ms,,failed>0', /rule "": expected METRIC OP VALUE/],
  ])('rejects %j', (text, message) => {
    expect(() => parseFailOn(text)).toThrow(UsageError);
    expect(() => parseFailOn(text)).toThrow(message);
  });
});

describe('checkThresholds', () => {
  it.each([
    ['p99>250ms', report(), 312.4],
    ['p99>0.3s', report(), 312.4],
    ['p99>400ms', report(), null],
    ['p50<=40', report(), 40],
    ['p50<40', report(), null],
    ['max=500', report(), 500],
    ['max!=500', report(), null],
    ['error-rate>1%', report(), 0.03], // (2 failed + 1 invalid) / 100
    ['error-rate>5%', report(), null],
    ['error-rate>=0.03', report(), 0.03],
    ['rps<100', report(), 11],
    ['rps<10', report(), null],
    ['urls-per-s<=10', report(), 10],
    ['failed>0', report(), 2],
    ['failed>0', report({ failed: 0 }), null],
    ['invalid>0', report(), 1],
    ['ok<100', report(), 97],
    ['total=100', report(), 100],
    ['retries>=10', report(), 10],
    ['attempts>200', report(), null],
    // no data: never breached
    ['p99>250ms', report({ latency_ms: noLatency }), null],
    ['p99<250ms', report({ latency_ms: noLatency }), null],
    ['error-rate>=0', report({ total: 0, ok: 0, failed: 0, invalid: 0 }), null],
  ])('%s -> actual %j', (text, r, actual) => {
    const breaches = checkThresholds(parseFailOn(text), r);
    expect(breaches.map((b) => b.actual)).toEqual(actual === null ? [] : [actual]);
  });

  it('returns breaches in rule order', () => {
    const breaches = checkThresholds(parseFailOn('failed>0,p99>250ms,rps<10,invalid>0'), report());
    expect(breaches.map((b) => b.rule.text)).toEqual(['failed>0', 'p99>250ms', 'invalid>0']);
  });

  it('lists rules without data so the CLI can note them', () => {
    const rules = parseFailOn('p99>250ms,failed>0,error-rate>1%');
    expect(uncheckedRules(rules, report()).map((r) => r.text)).toEqual([]);
    expect(uncheckedRules(rules, report({ latency_ms: noLatency })).map(formatUnchecked)).toEqual([
      'threshold not checked: p99>250ms (no responses)',
    ]);
    expect(uncheckedRules(rules, report({ total: 0, ok: 0, failed: 0, invalid: 0, latency_ms: noLatency })).map(formatUnchecked)).toEqual([
      'threshold not checked: p99>250ms (no responses)',
      'threshold not checked: error-rate>1% (no URLs)',
    ]);
  });
});

describe('formatBreach', () => {
  it.each([
    ['p99>250ms', 'threshold breached: p99>250ms (actual 312.4ms)'],
    ['p99 > 0.25 s', 'threshold breached: p99>0.25s (actual 312.4ms)'],
    ['error-rate>1%', 'threshold breached: error-rate>1% (actual 3%)'],
    ['rps<100', 'threshold breached: rps<100 (actual 11)'],
    ['failed>0', 'threshold breached: failed>0 (actual 2)'],
  ])('%s', (text, line) => {
    const [breach] = checkThresholds(parseFailOn(text), report());
    expect(formatBreach(breach!)).toBe(line);
  });

  it('shows error-rate with two decimals of a percent', () => {
    const [breach] = checkThresholds(parseFailOn('error-rate>0'), report({ total: 3, ok: 2 }));
    expect(formatBreach(breach!)).toBe('threshold breached: error-rate>0 (actual 33.33%)');
  });
});

describe('exitCode', () => {
  const breach: Breach = { rule: parseFailOn('failed>0')[0]!, actual: 1 };
  it.each([
    { interrupted: false, breaches: [], code: 0 },
    { interrupted: false, breaches: [breach], code: 1 },
    { interrupted: true, breaches: [], code: 130 },
    { interrupted: true, breaches: [breach], code: 130 },
  ])('interrupted=$interrupted, $breaches.length breaches -> $code', ({ interrupted, breaches, code }) => {
    expect(exitCode({ interrupted, breaches })).toBe(code);
  });
});
