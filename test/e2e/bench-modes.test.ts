// `ratelimmq bench-modes` driven as a user drives it: the built binary (run `npx tsc -p .` first)
// against its built-in target. A tiny smoke run: the output contract, not the numbers' sizes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/servers.js';
import { tempDir } from '../helpers/fetch-helpers.js';

const COLUMNS = ['mode', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU s', 'CPU %', 'peak RSS MB', 'target CPU %', 'done', 'failed'];

/** Table rows (after the `#` lines and the header) as cells. */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  expect(lines[0]!.split(/\s{2,}/)).toEqual(COLUMNS);
  return lines.slice(1).map((l) => l.trim().split(/\s+/));
}

describe('bench-modes', () => {
  it('runs all four modes at each concurrency and prints one row per mode and concurrency', async () => {
    const dir = await tempDir();
    const json = join(dir, 'raw.json');
    const chart = join(dir, 'chart.svg');
    const r = await runCli(['bench-modes', '--urls', '50', '--concurrency', '1,4', '--runs', '1', '--json', json, '--chart', chart], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const rows = tableRows(r.stdout);
    // sequential runs once (it always has one request in flight); the others at 1 and 4.
    expect(rows.map((c) => `${c[0]} ${c[1]}`)).toEqual(['sequential 1', 'threads 1', 'async 1', 'fetch 1', 'threads 4', 'async 4', 'fetch 4']);
    for (const cells of rows) {
      const [, , rps, p50, p95, p99, cpuS, , rss, , done, failed] = cells.map(Number);
      for (const v of [rps, p50, p95, p99, cpuS, rss]) expect(v, cells.join(' ')).toBeGreaterThan(0);
      expect(p50! <= p95! && p95! <= p99!, cells.join(' ')).toBe(true);
      expect(done).toBe(50);
      expect(failed).toBe(0);
    }

    const raw = JSON.parse(await readFile(json, 'utf8')) as { command: string; runs: unknown[]; summary: unknown[] };
    expect(raw.command).toMatch(/^ratelimmq bench-modes /);
    expect(raw.runs).toHaveLength(7);
    expect(raw.summary).toHaveLength(7);
    const svg = await readFile(chart, 'utf8');
    expect(svg.match(/class="series"/g)).toHaveLength(4);
  }, 60_000);

  it.each([
    [['--modes', 'sequential,bogus'], /--modes entry "bogus"/],
    [['--concurrency', '0'], /--concurrency "0"/],
    [['--work', 'md5'], /--work "md5"/],
    [['urls.txt', '--latency', '50'], /cannot be used with a source/],
  ])('rejects %j with one line and exit code 2', async (args, message) => {
    const r = await runCli(['bench-modes', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
