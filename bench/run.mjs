// `npm run bench`: the workloads of bench/README.md, each on a local target in its own process.
// W1 (throughput: ratelimmq against a raw-undici baseline and curl --parallel) lives here; W2-W5
// and the soak in bench/workloads/. See `node bench/run.mjs --help` and bench/README.md.
//
// Each W1/W2 run: reset the target's counters, spawn one client (own process group, killed after
// --timeout-s), read its own count of ok URLs and its rusage, then check the target's counters
// saw exactly one 200 per URL. A run counts only when all three agree.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, usage } from './options.mjs';
import { startTarget } from './targets.mjs';
import { runMeasured, killAllClients, processCpuS, reapedChildrenCpuS } from './measure.mjs';
import { undiciBaseline, dispatchBaseline, ratelimmq, curl, writeCurlConfig } from './tools.mjs';
import { probePinning, probeGnuTime, probeCurl, probeRatelimmqFetch, machineFacts } from './env-probe.mjs';
import { toolMedians, ratio, pairedRatio, noiseWarning, formatTable, formatRatios, markdownRow, MARKDOWN_HEADER } from './summary.mjs';
import { summarise, formatSummary } from './profile-summary.mjs';
import { WORKLOADS, W1_KEYS, buildSummary, formatSummaryTable } from './workloads/index.mjs';

const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = { undici: undiciBaseline, dispatch: dispatchBaseline, ratelimmq, curl };
const log = (msg) => process.stderr.write(`${msg}\n`);

let opts;
try {
  opts = parseOptions(process.argv.slice(2), process.env);
} catch (err) {
  log(`bench: ${err.message}\n${usage()}`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(usage());
  process.exit(0);
}

// ---- cleanup: one path for normal exit, errors and signals ----------------------------------
const tmpDir = mkdtempSync(join(tmpdir(), 'ratelimmq-bench-'));
let target = null;
function cleanup() {
  killAllClients('SIGKILL');
  target?.stop();
  rmSync(tmpDir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`\nbench: ${sig}, stopping clients and target`);
    cleanup();
    process.exit(130);
  });
}

// ---- what this machine has -------------------------------------------------------------------
const pinning = opts.pin ? probePinning() : { prefixes: null, why: 'disabled by --no-pin' };
const timeBin = probeGnuTime();
const curlVersion = probeCurl();
const ratelimmqBin = resolve(REPO_DIR, opts['ratelimmq-bin']);
const fetchReady = probeRatelimmqFetch(REPO_DIR, ratelimmqBin);
const facts = machineFacts(REPO_DIR);

const skipped = {};
if (opts.tools.includes('curl') && !curlVersion) skipped.curl = 'curl with --parallel (7.66+) not found; skipped';
if (opts.tools.includes('ratelimmq') && !fetchReady) skipped.ratelimmq = '`ratelimmq fetch` not runnable yet (run `npm run build`?); skipped';
const tools = opts.tools.filter((t) => !skipped[t]).map((t) => TOOLS[t]);

log(`ratelimmq bench: ${facts.node}, undici ${facts.undici}, ${facts.cpuModel ?? 'unknown CPU'} x${facts.cpus}, load ${facts.loadavgAtStart.join(' ')}`);
log(`pinning: ${pinning.prefixes ? 'yes' : 'no'} (${pinning.why})`);
const cpuMethod = reapedChildrenCpuS() !== null
  ? '/proc/self/stat cutime+cstime deltas (client + descendants); node clients also self-report via preload'
  : `no /proc: node clients' preload self-report${timeBin ? `, curl via ${timeBin}` : ', none for curl'}`;
log(`CPU: ${cpuMethod}`);
log(`RSS: node clients via preload process.resourceUsage().maxRSS; curl via ${timeBin ? `${timeBin} %M` : '/proc/<pid>/status VmHWM polling (GNU time not found)'}`);
for (const why of Object.values(skipped)) log(`skip: ${why}`);
if (tools.length === 0 && (opts.profile || opts.workloads.includes('w1'))) {
  log('bench: nothing to run');
  process.exit(1);
}

// ---- inputs ----------------------------------------------------------------------------------
/** `${base}/item/${i}`, round-robin over the hosts, for i in [start, start + count). */
function makeUrls(bases, count, start = 0) {
  return Array.from({ length: count }, (_, k) => `${bases[(start + k) % bases.length]}/item/${start + k}`);
}
function writeInputs(name, urls) {
  const urlFile = join(tmpDir, `${name}.txt`);
  writeFileSync(urlFile, `${urls.join('\n')}\n`);
  const curlConfig = join(tmpDir, `${name}.curl`);
  if (tools.includes(curl)) writeCurlConfig(curlConfig, urls);
  return { urlFile, curlConfig, urlCount: urls.length };
}

// ---- one measured run ------------------------------------------------------------------------
let runSeq = 0;
async function runOnce(tool, inputs, extra = {}) {
  const runDir = join(tmpDir, `run-${++runSeq}-${tool.name}`);
  mkdirSync(runDir);
  const ctx = { repoDir: REPO_DIR, ...inputs, concurrency: opts.concurrency, prefix: pinning.prefixes?.client ?? [], timeBin, runDir,
    ratelimmqArgs: opts['ratelimmq-args'].split(' ').filter(Boolean), ratelimmqBin, ...extra };
  if (extra.ratelimmqArgs) ctx.ratelimmqArgs = [...extra.ratelimmqArgs, ...opts['ratelimmq-args'].split(' ').filter(Boolean)];
  await target.reset();
  const targetCpuBefore = processCpuS(target.pid);
  const measured = await runMeasured(tool.argv(ctx), {
    cwd: REPO_DIR, env: tool.env(ctx), timeoutMs: opts['timeout-s'] * 1000, pollRss: tool.pollRss?.(ctx) ?? false,
  });
  const after = await target.stats();
  const targetCpuAfter = processCpuS(target.pid);
  const targetCpuS = targetCpuBefore === null || targetCpuAfter === null ? null : round3(targetCpuAfter - targetCpuBefore);
  const outcome = tool.parse(measured, ctx);

  const n = inputs.urlCount;
  const served200 = after.statuses['200'] ?? 0;
  const problems = [];
  if (measured.spawnError) problems.push(`spawn: ${measured.spawnError}`);
  if (measured.timedOut) problems.push(`killed after ${opts['timeout-s']} s`);
  if (measured.code !== 0) problems.push(`exit code ${measured.code}${measured.signal ? ` (${measured.signal})` : ''}`);
  if (outcome.error) problems.push(outcome.error);
  if (outcome.clientOk !== n) problems.push(`client says ${outcome.clientOk} ok of ${n}`);
  if (after.requests !== n || served200 !== n) problems.push(`target saw ${after.requests} requests, ${served200} answered 200, of ${n}`);
  if (after.maxInFlight > ctx.concurrency) problems.push(`target saw ${after.maxInFlight} in flight > concurrency ${ctx.concurrency}`);

  const cpuS = measured.cpuS ?? outcome.cpuSelfS;
  return {
    tool: tool.name,
    urls: n,
    valid: problems.length === 0,
    problems,
    wallS: round3(measured.wallS),
    reqPerS: Math.round(n / measured.wallS),
    innerS: outcome.innerS,
    cpuS: cpuS === null ? null : round3(cpuS),
    cpuSelfS: outcome.cpuSelfS === null ? null : round3(outcome.cpuSelfS),
    cpuPer10kS: cpuS === null ? null : round3((cpuS * 10_000) / n),
    // Below ~0.9 the client waited: on the target, or (shared machine) on other processes.
    cpuShare: cpuS === null ? null : round3(cpuS / measured.wallS),
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
    peakRssMb: outcome.peakRssKb === null ? null : Math.round(outcome.peakRssKb / 102.4) / 10,
    rusageSource: outcome.rusageSource,
    // busy near 1.0 would mean the target, not the client, set the pace.
    target: { requests: after.requests, status200: served200, aborted: after.aborted, maxInFlight: after.maxInFlight, cpuS: targetCpuS, busy: targetCpuS === null ? null : round3(targetCpuS / measured.wallS) },
    exit: { code: measured.code, signal: measured.signal, timedOut: measured.timedOut },
    ...(outcome.latencyMs ? { latencyMs: outcome.latencyMs } : {}),
    // Only for the caller to pick fields from (W2, W3); it deletes this before storing the record.
    ...(extra.keepReport && outcome.report ? { report: outcome.report } : {}),
    ...(extra.keepReport && outcome.snapshots ? { snapshots: outcome.snapshots } : {}),
    ...(problems.length ? { stderrTail: measured.stderrTail.slice(-1000) } : {}),
  };
}
const round3 = (x) => Math.round(x * 1000) / 1000;
const describe = (r) =>
  `${r.tool.padEnd(9)} ${String(r.reqPerS).padStart(6)} req/s  wall ${r.wallS.toFixed(2)} s  CPU ${r.cpuS ?? '-'} s (share ${r.cpuShare ?? '-'})  RSS ${r.peakRssMb ?? '-'} MB  target busy ${r.target.busy ?? '-'}` +
  (r.valid ? '' : `  INVALID: ${r.problems.join('; ')}${r.stderrTail ? `\n    stderr: ${r.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`);

// ---- modes -----------------------------------------------------------------------------------
/** W1 throughput: the tools alternately on the same URLs. Its keys stay at the top level of the results file. */
async function compare() {
  const started = Date.now();
  const deadline = started + opts['max-minutes'] * 60_000;
  const main = writeInputs('urls', makeUrls(target.bases, opts.urls));
  if (opts.warmup > 0) {
    const warm = writeInputs('warmup', makeUrls(target.bases, opts.warmup, opts.urls));
    for (const tool of tools) log(`warm-up  ${describe(await runOnce(tool, warm))}`);
  }
  const runs = [];
  let incomplete = false;
  for (let rep = 0; rep < opts.runs && !incomplete; rep++) {
    // Rotate the order each repetition so no tool always runs right after the same other one.
    const order = tools.map((_, i) => tools[(i + rep) % tools.length]);
    for (const tool of order) {
      if (Date.now() > deadline) {
        log(`bench: --max-minutes ${opts['max-minutes']} reached; stopping early`);
        incomplete = true;
        break;
      }
      const r = { rep: rep + 1, ...(await runOnce(tool, main)) };
      runs.push(r);
      log(`run ${rep + 1}/${opts.runs} ${describe(r)}`);
    }
  }

  const medians = Object.fromEntries(tools.map((t) => [t.name, toolMedians(runs.filter((r) => r.tool === t.name))]));
  const ratios = {
    'ratelimmq / raw undici': ratio(medians.ratelimmq, medians.undici),
    'ratelimmq / curl': ratio(medians.ratelimmq, medians.curl),
    'raw undici / curl': ratio(medians.undici, medians.curl),
    'ratelimmq / raw dispatch': ratio(medians.ratelimmq, medians.dispatch),
    'raw dispatch / curl': ratio(medians.dispatch, medians.curl),
  };
  // Runs of one repetition are neighbours in time, so they share the machine's noise; the median
  // of per-repetition ratios is steadier than the ratio of medians on a busy box.
  const paired = {
    'ratelimmq / raw undici': pairedRatio(runs, 'ratelimmq', 'undici'),
    'ratelimmq / curl': pairedRatio(runs, 'ratelimmq', 'curl'),
    'ratelimmq / raw dispatch': pairedRatio(runs, 'ratelimmq', 'dispatch'),
    'raw dispatch / curl': pairedRatio(runs, 'dispatch', 'curl'),
  };
  const warning = noiseWarning(medians);
  const date = new Date().toISOString();
  const cpuLabel = (facts.cpuModel ?? 'unknown CPU').replace(/\s*\(R\)|\s*\(TM\)|\s*CPU|\s*Processor/g, '').trim();
  const row = markdownRow({ date, node: facts.node, cpu: `${cpuLabel} x${facts.cpus}`, pinned: !!pinning.prefixes, options: opts, medians, ratios });
  const labels = Object.fromEntries(tools.map((t) => [t.name, t.label]));

  const section = {
    date,
    durationS: Math.round((Date.now() - started) / 1000),
    incomplete,
    machine: { ...facts, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    method: {
      pinning: pinning.prefixes ? pinning.why : `none (${pinning.why})`,
      wall: 'spawn to exit as seen by the bench (includes process start-up); req/s = URLs / wall',
      cpu: `${cpuMethod}; cpuSelfS is the client's self-report`,
      rss: { node: 'preload process.resourceUsage().maxRSS', curl: timeBin ? `${timeBin} %M` : '/proc/<pid>/status VmHWM polled' },
      curl: curlVersion ?? 'not run',
      skipped,
    },
    options: {
      runs: opts.runs, urls: opts.urls, concurrency: opts.concurrency, hosts: opts.hosts, warmup: opts.warmup,
      timeoutS: opts['timeout-s'], tools: tools.map((t) => t.name), ratelimmqArgs: opts['ratelimmq-args'], ratelimmqBin,
    },
    commands: Object.fromEntries(tools.map((t) => [t.name, t.argv({ ...main, concurrency: opts.concurrency, prefix: pinning.prefixes?.client ?? [], timeBin, runDir: '<run dir>', ratelimmqArgs: opts['ratelimmq-args'].split(' ').filter(Boolean), ratelimmqBin }).join(' ')])),
    medians,
    ratios,
    pairedRatios: paired,
    warning,
    markdown: { header: MARKDOWN_HEADER, row },
    runs,
  };
  const text =
    `\n${opts.urls} URLs over ${opts.hosts} hosts, concurrency ${opts.concurrency}, ${opts.runs} runs each; ` +
      `pinning ${pinning.prefixes ? 'on' : 'off'}${incomplete ? ' (INCOMPLETE: deadline hit)' : ''}\n\n` +
      `${formatTable(medians, labels)}\n${warning ? `\n${warning}\n` : ''}\nratios of medians:\n${formatRatios(ratios)}\n` +
      `median of per-repetition ratios (steadier on a noisy machine):\n${formatRatios(paired)}\n\nREADME row:\n${MARKDOWN_HEADER}\n${row}\n`;
  return { section, text: `== W1 throughput\n${text}`, ok: runs.every((r) => r.valid) && !incomplete };
}

async function profile() {
  const dir = opts['profile-dir'] ? resolve(opts['profile-dir']) : mkdtempSync(join(tmpdir(), 'ratelimmq-prof-'));
  const inputs = writeInputs('urls', makeUrls(target.bases, opts.urls));
  const report = { date: new Date().toISOString(), machine: facts, options: { urls: opts.urls, concurrency: opts.concurrency, hosts: opts.hosts }, dir, tools: {} };
  for (const tool of tools.filter((t) => t !== curl)) {
    const toolDir = join(dir, tool.name);
    rmSync(toolDir, { recursive: true, force: true });
    const r = await runOnce(tool, inputs, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${toolDir}`] });
    log(`profile  ${describe(r)}`);
    const s = summarise(toolDir);
    process.stdout.write(`\n== ${tool.label} (${r.reqPerS} req/s under the profiler; ${toolDir})\n${formatSummary(s, 10)}\n`);
    report.tools[tool.name] = {
      run: r,
      totalMs: Math.round(s.totalUs / 1000),
      areas: s.areas.map((a) => ({ area: a.area, ms: Math.round(a.selfUs / 1000) })),
      top: s.functions.slice(0, 25).map((f) => ({ name: f.name, location: f.location, area: f.area, ms: Math.round(f.selfUs / 1000) })),
    };
  }
  const outPath = resolve(REPO_DIR, opts.out ?? 'bench/results/profile.json');
  writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwrote ${outPath}; profiles kept in ${dir}\n`);
  return 0;
}

// ---- main ----------------------------------------------------------------------------------
/** Starts a target for one workload (pinned like W1's), stopping the previous one first. */
async function useTarget({ hosts, latencyMs, extraArgs = [] }) {
  if (target) {
    target.stop();
    await target.exited();
  }
  target = null;
  target = await startTarget({ repoDir: REPO_DIR, hosts, latencyMs, extraArgs, prefix: pinning.prefixes?.target ?? [] });
  log(`target pid ${target.pid}: ${target.args} -> ${target.bases.length} hosts (${target.bases[0]} ...)`);
  return target;
}

/** Everything a workload module needs from this process (see bench/workloads/index.mjs). */
const workloadEnv = {
  opts, tmpDir, repoDir: REPO_DIR, pinning, facts, timeBin, ratelimmqBin, log, useTarget, makeUrls, writeInputs,
  runOnce: (tool, inputs, extra) => runOnce(tool, inputs, extra),
  describe: (r) => describe(r),
  get target() {
    return target;
  },
  tools: { undici: undiciBaseline, ratelimmq, curl },
  selectedTools: opts.tools.filter((t) => !skipped[t]),
};

/** The previous results file, so workloads not run this time keep their last section. */
function readPrevious(path) {
  try {
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
  } catch {
    log(`bench: ${path} is not valid JSON; starting a new one`);
    return {};
  }
}

async function runWorkloads() {
  const outPath = resolve(REPO_DIR, opts.out ?? `bench/results/${opts.quick ? 'quick' : 'latest'}.json`);
  const result = readPrevious(outPath);
  const texts = [];
  let ok = true;
  for (const name of opts.workloads) {
    const started = Date.now();
    log(`\n== ${name}: ${WORKLOADS[name]?.title ?? 'W1 throughput'}`);
    let out;
    try {
      if (name === 'w1') {
        await useTarget({ hosts: opts.hosts, latencyMs: 0 });
        out = await compare();
      } else {
        out = await WORKLOADS[name].run(workloadEnv);
      }
    } catch (err) {
      log(`bench: ${name} failed: ${err?.stack ?? err}`);
      ok = false;
      continue;
    }
    if (name === 'w1') {
      for (const k of W1_KEYS) delete result[k];
      Object.assign(result, out.section);
    } else {
      result[name] = { ...out.section, durationS: Math.round((Date.now() - started) / 1000) };
    }
    texts.push(out.text);
    ok &&= out.ok;
    process.stdout.write(`\n${out.text}\n`);
  }
  result.updatedAt = new Date().toISOString();
  result.lastInvocation = { workloads: opts.workloads, argv: process.argv.slice(2).join(' ') };
  result.summary = buildSummary(result);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
  const summaryText = formatSummaryTable(result.summary);
  writeFileSync(outPath.replace(/\.json$/, '') + '.md', `# Bench summary (${result.updatedAt})\n\nFrom \`${outPath.slice(REPO_DIR.length + 1)}\`; each row has the date of its own run.\n\n${summaryText}\n`);
  process.stdout.write(`\n== summary (every workload in ${outPath}, each from its latest run)\n${summaryText}\n\nwrote ${outPath} and ${outPath.replace(/\.json$/, '')}.md\n`);
  return ok ? 0 : 1;
}

let code = 1;
try {
  if (opts.profile) {
    await useTarget({ hosts: opts.hosts, latencyMs: 0 });
    code = await profile();
  } else {
    code = await runWorkloads();
  }
} catch (err) {
  log(`bench: ${err?.stack ?? err}`);
} finally {
  cleanup();
}
process.exit(code);
