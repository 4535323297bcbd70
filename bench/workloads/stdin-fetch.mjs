// One `ratelimmq fetch -` run fed on stdin by a generator (W4, soak): the URLs are produced a
// chunk at a time as the pipe drains, never held in memory whole, and the client's VmRSS is
// sampled while it runs. Returns what the workloads need to judge it.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured } from '../measure.mjs';
import { nodeEnv, nodeRusage, readJsonFile } from '../tools.mjs';

const CHUNK_LINES = 1_000;

/** `${base}/item/${i}` lines, round-robin over the hosts, `CHUNK_LINES` per string. */
export function* urlChunks(bases, count) {
  for (let start = 0; start < count; start += CHUNK_LINES) {
    let chunk = '';
    const end = Math.min(count, start + CHUNK_LINES);
    for (let i = start; i < end; i++) chunk += `${bases[i % bases.length]}/item/${i}\n`;
    yield chunk;
  }
}

let seq = 0;

/**
 * Runs `ratelimmq fetch - <args> --no-results --report json --report-file ...` against env.target.
 * Options: urls (count), args (ratelimmq options), rssSampleMs, timeoutMs, snapshotEvery ('1s' or null).
 * Resolves { argv, measured, report, rusage, snapshots, targetAfter, targetCpuS }.
 */
export async function runStdinFetch(env, { name, urls, args, rssSampleMs, timeoutMs, snapshotEvery = null }) {
  const { target, repoDir, tmpDir, pinning, ratelimmqBin, opts } = env;
  const runDir = join(tmpDir, `${name}-${++seq}`);
  mkdirSync(runDir);
  const reportFile = join(runDir, 'report.json');
  const snapshotFile = join(runDir, 'snapshots.ndjson');
  const argv = [
    ...(pinning.prefixes?.client ?? []), process.execPath, ratelimmqBin, 'fetch', '-', ...args,
    '--no-results', '--no-progress', '--report', 'json', '--report-file', reportFile,
    ...(snapshotEvery ? ['--snapshot-every', snapshotEvery, '--snapshot-file', snapshotFile] : []),
    ...opts['ratelimmq-args'].split(' ').filter(Boolean),
  ];
  await target.reset();
  const cpu0 = target.cpuS();
  const measured = await runMeasured(argv, {
    cwd: repoDir, env: nodeEnv({ runDir }), timeoutMs, input: urlChunks(target.bases, urls), rssSampleMs,
  });
  const targetAfter = await target.snapshot();
  const cpu1 = target.cpuS();
  let snapshots = [];
  if (snapshotEvery) {
    try {
      snapshots = readFileSync(snapshotFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    } catch {
      snapshots = [];
    }
  }
  return {
    argv: argv.join(' ').replaceAll(runDir, '<run dir>'),
    measured,
    report: readJsonFile(reportFile),
    rusage: nodeRusage({ runDir }),
    snapshots,
    targetAfter,
    targetCpuS: cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) * 100) / 100,
  };
}

/** Problems that make a stdin run invalid: exit, timeout, accounting, and what the target saw. */
export function stdinRunProblems({ measured, report, targetAfter }, urls, timeoutMs) {
  const p = [];
  if (measured.spawnError) p.push(`spawn: ${measured.spawnError}`);
  if (measured.timedOut) p.push(`killed after ${Math.round(timeoutMs / 1000)} s`);
  if (measured.inputError && measured.inputError !== 'ERR_STREAM_PREMATURE_CLOSE') p.push(`stdin: ${measured.inputError}`);
  if (!report) p.push('no report file');
  else {
    if (report.total !== urls) p.push(`report total ${report.total} != ${urls} URLs`);
    if (report.ok + report.failed + report.invalid !== report.total) p.push(`ok + failed + invalid = ${report.ok + report.failed + report.invalid} != total ${report.total}`);
    if (targetAfter.total.requests !== report.attempts) p.push(`target saw ${targetAfter.total.requests} requests, report says ${report.attempts} attempts`);
  }
  return p;
}
