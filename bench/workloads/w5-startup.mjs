// W5 start-up: wall time (spawn to exit, as this process sees it) of `ratelimmq --version` and of
// a one-URL fetch against the local target, interleaved with `node -e 0` as the floor; medians
// of --w5-runs each. No rusage preload here (it would add its own import to every start).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured } from '../measure.mjs';
import { median } from '../summary.mjs';
import { percentile } from '../analysis.mjs';
import { formatRows } from './table.mjs';

const TIMEOUT_MS = 20_000;
export const title = 'W5 start-up (wall, spawn to exit; node -e 0 is the floor)';

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

export async function run(env) {
  const { opts, log, useTarget, tmpDir, repoDir, pinning, ratelimmqBin } = env;
  const target = await useTarget({ hosts: 1, latencyMs: 0 });
  const urlFile = join(tmpDir, 'w5-one.txt');
  writeFileSync(urlFile, `${target.bases[0]}/item/0\n`);
  const prefix = pinning.prefixes?.client ?? [];
  const commands = {
    floor: [...prefix, process.execPath, '-e', '0'],
    version: [...prefix, process.execPath, ratelimmqBin, '--version'],
    fetchOne: [...prefix, process.execPath, ratelimmqBin, 'fetch', urlFile, '--report', 'none', '--no-progress', '-o', '/dev/null'],
  };
  const samples = { floor: [], version: [], fetchOne: [] };
  const problems = [];
  const runs = opts['w5-runs'];
  // One unrecorded round first (file cache), then rounds of the three in rotated order.
  for (let rep = -1; rep < runs; rep++) {
    const names = Object.keys(commands);
    const order = names.map((_, i) => names[(i + Math.max(rep, 0)) % names.length]);
    for (const name of order) {
      if (name === 'fetchOne') await target.reset();
      const m = await runMeasured(commands[name], { cwd: repoDir, env: process.env, timeoutMs: TIMEOUT_MS });
      if (m.code !== 0) problems.push(`${name}: exit ${m.code} ${m.stderrTail.slice(-200)}`);
      if (name === 'fetchOne') {
        const s = await target.stats();
        if (s.requests !== 1 || (s.statuses['200'] ?? 0) !== 1) problems.push(`fetchOne: target saw ${s.requests} requests`);
      }
      if (rep >= 0) samples[name].push(round(m.wallS * 1000, 2));
    }
  }
  const stats = Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return [k, { n: xs.length, medianMs: round(median(xs)), minMs: sorted[0] ?? null, p90Ms: percentile(sorted, 90), maxMs: sorted.at(-1) ?? null }];
    }),
  );
  const medians = {
    floorMs: stats.floor.medianMs,
    versionMs: stats.version.medianMs,
    fetchOneMs: stats.fetchOne.medianMs,
    versionOverFloorMs: round(stats.version.medianMs - stats.floor.medianMs),
    fetchOneOverFloorMs: round(stats.fetchOne.medianMs - stats.floor.medianMs),
  };
  log(`W5 medians: node -e 0 ${medians.floorMs} ms, --version ${medians.versionMs} ms (+${medians.versionOverFloorMs}), one-URL fetch ${medians.fetchOneMs} ms (+${medians.fetchOneOverFloorMs})`);
  const section = {
    date: new Date().toISOString(),
    title,
    options: { runs, pinned: !!pinning.prefixes },
    commands: Object.fromEntries(Object.entries(commands).map(([k, a]) => [k, a.join(' ')])),
    stats,
    medians,
    // No goal was set for start-up; the figures are the overhead above the floor.
    goals: null,
    problems,
    samples,
  };
  return { section, text: format(section), ok: problems.length === 0 };
}

export function format(s) {
  const label = { floor: 'node -e 0 (floor)', version: 'ratelimmq --version', fetchOne: 'fetch 1 URL (--report none)' };
  const rows = Object.entries(s.stats).map(([k, x]) => [label[k], x.n, x.medianMs, x.minMs, x.p90Ms, x.maxMs, k === 'floor' ? '' : round(x.medianMs - s.stats.floor.medianMs)]);
  return (
    `== ${s.title}\n${s.options.runs} runs each, interleaved${s.problems.length ? `\nPROBLEMS: ${s.problems.join('; ')}` : ''}\n\n` +
    formatRows(['command', 'runs', 'median ms', 'min', 'p90', 'max', 'median - floor'], rows)
  );
}

export function headline(s) {
  const m = s.medians;
  return { figures: `--version ${m.versionMs} ms (+${m.versionOverFloorMs} over node -e 0 = ${m.floorMs} ms); one-URL fetch ${m.fetchOneMs} ms (+${m.fetchOneOverFloorMs})`, goals: null };
}
