// W3 rate accuracy, measured at the server: the target records every arrival time
// (fixtures/target.mjs --record-times; "times" on its stdin returns them), and we compare the
// achieved rate and its evenness per 100 ms with what ratelimmq was told:
//   (a) --rate 1000 over 4 hosts; (b) --per-host-rate 250 on each of 4 hosts (1000/s in all).
// Also kept: ratelimmq's own view (report `schedule`, latency_corrected_ms vs latency_ms).
import { arrivalStats } from '../analysis.mjs';
import { median } from '../summary.mjs';
import { formatRows } from './table.mjs';

const HOSTS = 4;
const BUCKET_MS = 100;
const CONCURRENCY = 100;

export const CASES = {
  a: { label: '--rate 1000', args: ['--rate', '1000'], totalPerS: 1000, perHostPerS: null },
  b: { label: '--per-host-rate 250 (x4)', args: ['--per-host-rate', '250'], totalPerS: 1000, perHostPerS: 250 },
};
/** Goals: (a) from the issue; (b) per host our choice (25 per bucket: one arrival is 4%), aggregate as (a). */
export const GOALS = {
  errorPct: 1,
  aggregate: { bucketMin: 90, bucketMax: 110, cv: 0.05 },
  perHost: { bucketMin: 22, bucketMax: 28, cv: 0.1 },
};

export const title = `W3 rate accuracy at the server (${HOSTS} hosts, fast target, 100 ms buckets)`;

const round = (x, d = 2) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Server-side figures of one run: aggregate and per host, buckets from the first arrival on any host. */
function serverFigures(times, c) {
  const all = times.flatMap((h) => h.ms);
  const origin = Math.min(...all);
  const aggregate = arrivalStats(all, c.totalPerS, { bucketMs: BUCKET_MS, originMs: origin });
  const perHostTarget = c.perHostPerS ?? c.totalPerS / HOSTS;
  const hosts = times.map((h) => ({ base: h.base, ...arrivalStats(h.ms, perHostTarget, { bucketMs: BUCKET_MS, originMs: origin }) }));
  return { aggregate, hosts };
}

function clientFigures(report) {
  if (!report) return null;
  return {
    schedule: report.schedule,
    latencyP99Ms: report.latency_ms?.p99 ?? null,
    correctedP99Ms: report.latency_corrected_ms?.p99 ?? null,
    latencyP50Ms: report.latency_ms?.p50 ?? null,
    correctedP50Ms: report.latency_corrected_ms?.p50 ?? null,
    hostRps: Object.values(report.hosts ?? {}).map((h) => h.rps),
    warnings: report.warnings,
  };
}

export async function run(env) {
  const { opts, log, useTarget, makeUrls, writeInputs, runOnce, describe, tools } = env;
  const target = await useTarget({ hosts: HOSTS, latencyMs: 0, extraArgs: ['--record-times'] });
  const n = opts['w3-urls'];
  const inputs = writeInputs('w3', makeUrls(target.bases, n));
  const runs = [];
  for (let rep = 0; rep < opts['w3-runs']; rep++) {
    for (const [key, c] of Object.entries(CASES)) {
      const r = await runOnce(tools.ratelimmq, inputs, { concurrency: CONCURRENCY, ratelimmqArgs: c.args, keepReport: true });
      const client = clientFigures(r.report);
      delete r.report;
      const server = serverFigures(await target.times(), c);
      runs.push({ rep: rep + 1, case: key, ...r, server, client });
      const agg = server.aggregate;
      log(
        `run ${rep + 1}/${opts['w3-runs']} (${key}) ${c.label.padEnd(24)} ${r.valid ? '' : `INVALID ${r.problems.join('; ')} `}server ${agg.achievedPerS}/s (${agg.errorPct}%), ` +
          `buckets ${agg.buckets.min}..${agg.buckets.max} CV ${agg.buckets.cv}, max ${agg.maxIn10ms.count} in 10 ms at +${agg.maxIn10ms.atMs} ms; per host ${server.hosts.map((h) => h.achievedPerS).join(' ')}; ` +
          `client achieved ${client?.schedule?.achieved_per_s} late ${client?.schedule?.late_starts} p99 ${client?.latencyP99Ms} corrected ${client?.correctedP99Ms} ms`,
      );
    }
  }

  const cases = Object.fromEntries(
    Object.entries(CASES).map(([key, c]) => {
      const valid = runs.filter((r) => r.case === key && r.valid);
      const m = (f) => round(median(valid.map(f)), 4);
      const worst = (f) => (valid.length ? valid.map(f) : []);
      const medians = {
        validRuns: valid.length,
        runs: runs.filter((r) => r.case === key).length,
        achievedPerS: m((r) => r.server.aggregate.achievedPerS),
        errorPct: m((r) => r.server.aggregate.errorPct),
        bucketMean: m((r) => r.server.aggregate.buckets.mean),
        bucketMin: m((r) => r.server.aggregate.buckets.min),
        bucketMax: m((r) => r.server.aggregate.buckets.max),
        bucketCv: m((r) => r.server.aggregate.buckets.cv),
        hostAchievedPerS: m((r) => median(r.server.hosts.map((h) => h.achievedPerS))),
        hostWorstErrorPct: m((r) => Math.max(...r.server.hosts.map((h) => Math.abs(h.errorPct)))),
        hostBucketMin: m((r) => Math.min(...r.server.hosts.map((h) => h.buckets.min))),
        hostBucketMax: m((r) => Math.max(...r.server.hosts.map((h) => h.buckets.max))),
        hostBucketCvMax: m((r) => Math.max(...r.server.hosts.map((h) => h.buckets.cv))),
        maxIn10ms: m((r) => r.server.aggregate.maxIn10ms.count),
        maxIn10msAtMs: m((r) => r.server.aggregate.maxIn10ms.atMs),
        allowedIn10ms: c.totalPerS / 100 + 1,
        hostMaxIn10ms: m((r) => Math.max(...r.server.hosts.map((h) => h.maxIn10ms.count))),
        clientAchievedPerS: m((r) => r.client?.schedule?.achieved_per_s),
        clientLateStarts: m((r) => r.client?.schedule?.late_starts),
        clientLateMaxMs: m((r) => r.client?.schedule?.late_max_ms),
        latencyP99Ms: m((r) => r.client?.latencyP99Ms),
        correctedP99Ms: m((r) => r.client?.correctedP99Ms),
        // The worst run, so one bad run is not hidden by the median.
        worstRunErrorPct: worst((r) => Math.abs(r.server.aggregate.errorPct)).reduce((a, b) => Math.max(a, b), 0),
        worstRunBucketCv: worst((r) => r.server.aggregate.buckets.cv).reduce((a, b) => Math.max(a, b), 0),
      };
      const g = GOALS;
      const goals = {
        noBurst: {
          goal: `at most ${medians.allowedIn10ms} arrivals in any 10 ms (rate x 10 ms + burst 1)`,
          value: `${medians.maxIn10ms} (at ${medians.maxIn10msAtMs} ms)`,
          met: medians.maxIn10ms !== null && medians.maxIn10ms <= medians.allowedIn10ms,
        },
        rateError: { goal: `|error| <= ${g.errorPct}%`, value: medians.errorPct, met: medians.errorPct !== null && Math.abs(medians.errorPct) <= g.errorPct },
        buckets: {
          goal: `every full bucket ${g.aggregate.bucketMin}..${g.aggregate.bucketMax}, CV < ${g.aggregate.cv}`,
          value: `${medians.bucketMin}..${medians.bucketMax}, CV ${medians.bucketCv}`,
          met: medians.bucketMin >= g.aggregate.bucketMin && medians.bucketMax <= g.aggregate.bucketMax && medians.bucketCv < g.aggregate.cv,
        },
        ...(c.perHostPerS
          ? {
              perHostRateError: { goal: `every host |error| <= ${g.errorPct}%`, value: medians.hostWorstErrorPct, met: medians.hostWorstErrorPct <= g.errorPct },
              perHostBuckets: {
                goal: `every host's full buckets ${g.perHost.bucketMin}..${g.perHost.bucketMax}, CV < ${g.perHost.cv}`,
                value: `${medians.hostBucketMin}..${medians.hostBucketMax}, CV max ${medians.hostBucketCvMax}`,
                met: medians.hostBucketMin >= g.perHost.bucketMin && medians.hostBucketMax <= g.perHost.bucketMax && medians.hostBucketCvMax < g.perHost.cv,
              },
            }
          : {}),
      };
      return [key, { ...c, medians, goals }];
    }),
  );
  const section = {
    date: new Date().toISOString(),
    title,
    options: { urls: n, hosts: HOSTS, concurrency: CONCURRENCY, bucketMs: BUCKET_MS, runs: opts['w3-runs'] },
    target: target.args,
    method:
      'Arrival times recorded in the target (performance.now() as the request event fires, per host). Achieved = (n - 1) / (last - first arrival). ' +
      'Buckets of 100 ms from the first arrival on any host; the first and last bucket are dropped. CV = stdev / mean of the full buckets. Medians over runs.',
    cases,
    runs,
  };
  return { section, text: format(section), ok: runs.every((r) => r.valid) };
}

export function format(s) {
  const rows = Object.entries(s.cases).map(([k, c]) => {
    const m = c.medians;
    return [`(${k}) ${c.label}`, `${m.validRuns}/${m.runs}`, m.achievedPerS, m.errorPct, m.bucketMean, `${m.bucketMin}..${m.bucketMax}`, m.bucketCv,
      `${m.maxIn10ms}/${m.allowedIn10ms}`, m.hostAchievedPerS, m.hostWorstErrorPct, `${m.hostBucketMin}..${m.hostBucketMax}`, m.hostBucketCvMax,
      m.clientAchievedPerS, m.clientLateStarts, m.latencyP99Ms, m.correctedP99Ms];
  });
  const goals = Object.entries(s.cases)
    .flatMap(([k, c]) => Object.entries(c.goals).map(([g, v]) => `  (${k}) ${g}: ${v.value} (goal ${v.goal}) ${v.met ? 'MET' : 'MISSED'}`))
    .join('\n');
  return (
    `== ${s.title}\n${s.options.urls} URLs per run, ${s.options.runs} runs per case (medians); server = arrivals at the target\n\n` +
    formatRows(['case', 'valid', 'server req/s', 'error %', 'bucket mean', 'min..max', 'CV', 'max in 10 ms/allowed', 'host req/s', 'host |err| max %', 'host min..max', 'host CV max',
      'client achieved/s', 'late starts', 'p99 ms', 'corrected p99 ms'], rows) +
    `\n${goals}`
  );
}

export function headline(s) {
  const f = (k) => {
    const m = s.cases[k]?.medians;
    return m ? `(${k}) ${m.achievedPerS}/s (${m.errorPct}%), buckets ${m.bucketMin}..${m.bucketMax} CV ${m.bucketCv}` +
      (k === 'b' ? `, per host ${m.hostBucketMin}..${m.hostBucketMax} CV<=${m.hostBucketCvMax}, worst host |err| ${m.hostWorstErrorPct}%` : '') +
      `, max ${m.maxIn10ms} in 10 ms (allowed ${m.allowedIn10ms}), p99 ${m.latencyP99Ms} vs corrected ${m.correctedP99Ms} ms, late starts ${m.clientLateStarts}` : '';
  };
  const goals = {};
  for (const [k, c] of Object.entries(s.cases)) for (const [g, v] of Object.entries(c.goals)) goals[`(${k}) ${g}`] = v;
  return { figures: `${f('a')}; ${f('b')}`, goals };
}
