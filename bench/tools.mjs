// The clients the bench compares. Each tool knows how to build its command line, and how to read
// back, from its own output, how many URLs it says ended ok and what it used.
//
// A tool: { name, label, argv(ctx) -> string[], env(ctx) -> env, parse(measured, ctx) -> Outcome }
// Outcome: { clientOk, innerS, cpuSelfS, peakRssKb, rusageSource, error, latencyMs?, report? }
// ctx: { repoDir, urlFile, curlConfig, urlCount, concurrency, prefix, timeBin, runDir, nodeFlags, ratelimmqArgs, ratelimmqBin,
//        latency (W2: the baseline and curl time each request; latencyMs = { count, p50, p90, p99, max }),
//        snapshotEvery (ratelimmq: --snapshot-every into the run dir; outcome.snapshots = its lines) }
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { latencySummaryMs } from './analysis.mjs';

const PRELOAD_URL = pathToFileURL(new URL('./rusage-preload.mjs', import.meta.url).pathname).href;

export function readJsonFile(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function readNdjsonFile(path) {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return null;
  }
}

/** Env for a node client: the rusage preload added to NODE_OPTIONS, its output file named. */
export function nodeEnv(ctx) {
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${PRELOAD_URL}`].filter(Boolean).join(' ');
  return { ...process.env, NODE_OPTIONS: nodeOptions, BENCH_RUSAGE_FILE: join(ctx.runDir, 'rusage.json') };
}

export function nodeRusage(ctx) {
  const r = readJsonFile(join(ctx.runDir, 'rusage.json'));
  if (!r) return { cpuSelfS: null, peakRssKb: null, rusageSource: 'none (preload wrote nothing)' };
  return { cpuSelfS: (r.userCPUTimeUs + r.systemCPUTimeUs) / 1e6, peakRssKb: r.maxRSSKb, rusageSource: 'preload process.resourceUsage()' };
}

/** The last JSON line on stdout, or null. */
function lastJsonLine(stdout) {
  const lines = stdout.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]);
    } catch {
      // not JSON; keep looking
    }
  }
  return null;
}

export const undiciBaseline = {
  name: 'undici',
  label: 'raw undici',
  argv: (ctx) => [
    ...ctx.prefix, process.execPath, ...(ctx.nodeFlags ?? []),
    'bench/baseline-undici.mjs', ctx.urlFile, '--concurrency', String(ctx.concurrency), ...(ctx.latency ? ['--latency'] : []),
  ],
  env: nodeEnv,
  parse(measured, ctx) {
    const out = lastJsonLine(measured.stdout);
    return {
      clientOk: out?.ok ?? null,
      innerS: out?.durationS ?? null,
      latencyMs: out?.latencyMs ?? null,
      ...nodeRusage(ctx),
      error: out ? null : 'no JSON summary on stdout',
    };
  },
};

/** undici's `dispatch` with a counting handler: the floor under any undici client (see the file). */
export const dispatchBaseline = {
  name: 'dispatch',
  label: 'raw dispatch',
  argv: (ctx) => [...ctx.prefix, process.execPath, ...(ctx.nodeFlags ?? []), 'bench/baseline-dispatch.mjs', ctx.urlFile, '--concurrency', String(ctx.concurrency)],
  env: nodeEnv,
  parse: (measured, ctx) => undiciBaseline.parse(measured, ctx),
};

export const ratelimmq = {
  name: 'ratelimmq',
  label: 'ratelimmq',
  argv: (ctx) => [
    ...ctx.prefix, process.execPath, ...(ctx.nodeFlags ?? []),
    ctx.ratelimmqBin ?? 'bin/ratelimmq.js', 'fetch', ctx.urlFile,
    '--concurrency', String(ctx.concurrency), '--per-host', String(ctx.concurrency),
    '--no-progress', '--report', 'json', '--report-file', join(ctx.runDir, 'report.json'), '-o', '/dev/null',
    ...(ctx.snapshotEvery ? ['--snapshot-every', ctx.snapshotEvery, '--snapshot-file', join(ctx.runDir, 'snapshots.ndjson')] : []),
    ...(ctx.ratelimmqArgs ?? []),
  ],
  env: nodeEnv,
  parse(measured, ctx) {
    const report = readJsonFile(join(ctx.runDir, 'report.json'));
    return {
      clientOk: report?.ok ?? null,
      innerS: report?.duration_s ?? null,
      latencyMs: report?.latency_ms ?? null,
      report,
      snapshots: ctx.snapshotEvery ? readNdjsonFile(join(ctx.runDir, 'snapshots.ndjson')) : null,
      ...nodeRusage(ctx),
      error: report ? null : 'no report file',
    };
  },
};

/**
 * curl --parallel over a config file of url/output pairs. Its rusage comes from GNU time when
 * ctx.timeBin is set; otherwise the bench polls /proc/<pid>/status (peak RSS only; CPU then comes
 * from the reaped-children counters, which the bench reads for every tool anyway).
 */
export const curl = {
  name: 'curl',
  label: 'curl --parallel',
  argv: (ctx) => [
    ...ctx.prefix,
    ...(ctx.timeBin ? [ctx.timeBin, '-f', '%e %U %S %M', '-o', join(ctx.runDir, 'time.txt')] : []),
    'curl', '--parallel', '--parallel-immediate', '--parallel-max', String(ctx.concurrency),
    '--silent', '--write-out', ctx.latency ? '%{http_code} %{time_total}\\n' : '%{http_code}\\n', '-K', ctx.curlConfig,
  ],
  env: () => process.env,
  pollRss: (ctx) => !ctx.timeBin,
  parse(measured, ctx) {
    let clientOk = 0;
    const totalsS = [];
    for (const line of measured.stdout.split('\n')) {
      if (line.startsWith('2')) clientOk++;
      if (ctx.latency && line.length > 0) totalsS.push(Number(line.split(' ')[1]));
    }
    // %{time_total}: from the moment curl began this transfer to its end, in seconds.
    const latencyMs = ctx.latency ? latencySummaryMs(totalsS.filter(Number.isFinite).map((s) => s * 1000)) : null;
    if (!ctx.timeBin) {
      return { clientOk, innerS: null, latencyMs, cpuSelfS: null, peakRssKb: measured.polledPeakRssKb, rusageSource: `/proc/<pid>/status VmHWM polled every 25 ms` };
    }
    let time = null;
    try {
      // GNU time writes "Command exited with non-zero status N" first when it did; the numbers are the last line.
      const [e, u, s, m] = readFileSync(join(ctx.runDir, 'time.txt'), 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      if ([e, u, s, m].every(Number.isFinite)) time = { e, u, s, m };
    } catch {
      // fall through with nulls
    }
    return {
      clientOk,
      innerS: null,
      latencyMs,
      cpuSelfS: time ? time.u + time.s : null,
      peakRssKb: time ? time.m : null,
      rusageSource: time ? `${ctx.timeBin} -f '%e %U %S %M'` : 'none (time output missing)',
    };
  },
};

/** Writes the curl config: one url/output pair per URL. */
export function writeCurlConfig(path, urls) {
  writeFileSync(path, urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
}

export const ALL_TOOLS = [undiciBaseline, dispatchBaseline, ratelimmq, curl];
