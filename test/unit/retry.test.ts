import { describe, expect, it } from 'vitest';
import { backoffMs, decideRetry, parseRetryAfter, type AttemptOutcome, type RetryPolicy } from '../../src/retry.js';
import type { ErrorCode } from '../../src/result.js';

const policy: RetryPolicy = { retries: 3, retryBaseMs: 100, retryMaxMs: 10_000 };
const NOW = Date.parse('2025-03-01T12:00:00Z');
const fixed = (v: number) => () => v;
const httpDate = (ms: number): string => new Date(ms).toUTCString();

const status = (s: number, retryAfter: string | null = null): AttemptOutcome => ({ status: s, error: null, retryAfter });
const failure = (error: ErrorCode): AttemptOutcome => ({ status: null, error, retryAfter: null });

describe('backoffMs', () => {
  it.each<[number, number, number]>([
    // attempt, random(), expected: random * min(max, base * 2^(attempt-1)), base 100, max 10 s
    [1, 0, 0],
    [1, 0.5, 50],
    [1, 0.999, 99.9],
    [2, 0.5, 100],
    [3, 0.5, 200],
    [4, 0.999, 799.2],
    [7, 0.5, 3200],
    [8, 0.999, 9990], // 12 800 capped at 10 000
    [50, 0.5, 5000],
    [50, 0, 0],
    [0, 0.5, 50], // attempt 0 treated as the first
  ])('attempt %s, random %s -> %s ms', (attempt, r, expected) => {
    expect(backoffMs(policy, attempt, fixed(r))).toBeCloseTo(expected, 6);
  });

  it('stays in [0, min(max, base*2^(n-1))) for every attempt, and its ceiling grows then caps', () => {
    let prevCeiling = 0;
    for (let attempt = 1; attempt <= 40; attempt++) {
      const ceiling = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const d = backoffMs(policy, attempt, fixed(r));
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
      const top = backoffMs(policy, attempt, fixed(0.999));
      expect(top).toBeGreaterThanOrEqual(prevCeiling * 0.999 - 1e-9);
      expect(top).toBeLessThanOrEqual(policy.retryMaxMs);
      prevCeiling = ceiling;
    }
  });
});

describe('parseRetryAfter', () => {
  it.each<[string, string | null, number | null]>([
    ['absent', null, null],
    ['seconds', '5', 5000],
    ['zero', '0', 0],
    ['padded', '  7 ', 7000],
    ['decimal seconds', '1.5', 1500],
    ['large', '86400', 86_400_000],
    ['HTTP date 30 s ahead', httpDate(NOW + 30_000), 30_000],
    ['HTTP date in the past', httpDate(NOW - 60_000), 0],
    ['HTTP date far in the past', 'Wed, 21 Oct 2015 07:28:00 GMT', 0],
    ['garbage', 'soon', null],
    ['garbage word', 'garbage', null],
    ['negative', '-5', null],
    ['negative decimal', '-0.5', null],
    ['empty', '', null],
    ['whitespace only', '   ', null],
    ['exponent', '1e3', null],
    ['unit suffix', '5s', null],
    ['leading dot', '.5', null],
  ])('%s: %j -> %s', (_name, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  // BUG (src/retry.ts parseRetryAfter, lines 52-53): anything with a letter goes to Date.parse, and
  // V8's lenient legacy parser reads e.g. "in 5" or "retry 10" as a date in 2001, so such garbage
  // gives 0 ms (a past date) instead of the documented null. Low impact (0 and null lead to the
  // same decision today), but it breaks the stated contract.
  it.each<[string]>([['in 5'], ['retry 10']])('garbage with a number %j -> null', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeNull();
  });
});

describe('decideRetry', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries status %s with the backoff delay', (s) => {
    expect(decideRetry(policy, 1, status(s), NOW, fixed(0.5))).toEqual({ retry: true, delayMs: 50, pauseHostMs: 0 });
  });

  it.each([200, 204, 301, 304, 400, 401, 403, 404, 405, 410, 422, 501, 505])('never retries status %s', (s) => {
    expect(decideRetry(policy, 1, status(s), NOW, fixed(0.5))).toEqual({ retry: false, delayMs: 0, pauseHostMs: 0 });
  });

  it.each<ErrorCode>(['timeout', 'connect_refused', 'connection_reset', 'network'])('retries error %s', (e) => {
    expect(decideRetry(policy, 2, failure(e), NOW, fixed(0.5))).toEqual({ retry: true, delayMs: 100, pauseHostMs: 0 });
  });

  it.each<ErrorCode>(['dns', 'tls', 'protocol', 'body_too_large', 'invalid_url', 'cancelled', 'too_many_redirects', 'invalid_redirect'])(
    'never retries error %s',
    (e) => {
      expect(decideRetry(policy, 1, failure(e), NOW, fixed(0.5)).retry).toBe(false);
    },
  );

  it('an error wins over a retryable status (the response was not complete)', () => {
    const d = decideRetry(policy, 1, { status: 503, error: 'body_too_large', retryAfter: '1' }, NOW, fixed(0.5));
    expect(d.retry).toBe(false);
  });

  it.each<[number, boolean]>([
    [1, true],
    [2, true],
    [3, true],
    [4, false],
    [10, false],
  ])('with 3 retries, attempt %s -> retry %s', (attempt, retry) => {
    expect(decideRetry(policy, attempt, status(503), NOW, fixed(0.5)).retry).toBe(retry);
  });

  it('retries 0: the first failure is final', () => {
    expect(decideRetry({ ...policy, retries: 0 }, 1, failure('timeout'), NOW, fixed(0.5)).retry).toBe(false);
  });

  it.each<[string, AttemptOutcome, number, { retry: boolean; delayMs: number; pauseHostMs: number }]>([
    // delay = max(backoff, Retry-After); backoff at attempt 1 with random 0.5 is 50 ms
    ['429 Retry-After longer than backoff', status(429, '2'), 0.5, { retry: true, delayMs: 2000, pauseHostMs: 2000 }],
    ['503 Retry-After shorter than backoff', status(503, '0.01'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 10 }],
    ['503 Retry-After as HTTP date', status(503, httpDate(NOW + 4000)), 0, { retry: true, delayMs: 4000, pauseHostMs: 4000 }],
    ['429 Retry-After 0', status(429, '0'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 0 }],
    ['429 garbage Retry-After: backoff only', status(429, 'soon'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 0 }],
    ['429 Retry-After equal to retryMax: still retried', status(429, '10'), 0.5, { retry: true, delayMs: 10_000, pauseHostMs: 10_000 }],
    ['429 Retry-After over retryMax: give up, pause host for retryMax', status(429, '120'), 0.5, { retry: false, delayMs: 0, pauseHostMs: 10_000 }],
    ['503 date beyond retryMax: give up', status(503, httpDate(NOW + 3_600_000)), 0.5, { retry: false, delayMs: 0, pauseHostMs: 10_000 }],
    ['500 Retry-After ignored', status(500, '30'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 0 }],
    ['502 Retry-After ignored', status(502, '300'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 0 }],
    ['408 Retry-After ignored', status(408, '3'), 0.5, { retry: true, delayMs: 50, pauseHostMs: 0 }],
  ])('%s', (_name, outcome, r, expected) => {
    expect(decideRetry(policy, 1, outcome, NOW, fixed(r))).toEqual(expected);
  });

  it('attempts exhausted on a 429 with Retry-After: no retry, but the host still pauses', () => {
    expect(decideRetry(policy, 4, status(429, '5'), NOW, fixed(0.5))).toEqual({ retry: false, delayMs: 0, pauseHostMs: 5000 });
  });

  it('invariants over many outcomes: delay <= retryMax and pause <= retryMax; no retry means no delay', () => {
    const outcomes: AttemptOutcome[] = [
      ...[408, 429, 500, 503, 404].flatMap((s) => [null, '0', '1', '9.5', '10', '11', '1000', 'x'].map((ra) => status(s, ra))),
      failure('timeout'),
      failure('dns'),
    ];
    for (const o of outcomes) {
      for (let attempt = 1; attempt <= 6; attempt++) {
        for (const r of [0, 0.5, 0.999]) {
          const d = decideRetry(policy, attempt, o, NOW, fixed(r));
          expect(d.delayMs).toBeGreaterThanOrEqual(0);
          expect(d.delayMs).toBeLessThanOrEqual(policy.retryMaxMs);
          expect(d.pauseHostMs).toBeGreaterThanOrEqual(0);
          expect(d.pauseHostMs).toBeLessThanOrEqual(policy.retryMaxMs);
          if (!d.retry) expect(d.delayMs).toBe(0);
          if (d.retry) expect(attempt).toBeLessThanOrEqual(policy.retries);
        }
      }
    }
  });
});
