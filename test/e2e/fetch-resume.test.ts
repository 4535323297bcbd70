// `--journal` and `--resume` end to end: a run killed with SIGKILL mid-way, then resumed. Spawns
// the built binary (run `npx tsc -p .` first; `npm test` does).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJournal } from '../../src/journal.js';
import { startTargets, type Targets } from '../../src/target-server.js';
import { hang, ok, runCli, startRecordingServer, writeUrlFile } from '../helpers/servers.js';

const BIN = fileURLToPath(new URL('../../bin/ratelimmq.js', import.meta.url));

interface Rec {
  line: number;
  url: string;
  error: string | null;
}

/** The records of an NDJSON file, all lines whole; a torn (unterminated) last line is dropped and reported. */
function readRecords(path: string): { records: Rec[]; torn: boolean } {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  return { records: lines.map((l) => JSON.parse(l) as Rec), torn: last !== '' };
}

const countNewlines = (path: string): number => (existsSync(path) ? readFileSync(path).reduce((n, b) => (b === 10 ? n + 1 : n), 0) : 0);

/** Resolves once `path` holds at least `lines` lines; rejects if the child exits first or after `deadlineMs`. */
async function waitForLines(child: ChildProcess, path: string, lines: number, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (countNewlines(path) < lines) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ratelimmq exited before ${path} had ${lines} lines`);
    if (Date.now() > deadline) throw new Error(`${path} did not reach ${lines} lines in ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10)); // polling a file: there is no event to wait on
  }
}

function spawnFetch(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'fetch', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exit };
}

const children: ChildProcess[] = [];
let targets: Targets;
beforeAll(async () => {
  targets = await startTargets({ addresses: ['127.0.0.1', '127.0.0.2'], latencyMs: 2 });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  await targets?.close();
});

describe('fetch --journal / --resume', () => {
  it('a run killed with SIGKILL and resumed covers every input line exactly once', { timeout: 90_000 }, async () => {
    const N = 20_000;
    // Lines 15001.. repeat the URLs of lines 1..; every 1000th line (from 500) is not a URL.
    const input = Array.from({ length: N }, (_, i) => ((i + 1) % 1000 === 500 ? 'not a url' : targets.urlFor((i + 1) % 15_000)));
    const urls = await writeUrlFile(input);
    const dir = await mkdtemp(join(tmpdir(), 'ratelimmq-resume-'));
    const [journal, out1, out2] = ['journal.ndjson', 'out1.ndjson', 'out2.ndjson'].map((f) => join(dir, f)) as [string, string, string];

    const first = spawnFetch([urls, '--journal', journal, '-o', out1, '--rate', '5000', '--report', 'none', '--no-progress']);
    await waitForLines(first.child, journal, 3000);
    process.kill(first.child.pid!, 'SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    // Whatever the kill cut, every whole line before it is a valid record.
    const before = readRecords(journal);
    const doneBefore = new Set(before.records.filter((r) => r.error !== 'cancelled').map((r) => r.line));
    expect(doneBefore.size).toBe(before.records.length); // no line twice, nothing cancelled by a SIGKILL
    expect(doneBefore.size).toBeGreaterThanOrEqual(3000);
    expect(doneBefore.size).toBeLessThan(N);
    const o1 = readRecords(out1).records.map((r) => r.line);
    expect(new Set(o1).size).toBe(o1.length);
    // A torn write at the worst place: a record for a line not yet done, cut before its newline.
    expect(doneBefore.has(N - 1)).toBe(false);
    await appendFile(journal, `{"line":${N - 1},"url":"http://127.`);

    targets.resetStats();
    const second = await runCli(['fetch', urls, '--resume', journal, '--journal', journal, '-o', out2, '--report', 'none', '--no-progress'], { timeoutMs: 60_000 });
    expect(second.stderr).toContain(`resume: skipped ${doneBefore.size} lines already done in ${journal}`);
    expect(second.code).toBe(0);

    // The resumed run did exactly the lines not done before: each once, none of the done ones.
    const resumed = readRecords(out2);
    expect(resumed.torn).toBe(false);
    const lines2 = resumed.records.map((r) => r.line);
    expect(new Set(lines2).size).toBe(lines2.length);
    expect(lines2.filter((l) => doneBefore.has(l))).toEqual([]);
    expect(doneBefore.size + lines2.length).toBe(N);
    expect(resumed.records.every((r) => r.error === null || (r.error === 'invalid_url' && r.line % 1000 === 500))).toBe(true);
    expect(lines2).toContain(N - 1); // the torn record did not count
    expect(targets.total.requests).toBe(resumed.records.filter((r) => r.error === null).length);

    // The journal now holds the union: every input line completed once, no torn or invalid line left.
    const state = await loadJournal(journal);
    expect(state).toMatchObject({ torn: false, invalid: 0, duplicates: 0, cancelled: 0 });
    expect(state.done.size).toBe(N);
    const final = readRecords(journal).records;
    const byLine = new Map(final.map((r) => [r.line, r.url]));
    expect(byLine.get(1)).toBe(targets.urlFor(1));
    expect(byLine.get(15_001)).toBe(targets.urlFor(1)); // a duplicate URL is done once per line
  });

  it('URLs cancelled by a stop are fetched again on resume', async () => {
    let hanging = true;
    const server = await startRecordingServer((req, res, info) => (hanging && info.path === '/slow' ? hang()(req, res, info) : ok()(req, res, info)));
    try {
      const urls = await writeUrlFile([server.url('/a'), server.url('/slow'), server.url('/b'), server.url('/slow'), server.url('/c')]);
      const dir = await mkdtemp(join(tmpdir(), 'ratelimmq-resume-'));
      const journal = join(dir, 'journal.ndjson');
      const run = spawnFetch([urls, '--journal', journal, '--grace', '0', '--report', 'none', '--no-progress']);
      await waitForLines(run.child, journal, 3);
      process.kill(run.child.pid!, 'SIGINT');
      expect((await run.exit).code).toBe(130);
      const cancelled = readRecords(journal).records.filter((r) => r.error === 'cancelled').map((r) => r.line);
      expect(cancelled.sort()).toEqual([2, 4]);

      hanging = false;
      const second = await runCli(['fetch', urls, '--resume', journal, '--journal', journal, '--report', 'none']);
      expect(second.code).toBe(0);
      expect(second.stderr).toContain('resume: skipped 3 lines');
      const lines = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as Rec);
      expect(lines.map((r) => [r.line, r.error])).toEqual(expect.arrayContaining([[2, null], [4, null]]));
      expect(lines).toHaveLength(2);
      expect((await loadJournal(journal)).done.size).toBe(5);
    } finally {
      await server.close();
    }
  });

  it('a --resume journal that cannot be read is a usage error', async () => {
    const urls = await writeUrlFile([targets.urlFor(1)]);
    const r = await runCli(['fetch', urls, '--resume', join(tmpdir(), 'ratelimmq-no-such-dir', 'j')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ratelimmq: cannot read resume journal .*: ENOENT$/m);
  });

  it('a --journal that cannot be opened is a usage error', async () => {
    const urls = await writeUrlFile([targets.urlFor(1)]);
    const r = await runCli(['fetch', urls, '--journal', join(tmpdir(), 'ratelimmq-no-such-dir', 'j')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ratelimmq: cannot write journal .*: ENOENT$/m);
  });

  it.skipIf(!existsSync('/dev/full'))('a journal on a full disk ends the run with a message and exit code 74', async () => {
    const urls = await writeUrlFile(Array.from({ length: 50 }, (_, i) => targets.urlFor(i)));
    const r = await runCli(['fetch', urls, '--journal', '/dev/full', '--report', 'none']);
    expect(r.stderr).toContain('ratelimmq: cannot write journal /dev/full: ENOSPC');
    expect(r.code).toBe(74);
  });

  it('resuming from a journal of a finished run fetches nothing', async () => {
    const urls = await writeUrlFile([targets.urlFor(1), targets.urlFor(1), 'not a url']);
    const dir = await mkdtemp(join(tmpdir(), 'ratelimmq-resume-'));
    const journal = join(dir, 'journal.ndjson');
    expect((await runCli(['fetch', urls, '--journal', journal, '--report', 'none'])).code).toBe(0);
    expect((await readFile(journal, 'utf8')).trim().split('\n')).toHaveLength(3);
    const again = await runCli(['fetch', urls, '--resume', journal, '--report', 'none']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`resume: skipped 3 lines already done in ${journal}`);
  });
});
