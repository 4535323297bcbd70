// W2 latency-bound: a 50 ms target, 20,000 URLs over 4 hosts, 200 in flight. The ideal is
// concurrency / latency = 200 / 0.05 s = 4,000 req/s; a client that keeps 200 requests in flight
// all the time gets there. Compared: the raw-undici loop, ratelimmq (default slow start 32, and
// --slow-start 0), curl --parallel-max 200. Latency: ratelimmq's report (latency_ms), the
// baseline's own per-request timing (--latency), curl's %{time_total}.
import { median } from '../summary.mjs';
import { formatRows } from './table.mjs';

const HOSTS = 4;
const LATENCY_MS = 50;
const CONCURRENCY = 200;
const IDEAL_PER_S = CONCURRENCY / (LATENCY_MS / 1000);
const WARMUP_URLS = 2_000;
/** ratelimmq's own per-interval snapshots, to separate the cold first second from the steady state. */
const SNAPSHOT_EVERY = '250ms';
const STEADY_AFTER_S = 1.5;
export const GOALS = { pctIdeal: 95, p99Ms: 100 };

export const title = `W2 latency-bound (${HOSTS} hosts, ${LATENCY_MS} ms, c=${CONCURRENCY}, ideal ${IDEAL_PER_S} req/s)`;

function variants(env) {
  const { tools, selectedTools } = env;
  const all = [
    { name: 'undici', label: 'raw undici', tool: tools.undici, extra: {} },
    { name: 'ratelimmq', label: 'ratelimmq', tool: tools.ratelimmq, extra: {} }, // -c 200 --per-host 200
    { name: 'ratelimmq-ss0', label: 'ratelimmq --slow-start 0', tool: tools.ratelimmq, extra: { ratelimmqArgs: ['--slow-start', '0'] } },
    { name: 'curl', label: 'curl --parallel', tool: tools.curl, extra: {} },
  ];
  return all.filter((v) => selectedTools.includes(v.tool.name));
}

/**
 * From ratelimmq's snapshots: req/s and % of ideal after STEADY_AFTER_S up to the last full
 * interval, and the worst interval p99 there. Null without enough snapshots.
 */
function steadyState(snapshots) {
  if (!snapshots) return null;
  const full = snapshots.slice(0, -1);
  const from = full.find((s) => s.elapsed_s >= STEADY_AFTER_S);
  const to = full.at(-1);
  if (!from || !to || to.elapsed_s <= from.elapsed_s) return null;
  const perS = (to.done - from.done) / (to.elapsed_s - from.elapsed_s);
  const inWindow = full.filter((s) => s.elapsed_s > from.elapsed_s);
  return {
    fromS: from.elapsed_s, toS: to.elapsed_s, perS: Math.round(perS), pctIdeal: Math.round((1000 * perS) / IDEAL_PER_S) / 10,
    p99MsMax: Math.max(...inWindow.map((s) => s.p99_ms ?? 0)),
    firstSecondPerS: snapshots.filter((s) => s.elapsed_s <= 1.01).map((s) => Math.round(s.rps)),
  };
}

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

export async function run(env) {
  const { opts, log, useTarget, makeUrls, writeInputs, runOnce, describe } = env;
  const target = await useTarget({ hosts: HOSTS, latencyMs: LATENCY_MS });
  const n = opts['w2-urls'];
  const main = writeInputs('w2', makeUrls(target.bases, n));
  const vs = variants(env);
  const common = { concurrency: CONCURRENCY, latency: true, keepReport: true, snapshotEvery: SNAPSHOT_EVERY };

  const warm = writeInputs('w2-warmup', makeUrls(target.bases, WARMUP_URLS, n));
  for (const v of vs) log(`warm-up  ${v.name.padEnd(13)} ${describe(await runOnce(v.tool, warm, { ...common, ...v.extra }))}`);

  const runs = [];
  for (let rep = 0; rep < opts['w2-runs']; rep++) {
    const order = vs.map((_, i) => vs[(i + rep) % vs.length]);
    for (const v of order) {
      const r = await runOnce(v.tool, main, { ...common, ...v.extra });
      const report = r.report;
      const steady = steadyState(r.snapshots);
      delete r.report;
      delete r.snapshots;
      const record = {
        rep: rep + 1,
        variant: v.name,
        ...r,
        pctIdealWall: round((100 * r.reqPerS) / IDEAL_PER_S),
        pctIdealInner: r.innerS ? round((100 * n) / r.innerS / IDEAL_PER_S) : null,
        ...(steady ? { steady } : {}),
        ...(report ? { reportExtract: { duration_s: report.duration_s, rps: report.rps, latency_ms: report.latency_ms, late_starts: report.schedule?.late_starts, warnings: report.warnings } } : {}),
      };
      runs.push(record);
      log(`run ${rep + 1}/${opts['w2-runs']} ${v.name.padEnd(13)} ${describe(r)}  ${record.pctIdealWall}% of ideal (inner ${record.pctIdealInner ?? '-'}%${steady ? `, after ${STEADY_AFTER_S} s ${steady.pctIdeal}%` : ''})  p50/p99 ${r.latencyMs?.p50 ?? '-'}/${r.latencyMs?.p99 ?? '-'} ms`);
    }
  }

  const medians = Object.fromEntries(
    vs.map((v) => {
      const valid = runs.filter((r) => r.variant === v.name && r.valid);
      const m = (f) => median(valid.map(f));
      return [v.name, {
        label: v.label,
        runs: runs.filter((r) => r.variant === v.name).length,
        validRuns: valid.length,
        reqPerS: round(m((r) => r.reqPerS), 0),
        pctIdealWall: round(m((r) => r.pctIdealWall)),
        pctIdealInner: round(m((r) => r.pctIdealInner)),
        pctIdealSteady: round(m((r) => r.steady?.pctIdeal)),
        steadyP99Ms: round(m((r) => r.steady?.p99MsMax), 2),
        p50Ms: round(m((r) => r.latencyMs?.p50), 2),
        p99Ms: round(m((r) => r.latencyMs?.p99), 2),
        p99MsMax: valid.length ? Math.max(...valid.map((r) => r.latencyMs?.p99 ?? 0)) : null,
        cpuPer10kS: round(m((r) => r.cpuPer10kS), 3),
        peakRssMb: round(m((r) => r.peakRssMb)),
      }];
    }),
  );
  const rq = medians.ratelimmq;
  const goals = rq
    ? {
        pctIdealInner: { goal: `>= ${GOALS.pctIdeal}% (client's own duration)`, value: rq.pctIdealInner, met: rq.pctIdealInner !== null && rq.pctIdealInner >= GOALS.pctIdeal },
        pctIdealWall: { goal: `>= ${GOALS.pctIdeal}% (spawn to exit)`, value: rq.pctIdealWall, met: rq.pctIdealWall !== null && rq.pctIdealWall >= GOALS.pctIdeal },
        p99Ms: { goal: `< ${GOALS.p99Ms} ms`, value: rq.p99Ms, met: rq.p99Ms !== null && rq.p99Ms < GOALS.p99Ms },
      }
    : null;
  const section = {
    date: new Date().toISOString(),
    title,
    options: { urls: n, hosts: HOSTS, latencyMs: LATENCY_MS, concurrency: CONCURRENCY, idealPerS: IDEAL_PER_S, runs: opts['w2-runs'], warmupUrls: WARMUP_URLS },
    target: target.args,
    method:
      'req/s = URLs / wall (spawn to exit); % of ideal from wall and from the client\'s own duration (ratelimmq duration_s, baseline durationS; curl has none). ' +
      'Latency: ratelimmq latency_ms (per attempt, HdrHistogram); baseline: request() to body.dump() end; curl: %{time_total}.',
    commands: Object.fromEntries(vs.map((v) => [v.name, v.tool.argv({ ...main, ...common, ...v.extra, prefix: env.pinning.prefixes?.client ?? [], timeBin: env.timeBin, runDir: '<run dir>', ratelimmqBin: env.ratelimmqBin, ratelimmqArgs: v.extra.ratelimmqArgs ?? [] }).join(' ')])),
    medians,
    goals,
    runs,
  };
  return { section, text: format(section), ok: runs.every((r) => r.valid) };
}

export function format(s) {
  const rows = Object.values(s.medians).map((m) => [
    m.label, `${m.validRuns}/${m.runs}`, m.reqPerS, m.pctIdealWall, m.pctIdealInner, m.pctIdealSteady, m.p50Ms, m.p99Ms, m.p99MsMax, m.steadyP99Ms, m.cpuPer10kS, m.peakRssMb,
  ]);
  const goals = s.goals ? Object.entries(s.goals).map(([k, g]) => `  ratelimmq ${k}: ${g.value} (goal ${g.goal}) ${g.met ? 'MET' : 'MISSED'}`).join('\n') : '';
  return (
    `== ${s.title}\n${s.options.urls} URLs, ${s.options.runs} runs each (medians)\n\n` +
    formatRows(['client', 'valid', 'req/s', '% ideal (wall)', '% ideal (inner)', `% ideal (after ${STEADY_AFTER_S} s)`, 'p50 ms', 'p99 ms', 'p99 max', `p99 after ${STEADY_AFTER_S} s`, 'CPU s/10k', 'RSS MB'], rows) +
    `\n${goals}\n  (after ${STEADY_AFTER_S} s: from ratelimmq's --snapshot-every ${SNAPSHOT_EVERY} lines, up to the last full interval; p99 there = the worst interval p99)`
  );
}

/** Headline numbers for the summary table. */
export function headline(s) {
  const r = s.medians.ratelimmq;
  const ss0 = s.medians['ratelimmq-ss0'];
  const u = s.medians.undici;
  const c = s.medians.curl;
  return {
    figures:
      `ratelimmq ${r?.pctIdealInner ?? '-'}% of ideal (inner; wall ${r?.pctIdealWall ?? '-'}%; after ${STEADY_AFTER_S} s ${r?.pctIdealSteady ?? '-'}%), p50/p99 ${r?.p50Ms ?? '-'}/${r?.p99Ms ?? '-'} ms; ` +
      `--slow-start 0: ${ss0?.pctIdealInner ?? '-'}%, p99 ${ss0?.p99Ms ?? '-'} ms; raw undici ${u?.pctIdealInner ?? '-'}% p99 ${u?.p99Ms ?? '-'} ms; curl ${c?.pctIdealWall ?? '-'}% (wall) p99 ${c?.p99Ms ?? '-'} ms`,
    goals: s.goals,
  };
}
