// Spawns the built binary (run `npx tsc -p .` first; `npm test` does).
//
// Input nobody should send: binary garbage, NUL bytes, invalid UTF-8, a 100 MB line, nothing at
// all, a missing file, a directory. The CLI must answer each with results or a one-line usage
// error, in bounded memory, and never with a stack trace.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, parseReport, parseResults, tempDir, writeRawFile, type ResultLine } from '../helpers/fetch-helpers.js';
import { trackPeakRss } from '../helpers/hostile-server.js';
import { runCli, startRecordingServer, type CliResult, type RecordingServer } from '../helpers/servers.js';

/** Small limits, so a URL that does get through fails fast instead of slowing the suite. */
const FLAGS = ['--timeout', '300', '--retries', '0', '--report', 'json'];
/** A line of a stack trace; stderr must never hold one. */
const STACK_LINE = /^\s+at /m;

let target: RecordingServer;
beforeAll(async () => {
  target = await startRecordingServer(undefined, { host: '127.0.0.4' });
});
afterAll(async () => {
  await target?.close();
});

/** The checks every run shares: no stack trace, a report whose total matches the result lines. */
function expectCleanRun(run: CliResult): ResultLine[] {
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.code, run.stderr).toBe(0);
  const results = parseResults(run.stdout);
  expect(run.stdout.endsWith('\n') || run.stdout === '').toBe(true);
  const report = parseReport(run.stderr);
  expect(report.total).toBe(results.length);
  expect(report.ok + report.failed + report.invalid).toBe(report.total);
  return results;
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** URL lines the README says get a result: split on \n, BOM dropped, trimmed, not blank, not `#`. */
function expectedLineNumbers(bytes: Buffer): number[] {
  const lines = bytes.toString('utf8').replace(/^\uFEFF/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.flatMap((l, i) => (l.trim() !== '' && !l.trim().startsWith('#') ? [i + 1] : []));
}

describe('fetch with hostile input', () => {
  it.each([1, 7, 42])('binary garbage (seed %i): one invalid_url per non-blank line, valid NDJSON', async (seed) => {
    const bytes = garbage(32 * 1024, seed);
    const run = await runCli(['fetch', await writeRawFile(bytes), ...FLAGS]);
    const results = expectCleanRun(run);
    expect(results.length).toBeGreaterThan(50); // ~1 newline in 256 bytes
    expect(results.map((r) => r.line).sort((a, b) => a - b)).toEqual(expectedLineNumbers(bytes));
    for (const r of results) expect(r).toMatchObject({ error: 'invalid_url', attempts: 0, status: null, host: '' });
  });

  it('NUL bytes: a NUL in the host is invalid_url; in the path it is percent-encoded and fetched', async () => {
    const base = target.base;
    const lines = ['\0', '\0\0\0', `${base.replace('127.0.0.4', '127.0.0.4\0')}/nul-host`, `${base}/nul\0path`, '\0\0', `\0${base}/lead`];
    const run = await runCli(['fetch', await writeRawFile(lines.join('\n') + '\n'), ...FLAGS]);
    const results = expectCleanRun(run);
    expect(results).toHaveLength(lines.length);
    const byLine = new Map(results.map((r) => [r.line, r]));
    for (const line of [1, 2, 3, 5]) expect(byLine.get(line)).toMatchObject({ error: 'invalid_url', attempts: 0 });
    // The result keeps the line as given (NUL escaped by JSON); the request went to our server only.
    expect(byLine.get(4)).toMatchObject({ url: `${base}/nul\0path`, ok: true, status: 200 });
    expect(target.requests.map((q) => q.path)).toContain('/nul%00path');
    // A leading NUL is not whitespace, but the WHATWG parser strips leading C0 controls: either
    // answer is defensible, as long as the only request is to the URL the line names.
    const lead = byLine.get(6)!;
    if (lead.error === 'invalid_url') expect(target.requests.some((q) => q.path === '/lead')).toBe(false);
    else expect(lead).toMatchObject({ ok: true, status: 200, host: '127.0.0.4' });
  });

  it('invalid UTF-8: in the host it is invalid_url, in the path it becomes U+FFFD and is fetched', async () => {
    const bad = Buffer.from([0xff, 0xfe, 0xc3]);
    const input = Buffer.concat([
      Buffer.from('http://'), bad, Buffer.from('.test/\n'),
      Buffer.from(`${target.base}/utf8-`), bad, Buffer.from('\n'),
      bad, Buffer.from('\n'),
      Buffer.from([0xc3]), Buffer.from('\n'), // a truncated 2-byte sequence alone on a line
    ]);
    const run = await runCli(['fetch', await writeRawFile(input), ...FLAGS]);
    const results = expectCleanRun(run);
    expect(results).toHaveLength(4);
    const byLine = new Map(results.map((r) => [r.line, r]));
    for (const line of [1, 3, 4]) expect(byLine.get(line)).toMatchObject({ error: 'invalid_url', attempts: 0 });
    expect(byLine.get(1)!.url).toBe('http://\uFFFD\uFFFD\uFFFD.test/');
    expect(byLine.get(2)).toMatchObject({ ok: true, status: 200, url: `${target.base}/utf8-\uFFFD\uFFFD\uFFFD` });
  });

  it('a 100 MB line without a newline on stdin: one invalid_url, bounded memory, no request', async () => {
    const child = spawn(process.execPath, [BIN, 'fetch', ...FLAGS], {
      // A heap far smaller than the line: keeping it would crash the process.
      env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '--max-old-space-size=64' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const rss = trackPeakRss(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin.on('error', () => {}); // an early exit is reported by the assertions below
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);

    // Streamed: the same 1 MiB buffer a hundred times, written as fast as the pipe drains.
    const prefix = `${target.base}/long-`;
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    child.stdin.write(prefix);
    for (let i = 0; i < 100; i++) {
      if (!child.stdin.write(mib)) await new Promise((resolve) => child.stdin.once('drain', resolve));
      if (child.exitCode !== null) break;
    }
    child.stdin.end();
    const code = await exited;
    clearTimeout(killer);
    const peakMiB = rss.stop();

    const results = expectCleanRun({ code, signal: null, stdout, stderr });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ line: 1, error: 'invalid_url', attempts: 0, status: null });
    // Only a prefix of the line is kept for the record.
    expect(results[0]!.url.startsWith(prefix)).toBe(true);
    expect(results[0]!.url.length).toBeLessThanOrEqual(1024);
    expect(target.requests.some((q) => q.path.startsWith('/long-'))).toBe(false);
    if (peakMiB !== null) expect(peakMiB).toBeLessThan(256);
  });

  it.each<[string, string]>([
    ['only comments', '# a list\n#http://127.0.0.4:1/\n   # indented\n\n'],
    ['only blank lines, CRLF and a BOM', '\uFEFF\r\n\r\n   \n\t\n'],
    ['an empty file', ''],
  ])('%s: no results, exit 0, report total 0', async (_name, content) => {
    const run = await runCli(['fetch', await writeRawFile(content), ...FLAGS]);
    const results = expectCleanRun(run);
    expect(results).toHaveLength(0);
    expect(run.stdout).toBe('');
    expect(parseReport(run.stderr)).toMatchObject({ total: 0, ok: 0, failed: 0, invalid: 0, attempts: 0 });
  });

  it('stdin closed at once: no results, exit 0, report total 0', async () => {
    const run = await runCli(['fetch', '-', ...FLAGS], { stdin: '' });
    expectCleanRun(run);
    expect(run.stdout).toBe('');
    expect(parseReport(run.stderr).total).toBe(0);
  });

  it.each<[string, () => Promise<string>]>([
    ['a missing file', async () => join(await tempDir(), 'no-such-file.txt')],
    [
      'a directory',
      async () => {
        const dir = join(await tempDir(), 'urls.d');
        await mkdir(dir);
        return dir;
      },
    ],
  ])('%s: exit 2, one line on stderr, nothing on stdout', async (_name, makePath) => {
    const path = await makePath();
    const run = await runCli(['fetch', path, ...FLAGS]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.stderr).toMatch(/^ratelimmq: [^\n]+\n$/);
    expect(run.stderr).toContain(path);
  });
});
