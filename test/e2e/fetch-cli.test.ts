// `ratelimmq fetch` driven as a user drives it: the built binary (run `npx tsc -p .` first),
// real local servers, URL lists on stdin or in files. Asserts the output contract, not timings.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  delay,
  hang,
  runCli,
  startRecordingServer,
  statusFromQuery,
  writeUrlFile,
  type Handler,
  type RecordingServer,
} from '../helpers/servers.js';
import {
  parseReport,
  parseResults,
  RESULT_FIELDS,
  startCli,
  tempDir,
  VERSION,
  writeRawFile,
  type CliProcess,
} from '../helpers/fetch-helpers.js';

const toClose: Array<{ close(): Promise<void> }> = [];
const children: CliProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await Promise.all(toClose.splice(0).map((s) => s.close()));
});

async function server(handler?: Handler): Promise<RecordingServer> {
  const s = await startRecordingServer(handler);
  toClose.push(s);
  return s;
}

/** Quiet, fast-failing defaults for runs that do not test them. */
const FAST = ['--retry-base', '1', '--retry-max', '50'];

describe('fetch: sources and result lines', () => {
  it.each([
    ['-', ['fetch', '-']],
    ['no source', ['fetch']],
  ])('reads URLs from stdin (%s), one result line per URL with every field', async (_name, args) => {
    const s = await server();
    const urls = [s.url('/a'), s.url('/b'), s.url('/c')];
    const r = await runCli([...args, '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const results = parseResults(r.stdout);
    expect(results).toHaveLength(3);
    for (const res of results) {
      expect(Object.keys(res)).toEqual([...RESULT_FIELDS]);
      expect(res).toMatchObject({ host: '127.0.0.1', status: 200, ok: true, bytes: 2, attempts: 1, error: null });
      expect(res.ms).toBeGreaterThanOrEqual(0);
      expect(res.wait_ms).toBeGreaterThanOrEqual(0);
    }
    expect(results.map((x) => [x.line, x.url]).sort()).toEqual(urls.map((u, i) => [i + 1, u]).sort());
    expect(s.requests.map((q) => q.path).sort()).toEqual(['/a', '/b', '/c']);
  });

  it('skips BOM, CRLF, blank and # lines, numbers lines by input position, and sends nothing for invalid lines', async () => {
    const s = await server();
    const overlong = s.url('/') + 'x'.repeat(70 * 1024); // over the 64 KiB line limit
    const content =
      '\uFEFF' +
      [
        s.url('/one'), //            1
        '', //                       2
        '# a comment', //            3
        '   ', //                    4
        '  # indented comment', //   5
        s.url('/two'), //            6
        'not a url', //              7
        'ftp://x', //                8
        overlong, //                 9
        '\t' + s.url('/three') + ' ', // 10
      ].join('\r\n') +
      '\r\n' +
      s.url('/four'); //              11, no final newline
    const file = await writeRawFile(content);
    const r = await runCli(['fetch', file, '--report', 'none', ...FAST]);
    expect(r.code).toBe(0);
    const results = parseResults(r.stdout).sort((a, b) => a.line - b.line);
    expect(results.map((x) => x.line)).toEqual([1, 6, 7, 8, 9, 10, 11]);
    const byLine = new Map(results.map((x) => [x.line, x]));
    for (const [line, path] of [[1, '/one'], [6, '/two'], [10, '/three'], [11, '/four']] as const) {
      expect(byLine.get(line)).toMatchObject({ url: s.url(path), status: 200, ok: true, attempts: 1, error: null });
    }
    for (const res of results) expect(Object.keys(res)).toEqual([...RESULT_FIELDS]);
    for (const line of [7, 8, 9]) {
      expect(byLine.get(line)).toMatchObject({ host: '', status: null, ok: false, bytes: 0, attempts: 0, error: 'invalid_url' });
    }
    expect(byLine.get(7)!.url).toBe('not a url');
    expect(byLine.get(8)!.url).toBe('ftp://x');
    // Only the four valid URLs reached the server, each once.
    expect(s.requests.map((q) => q.path).sort()).toEqual(['/four', '/one', '/three', '/two']);
  });
});

describe('fetch: report', () => {
  it('--report json on stderr and --report-file agree, and add up to the result lines', async () => {
    const s = await server(statusFromQuery());
    const reportFile = join(await tempDir(), 'report.json');
    const file = await writeUrlFile([
      s.url('/?status=200'),
      s.url('/?status=200'),
      s.url('/?status=204'),
      s.url('/?status=404'),
      'not a url',
      'ftp://x',
      s.url('/?status=200'),
    ]);
    const r = await runCli(['fetch', file, '--report', 'json', '--report-file', reportFile, ...FAST]);
    expect(r.code).toBe(0);
    const results = parseResults(r.stdout);
    expect(results).toHaveLength(7);
    const report = JSON.parse(r.stderr) as Record<string, any>;
    expect(JSON.parse(await readFile(reportFile, 'utf8'))).toEqual(report);

    expect(report).toMatchObject({ total: 7, ok: 4, failed: 1, invalid: 2, attempts: 5, retries: 0 });
    expect(report.ok + report.failed + report.invalid).toBe(report.total);
    expect(report.total).toBe(results.length);
    expect(report.status).toEqual({ 200: 3, 204: 1, 404: 1 });
    expect(report.errors).toEqual({ invalid_url: 2 });
    for (const k of ['count', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max']) expect(report.latency_ms).toHaveProperty(k);
    expect(report.latency_ms.count).toBe(5);
    expect(report.latency_ms.min).toBeLessThanOrEqual(report.latency_ms.p50);
    expect(report.latency_ms.p50).toBeLessThanOrEqual(report.latency_ms.p99);
    expect(report.latency_ms.p99).toBeLessThanOrEqual(report.latency_ms.max);
    expect(Object.keys(report.hosts)).toEqual(['127.0.0.1']);
    const h = report.hosts['127.0.0.1'];
    expect(h).toMatchObject({ host: '127.0.0.1', requests: 5, ok: 4, failed: 1 });
    for (const k of ['p50', 'p99']) expect(typeof h[k]).toBe('number');
    expect(typeof h.rps).toBe('number');
    expect(s.requests).toHaveLength(5);
  });

  it('-o writes the results to a file and nothing to stdout', async () => {
    const s = await server();
    const out = join(await tempDir(), 'results.ndjson');
    const r = await runCli(['fetch', '-o', out, '--report', 'none'], { stdin: `${s.url('/a')}\n${s.url('/b')}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const results = parseResults(await readFile(out, 'utf8'));
    expect(results.map((x) => x.line).sort()).toEqual([1, 2]);
    expect(results.every((x) => x.ok)).toBe(true);
  });

  it('--no-results writes no results but still fetches and reports', async () => {
    const s = await server();
    const r = await runCli(['fetch', '--no-results', '--report', 'json'], { stdin: `${s.url('/a')}\n${s.url('/b')}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ total: 2, ok: 2 });
    expect(s.requests).toHaveLength(2);
  });
});

describe('fetch: usage errors', () => {
  it.each([
    ['--concurrency 0', ['--concurrency', '0']],
    ['--rate abc', ['--rate', 'abc']],
    ['an unknown option', ['--no-such-option']],
    ['a bad --fail-on rule', ['--fail-on', 'p99>>1']],
    ['a bad --header', ['--header', 'no colon here']],
    ['--report xml', ['--report', 'xml']],
    ['a missing file', ['/nonexistent/ratelimmq/urls.txt']],
    ['a directory as source', ['DIR']],
  ])('%s: exit 2, exactly one line on stderr, no request', async (_name, extra) => {
    const s = await server();
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    const args = extra.map((a) => (a === 'DIR' ? join(dir, 'sub') : a));
    // The URL is also on stdin, so a CLI that wrongly went ahead would reach the server.
    const r = await runCli(['fetch', ...args], { stdin: `${s.url('/should-not-be-fetched')}\n` });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ratelimmq: /);
    expect(s.requests).toHaveLength(0);
  });
});

describe('fetch: --fail-on and exit codes', () => {
  it('p99>0ms breaches: exit 1 with a threshold breached line', async () => {
    const s = await server();
    const r = await runCli(['fetch', '--fail-on', 'p99>0ms', '--report', 'none'], { stdin: `${s.url('/')}\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^threshold breached: p99>0ms \(actual [\d.]+ms\)$/m);
  });

  it('failed>0 with a 404: exit 1', async () => {
    const s = await server(statusFromQuery());
    const r = await runCli(['fetch', '--fail-on', 'failed>0', '--report', 'none'], { stdin: `${s.url('/?status=200')}\n${s.url('/?status=404')}\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^threshold breached: failed>0 \(actual 1\)$/m);
  });

  it('rules that hold: exit 0, no breach line', async () => {
    const s = await server();
    const r = await runCli(['fetch', '--fail-on', 'failed>0,error-rate>1%,p99>60s', '--report', 'none'], { stdin: `${s.url('/a')}\n${s.url('/b')}\n` });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/threshold/);
  });

  it('--version, --help and fetch --help exit 0', async () => {
    const [v, h, fh] = await Promise.all([runCli(['--version']), runCli(['--help']), runCli(['fetch', '--help'])]);
    expect(v).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: ratelimmq/);
    expect(h.stdout).toMatch(/fetch/);
    expect(fh.code).toBe(0);
    expect(fh.stdout).toMatch(/Usage: ratelimmq fetch/);
    expect(fh.stdout).toMatch(/--concurrency/);
  });

  it('a fetch loads undici and hdr-histogram-js modules one by one, not their package indexes (start-up)', async () => {
    const s = await server();
    // At exit, list the CommonJS modules that were loaded (ES imports of CommonJS land in require.cache too).
    const preload = `data:text/javascript,${encodeURIComponent(
      `import { createRequire } from 'node:module'; const r = createRequire('/');
       process.on('exit', () => process.stderr.write('loaded ' + JSON.stringify(Object.keys(r.cache).map((k) => k.split('node_modules/')[1] ?? '')) + '\\n'));`,
    )}`;
    const r = await runCli(['fetch', '--report', 'none', '-o', '/dev/null'], { stdin: `${s.url('/a')}\n`, env: { NODE_OPTIONS: `--import=${preload}` } });
    expect(r.code).toBe(0);
    const loaded = JSON.parse(/loaded (.*)/.exec(r.stderr)![1]!) as string[];
    expect(loaded).toContain('undici/lib/dispatcher/agent.js');
    expect(loaded).toContain('hdr-histogram-js/dist/Int32Histogram.js');
    expect(loaded).not.toContain('undici/index.js');
    expect(loaded).not.toContain('hdr-histogram-js/dist/index.js');
  });
});

describe('fetch: stopping', () => {
  it('a reader that closes early (| head -1) ends the run quietly with exit 0', async () => {
    const s = await server();
    const file = await writeUrlFile(Array.from({ length: 3000 }, (_, i) => s.url(`/${i}`)));
    const cli = startCli(['fetch', file]);
    children.push(cli);
    await cli.waitFor((out) => out.includes('\n'), 'the first result line');
    cli.child.stdout!.destroy(); // the read side goes away, as `head -1` does
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.stderr).toBe(''); // no report, no stack trace, no EPIPE message
    // It stopped early rather than fetching everything into a closed pipe.
    expect(s.requests.length).toBeLessThan(3000);
  });

  it('SIGINT mid-run: exit 130, every URL line has exactly one result, unfinished ones cancelled, report printed', async () => {
    const s = await server(delay(300));
    const n = 200;
    const file = await writeUrlFile(Array.from({ length: n }, (_, i) => s.url(`/${i}`)));
    const cli = startCli(['fetch', file, '-c', '5', '--report', 'json']);
    children.push(cli);
    await cli.waitFor((out) => out.includes('\n'), 'the first result line');
    cli.signal('SIGINT');
    const exit = await cli.exited;
    expect(exit.code).toBe(130);
    const results = parseResults(exit.stdout);
    const lines = results.map((x) => x.line).sort((a, b) => a - b);
    // The whole file fits the read-ahead queue, so every line was read and has its result.
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (const r of results) {
      if (r.error === 'cancelled') expect(r).toMatchObject({ ok: false, status: null });
      else expect(r).toMatchObject({ ok: true, status: 200, error: null });
    }
    const cancelled = results.filter((r) => r.error === 'cancelled').length;
    expect(cancelled).toBeGreaterThan(0);
    expect(cancelled).toBeLessThan(n);
    expect(exit.stderr).toMatch(/^ratelimmq: stopping/m);
    const report = parseReport(exit.stderr);
    expect(report.total).toBe(n);
    expect(report.errors.cancelled).toBe(cancelled);
    // Nothing was started after the interrupt beyond what was in flight: the server saw fewer than all.
    expect(s.requests.length).toBe(n - cancelled);
  });

  it('SIGINT while stdin is still open: the run stops reading and exits 130 with a result per line read', async () => {
    const s = await server();
    const cli = startCli(['fetch', '-', '--report', 'none'], { stdin: `${s.url('/a')}\n${s.url('/b')}\n`, keepStdinOpen: true });
    children.push(cli);
    await cli.waitFor((out) => parseResults(out).length === 2, 'both results');
    cli.signal('SIGINT');
    const exit = await cli.exited;
    expect(exit.code).toBe(130);
    expect(parseResults(exit.stdout).map((r) => r.line).sort()).toEqual([1, 2]);
  });
});

describe('fetch: requests', () => {
  it('--timeout 200 against a server that never answers: timeout, attempts = retries + 1', async () => {
    const s = await server(hang());
    const r = await runCli(['fetch', '--timeout', '200', '--retries', '1', '--report', 'none', ...FAST], { stdin: `${s.url('/slow')}\n` });
    expect(r.code).toBe(0);
    const [res] = parseResults(r.stdout);
    expect(res).toMatchObject({ status: null, ok: false, attempts: 2, error: 'timeout' });
    expect(s.requests).toHaveLength(2);
  });

  it('-X HEAD, -H and the default user-agent reach the server', async () => {
    const s = await server();
    const r = await runCli(['fetch', '-X', 'HEAD', '-H', 'X-Test: 1', '--report', 'none'], { stdin: `${s.url('/h')}\n` });
    expect(r.code).toBe(0);
    expect(parseResults(r.stdout)[0]).toMatchObject({ status: 200, ok: true, bytes: 0 });
    expect(s.requests).toHaveLength(1);
    const q = s.requests[0]!;
    expect(q.method).toBe('HEAD');
    expect(q.headers['x-test']).toBe('1');
    expect(q.headers['user-agent']).toBe(`ratelimmq/${VERSION}`);
  });

  describe('redirects', () => {
    const redirects: Handler = (req, res) => {
      const to: Record<string, string> = { '/r302': '/ok', '/r302b': '/r302', '/loop': '/loop', '/ftp': 'ftp://example.test/x' };
      const loc = to[req.url ?? ''];
      if (loc !== undefined) res.writeHead(302, { location: loc }).end();
      else res.writeHead(200).end('landed');
    };

    it('--max-redirects 0 reports a 302 as it is', async () => {
      const s = await server(redirects);
      const r = await runCli(['fetch', '--report', 'none'], { stdin: `${s.url('/r302')}\n` });
      expect(parseResults(r.stdout)[0]).toMatchObject({ status: 302, attempts: 1, error: null });
      expect(s.requests.map((q) => q.path)).toEqual(['/r302']);
    });

    it('--max-redirects 2 follows up to two hops', async () => {
      const s = await server(redirects);
      const r = await runCli(['fetch', '--max-redirects', '2', '--report', 'none'], { stdin: `${s.url('/r302b')}\n` });
      expect(parseResults(r.stdout)[0]).toMatchObject({ url: s.url('/r302b'), status: 200, ok: true, bytes: 6, error: null });
      expect(s.requests.map((q) => q.path)).toEqual(['/r302b', '/r302', '/ok']);
    });

    it('a loop gives too_many_redirects, a redirect to ftp:// gives invalid_redirect', async () => {
      const s = await server(redirects);
      const r = await runCli(['fetch', '--max-redirects', '2', '--report', 'none', ...FAST], { stdin: `${s.url('/loop')}\n${s.url('/ftp')}\n` });
      const byLine = new Map(parseResults(r.stdout).map((x) => [x.line, x]));
      expect(byLine.get(1)).toMatchObject({ ok: false, error: 'too_many_redirects' });
      expect(byLine.get(2)).toMatchObject({ ok: false, error: 'invalid_redirect' });
      // The loop: the first request plus two followed hops, then it gives up (not retried).
      expect(s.requests.filter((q) => q.path === '/loop')).toHaveLength(3);
      expect(s.requests.filter((q) => q.path === '/ftp')).toHaveLength(1);
    });
  });

  it('--resolve pins a name to an address without DNS', async () => {
    const s = await server();
    const url = `http://example.test:${s.port}/pinned`;
    const r = await runCli(['fetch', '--resolve', `example.test:${s.port}:127.0.0.1`, '--report', 'none', '--retries', '0'], { stdin: `${url}\n` });
    expect(r.code).toBe(0);
    expect(parseResults(r.stdout)[0]).toMatchObject({ url, host: 'example.test', status: 200, ok: true, error: null });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]!.host).toBe(`example.test:${s.port}`);
  });
});
