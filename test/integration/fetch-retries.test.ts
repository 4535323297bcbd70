// The retry policy of `ratelimmq fetch` as a user meets it: which failures are retried, how many
// attempts a URL gets, and Retry-After, checked through the CLI (run `npx tsc -p .` first) against
// recording servers. Backoff is kept tiny (--retry-base 1 --retry-max 50) except where Retry-After
// is the point.
import { afterEach, describe, expect, it } from 'vitest';
import {
  failTimesThenOk,
  resetConnection,
  runCli,
  startRecordingServer,
  status,
  withRetryAfter,
  type Handler,
  type RecordingServer,
} from '../helpers/servers.js';
import { closedPort, parseResults } from '../helpers/fetch-helpers.js';

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((s) => s.close()));
});

async function server(handler?: Handler): Promise<RecordingServer> {
  const s = await startRecordingServer(handler);
  toClose.push(s);
  return s;
}

const FAST = ['--retry-base', '1', '--retry-max', '50', '--report', 'none'];

/** Runs one URL through the CLI; returns its single result line. */
async function fetchOne(url: string, args: string[] = []) {
  const r = await runCli(['fetch', ...args], { stdin: `${url}\n` });
  expect(r.code, r.stderr).toBe(0);
  const results = parseResults(r.stdout);
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe('fetch: retries', () => {
  it.each([
    ['503 twice', 2, failTimesThenOk(2, 503)],
    ['500 twice', 2, failTimesThenOk(2, 500)],
    ['the connection closed without an answer twice', 2, failTimesThenOk(2, resetConnection())],
    ['a TCP reset once', 1, failTimesThenOk(1, resetConnection({ hard: true }))],
  ] as const)('%s, then 200: attempts N+1, ok', async (_name, n, handler) => {
    const s = await server(handler);
    const res = await fetchOne(s.url('/flaky'), ['--retries', '2', ...FAST]);
    expect(res).toMatchObject({ status: 200, ok: true, attempts: n + 1, error: null });
    expect(s.requests).toHaveLength(n + 1);
  });

  it('--retries 1 against an endless 503: attempts 2, status 503, not ok', async () => {
    const s = await server(status(503));
    const res = await fetchOne(s.url('/down'), ['--retries', '1', ...FAST]);
    expect(res).toMatchObject({ status: 503, ok: false, attempts: 2, error: null });
    expect(s.requests).toHaveLength(2);
  });

  it('a 404 is final: one attempt, one request', async () => {
    const s = await server(status(404));
    const res = await fetchOne(s.url('/missing'), FAST);
    expect(res).toMatchObject({ status: 404, ok: false, attempts: 1, error: null });
    expect(s.requests).toHaveLength(1);
  });

  it('connection refused: connect_refused after retries + 1 attempts', async () => {
    const port = await closedPort('127.0.0.9');
    const res = await fetchOne(`http://127.0.0.9:${port}/`, ['--retries', '2', ...FAST]);
    expect(res).toMatchObject({ host: '127.0.0.9', status: null, ok: false, attempts: 3, error: 'connect_refused' });
  });
});

describe('fetch: Retry-After', () => {
  it('a 429 with Retry-After: 1 is retried no sooner than a second later', async () => {
    const s = await server(failTimesThenOk(1, withRetryAfter(429, 1)));
    const res = await fetchOne(s.url('/throttled'), ['--retry-base', '1', '--retry-max', '3000', '--report', 'none']);
    expect(res).toMatchObject({ status: 200, ok: true, attempts: 2, error: null });
    expect(s.requests).toHaveLength(2);
    // A lower bound, measured at the server from the 429's arrival: the only timing assertion here.
    expect(s.requests[1]!.atMs - s.requests[0]!.atMs).toBeGreaterThanOrEqual(950);
    expect(res.wait_ms).toBeGreaterThanOrEqual(950);
  });

  it('Retry-After: 3600 beyond the default --retry-max: gives up after one attempt with the 429', async () => {
    const s = await server(withRetryAfter(429, 3600));
    const r = await runCli(['fetch', '--retry-base', '1', '--report', 'json'], { stdin: `${s.url('/later')}\n` });
    expect(r.code).toBe(0);
    expect(parseResults(r.stdout)[0]).toMatchObject({ status: 429, ok: false, attempts: 1, error: null });
    expect(s.requests).toHaveLength(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ total: 1, failed: 1, status: { 429: 1 } });
  });

  it('Retry-After as an HTTP date is honoured', async () => {
    // A date at least 500 ms ahead, on a whole second (HTTP dates have no fractions).
    let retryAt = 0;
    const s = await server(
      failTimesThenOk(1, (req, res, info) => {
        retryAt = Math.ceil((Date.now() + 500) / 1000) * 1000;
        return withRetryAfter(503, new Date(retryAt).toUTCString())(req, res, info);
      }),
    );
    let secondAt = 0;
    s.server.prependListener('request', () => (secondAt = Date.now()));
    const res = await fetchOne(s.url('/dated'), ['--retry-base', '1', '--retry-max', '3000', '--report', 'none']);
    expect(res).toMatchObject({ status: 200, ok: true, attempts: 2, error: null });
    expect(s.requests).toHaveLength(2);
    // Wall clock of the same machine on both sides; 20 ms for timer granularity.
    expect(secondAt).toBeGreaterThanOrEqual(retryAt - 20);
  });
});
