// Spawns the built binary (run `npx tsc -p .` first; `npm test` does).
//
// One run against a host that misbehaves at the byte level (test/helpers/hostile-server.ts): every
// fault must end in the result record the README documents, the report must add up, and a healthy
// host in the same run must not notice. `/huge` gets a run of its own, to watch the client's memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, parseReport, parseResults, startCli, type ResultLine } from '../helpers/fetch-helpers.js';
import { startHostileServer, trackPeakRss, type HostilePath, type HostileServer } from '../helpers/hostile-server.js';
import { runCli, startRecordingServer, type CliResult, type RecordingServer } from '../helpers/servers.js';

const TIMEOUT_MS = 800;
const RETRIES = 1;
const ATTEMPTS = RETRIES + 1;
const MAX_REDIRECTS = 3;
/** undici's fast-timer resolution: its headers/body timeouts may fire this much early. */
const UNDICI_TICK_MS = 500;
const FLAGS = [
  '--timeout', String(TIMEOUT_MS),
  '--retries', String(RETRIES),
  '--retry-base', '1',
  '--retry-max', '50',
  '--max-redirects', String(MAX_REDIRECTS),
  '--report', 'json',
];
/** A line of a stack trace; stderr must never hold one. */
const STACK_LINE = /^\s+at /m;
/** README: the transport errors that are retried. */
const RETRIED_ERRORS: ReadonlySet<string> = new Set(['timeout', 'connect_refused', 'connection_reset', 'network']);

/** What one fault must end in. `attempts: 'by-error'` = all of them when the error is retried, else 1. */
interface Expected {
  status: number | null;
  /** The documented code(s): several where undici legitimately reports the fault either way. */
  errors: ReadonlyArray<string | null>;
  attempts: number | 'by-error';
  /** Requests the server sees per attempt (a followed redirect is one more). */
  requestsPerAttempt?: number;
}

const EXPECTED: Array<[HostilePath, Expected]> = [
  ['/never', { status: null, errors: ['timeout'], attempts: ATTEMPTS }],
  // A 200 whose body then times out: README says ok false, status 200, error timeout.
  ['/stall-body', { status: 200, errors: ['timeout'], attempts: ATTEMPTS }],
  // Bytes keep coming, but the timeout is per attempt up to the last byte, not per idle gap.
  ['/drip', { status: 200, errors: ['timeout'], attempts: ATTEMPTS }],
  ['/reset-before', { status: null, errors: ['connection_reset'], attempts: ATTEMPTS }],
  ['/reset-headers', { status: null, errors: ['connection_reset', 'protocol'], attempts: 'by-error' }],
  ['/reset-body', { status: 200, errors: ['connection_reset', 'protocol'], attempts: 'by-error' }],
  ['/close-no-response', { status: null, errors: ['connection_reset', 'protocol'], attempts: 'by-error' }],
  // Longer than --retry-max: give up at once with the last status.
  ['/retry-after-year', { status: 429, errors: [null], attempts: 1 }],
  // Unusable Retry-After values are ignored: the normal backoff retries.
  ['/retry-after-negative', { status: 429, errors: [null], attempts: ATTEMPTS }],
  ['/retry-after-garbage', { status: 503, errors: [null], attempts: ATTEMPTS }],
  ['/redirect-loop', { status: 302, errors: ['too_many_redirects'], attempts: 1, requestsPerAttempt: MAX_REDIRECTS + 1 }],
  ['/redirect-ftp', { status: 302, errors: ['invalid_redirect'], attempts: 1 }],
  ['/ok', { status: 200, errors: [null], attempts: 1 }],
];
const TIMEOUT_FAULTS: HostilePath[] = ['/never', '/stall-body', '/drip'];
const HEALTHY_PATHS = ['/h1', '/h2', '/h3', '/h4'];

let hostile: HostileServer;
let healthy: RecordingServer;
let refusedUrl: string;
let run: CliResult;
let results: ResultLine[];
/** The result for a URL that ends with `path`, on the hostile host. */
const resultFor = (path: string): ResultLine | undefined => results.find((r) => r.url === hostile.url(path));

beforeAll(async () => {
  hostile = await startHostileServer({ host: '127.0.0.1' });
  healthy = await startRecordingServer(undefined, { host: '127.0.0.2' });
  refusedUrl = `http://127.0.0.9:${await closedPort('127.0.0.9')}/refused`;
  const lines = [
    ...EXPECTED.map(([path]) => hostile.url(path)),
    hostile.url('/malformed'),
    refusedUrl,
    'not a url',
    // Last in the input, so a hostile lane that blocked the queue would delay them.
    ...HEALTHY_PATHS.map((p) => healthy.url(p)),
  ];
  // --per-host 4: the three slow faults nearly fill the hostile host's lane for the whole run.
  run = await runCli(['fetch', ...FLAGS, '--per-host', '4'], { stdin: lines.join('\n') + '\n', timeoutMs: 15_000 });
  results = parseResults(run.stdout);
});

afterAll(async () => {
  await Promise.all([hostile?.close(), healthy?.close()]);
});

describe('fetch against a hostile host', () => {
  it('completes with exit 0, one result per line and no stack trace', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(results).toHaveLength(EXPECTED.length + 3 + HEALTHY_PATHS.length);
    expect(new Set(results.map((r) => r.line)).size).toBe(results.length);
  });

  it.each(EXPECTED)('%s ends in its documented result record', (path, want) => {
    const r = resultFor(path);
    expect(r, `no result for ${path}`).toBeDefined();
    expect(want.errors).toContain(r!.error);
    expect(r!.status).toBe(want.status);
    expect(r!.ok).toBe(path === '/ok');
    const attempts = want.attempts === 'by-error' ? (RETRIED_ERRORS.has(r!.error!) ? ATTEMPTS : 1) : want.attempts;
    expect(r!.attempts).toBe(attempts);
    // The attempts field tells the truth: the server saw exactly that many requests.
    expect(hostile.hits.get(path)).toBe(attempts * (want.requestsPerAttempt ?? 1));
  });

  // "Roughly": the lower bound allows undici's coarse backstop timer (see the it.fails below).
  it.each(TIMEOUT_FAULTS)('%s times out within roughly the timeout × attempts', (path) => {
    const r = resultFor(path)!;
    expect(r.ms).toBeGreaterThanOrEqual(ATTEMPTS * TIMEOUT_MS - RETRIES * UNDICI_TICK_MS);
    expect(r.ms).toBeLessThan(ATTEMPTS * TIMEOUT_MS + 1500);
  });

  // BUG: a retry attempt can time out before --timeout (here ~700 ms of 800). src/dispatcher.ts
  // sets undici's headersTimeout/bodyTimeout to exactly timeoutMs as a "backstop", but undici runs
  // those on its fast timers (lib/util/timers.js: ~499 ms ticks, started from a stale `fastNow`),
  // which fire anywhere in [timeout - 499, timeout + 499) ms; our exact per-attempt timer loses the
  // race whenever undici's fires early. The first attempt of a run starts the tick, so it is on
  // time; the retry starts ~300 ms past a tick and undici ends it ~100 ms early. Backstops need a
  // margin of at least one tick (or to be off, since our own timer bounds the attempt).
  it('no attempt ends before --timeout: a timed-out URL took at least timeout × attempts', () => {
    for (const path of ['/never', '/stall-body'] as const) {
      expect(resultFor(path)!.ms, path).toBeGreaterThanOrEqual(ATTEMPTS * TIMEOUT_MS - 2);
    }
  });

  // BUG: malformed HTTP is reported as `network` and retried; the README says `protocol`, never
  // retried. undici 7 builds its HTTPParserError with `code: undefined` (client-h1.js createError
  // looks up `constants.ERROR[ret]`, a name->number map, by number), so classify.ts's
  // `code.startsWith('HPE_')` never matches and the error falls through to `network`.
  it('/malformed ends in protocol, not retried', () => {
    const r = resultFor('/malformed')!;
    expect({ status: r.status, error: r.error, attempts: r.attempts }).toEqual({ status: null, error: 'protocol', attempts: 1 });
  });

  it('/malformed at least ends in a failure with no status (whatever its code)', () => {
    const r = resultFor('/malformed')!;
    expect(r).toMatchObject({ status: null, ok: false, bytes: 0 });
    expect(r.error).not.toBeNull();
  });

  it('a refused port ends in connect_refused, retried', () => {
    const r = results.find((x) => x.url === refusedUrl)!;
    expect(r).toMatchObject({ status: null, ok: false, error: 'connect_refused', attempts: ATTEMPTS });
  });

  it('an invalid line ends in invalid_url with no attempt', () => {
    const r = results.find((x) => x.url === 'not a url')!;
    expect(r).toMatchObject({ host: '', status: null, ok: false, error: 'invalid_url', attempts: 0 });
  });

  it('the report adds up: total = ok + failed + invalid = result lines, errors and statuses by URL', () => {
    const report = parseReport(run.stderr);
    expect(report.total).toBe(results.length);
    expect(report.ok + report.failed + report.invalid).toBe(report.total);
    expect(report.ok).toBe(results.filter((r) => r.ok).length);
    expect(report.invalid).toBe(1);
    expect(report.attempts).toBe(results.reduce((n, r) => n + r.attempts, 0));
    const count = (key: (r: ResultLine) => string | null): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of results) {
        const k = key(r);
        if (k !== null) out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    expect(report.errors).toEqual(count((r) => r.error));
    expect(report.status).toEqual(count((r) => (r.status === null ? null : String(r.status))));
  });

  it('healthy URLs of another host all succeed, fast, whatever the hostile host does', () => {
    const ok = results.filter((r) => r.host === '127.0.0.2');
    expect(ok).toHaveLength(HEALTHY_PATHS.length);
    for (const r of ok) {
      expect(r).toMatchObject({ status: 200, ok: true, error: null, attempts: 1 });
      // The hostile lane holds its slots for 2 × 800 ms; a healthy URL that waited on it would show.
      expect(r.ms).toBeLessThan(TIMEOUT_MS / 2);
      expect(r.wait_ms).toBeLessThan(TIMEOUT_MS / 2);
    }
    expect(healthy.requests.map((q) => q.path).sort()).toEqual(HEALTHY_PATHS);
  });
});

describe('fetch against an endless body', () => {
  it('/huge with --max-body 1MiB ends in body_too_large after one attempt, in bounded memory', async () => {
    const server = await startHostileServer({ host: '127.0.0.3' });
    try {
      const started = performance.now();
      const cli = startCli(['fetch', '--max-body', '1MiB', '--timeout', '5000', '--retries', '2', '--retry-base', '1', '--retry-max', '50', '--report', 'json'], {
        stdin: `${server.url('/huge')}\n`,
        timeoutMs: 15_000,
      });
      const rss = trackPeakRss(cli.child.pid!);
      const exit = await cli.exited;
      const peakMiB = rss.stop();
      const elapsedMs = performance.now() - started;

      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stderr).not.toMatch(STACK_LINE);
      const [r, ...more] = parseResults(exit.stdout);
      expect(more).toHaveLength(0);
      // body_too_large is final: one attempt, whatever --retries says.
      expect(r).toMatchObject({ status: 200, ok: false, error: 'body_too_large', attempts: 1 });
      expect(r!.bytes).toBeGreaterThan(1024 * 1024);
      expect(r!.bytes).toBeLessThan(4 * 1024 * 1024);
      expect(server.hits.get('/huge')).toBe(1);
      // The client hung up: the server stopped far short of its 4 GiB.
      expect(server.hugeBytesSent).toBeLessThan(64 * 1024 * 1024);
      expect(elapsedMs).toBeLessThan(5000);
      if (peakMiB !== null) expect(peakMiB).toBeLessThan(256);
      const report = parseReport(exit.stderr);
      expect(report).toMatchObject({ total: 1, ok: 0, failed: 1, invalid: 0, errors: { body_too_large: 1 } });
    } finally {
      await server.close();
    }
  });
});
