// W4 memory: 1,000,000 URLs piped on stdin to `ratelimmq fetch - -c 100 --per-host 100
// --no-results` against the fast target. VmRSS sampled every 250 ms: memory must not grow with
// the input (second-half peak within 10% of the first-half peak) and stay under 200 MB.
import { rssHalves, rssPeaksBySlice, rssSlopeMbPerMin } from '../analysis.mjs';
import { median } from '../summary.mjs';
import { runStdinFetch, stdinRunProblems } from './stdin-fetch.mjs';
import { formatRows } from './table.mjs';

const HOSTS = 4;
const CONCURRENCY = 100;
const SAMPLE_MS = 250;
export const GOALS = { secondOverFirst: 1.1, peakMb: 200 };

export const title = `W4 memory (stdin, ${HOSTS} hosts, fast target, c=${CONCURRENCY}, --no-results, VmRSS every ${SAMPLE_MS} ms)`;

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

export async function run(env) {
  const { opts, log, useTarget } = env;
  await useTarget({ hosts: HOSTS, latencyMs: 0 });
  const urls = opts['w4-urls'];
  // ~12k req/s here: 1M URLs take ~90 s; allow 4x the per-run timeout.
  const timeoutMs = opts['timeout-s'] * 4 * 1000;
  const runs = [];
  let command = null;
  for (let rep = 0; rep < opts['w4-runs']; rep++) {
    const out = await runStdinFetch(env, {
      name: 'w4', urls, rssSampleMs: SAMPLE_MS, timeoutMs,
      args: ['-c', String(CONCURRENCY), '--per-host', String(CONCURRENCY)],
    });
    command = out.argv;
    const { measured, report, rusage, targetAfter } = out;
    const problems = stdinRunProblems(out, urls, timeoutMs);
    if (measured.code !== 0) problems.push(`exit code ${measured.code}${measured.signal ? ` (${measured.signal})` : ''}`);
    if (report && report.ok !== urls) problems.push(`ok ${report.ok} of ${urls}`);
    const durationMs = measured.wallS * 1000;
    const rss = rssHalves(measured.rssSamples, durationMs);
    const r = {
      rep: rep + 1,
      valid: problems.length === 0,
      problems,
      wallS: round(measured.wallS, 2),
      reqPerS: Math.round(urls / measured.wallS),
      cpuS: measured.cpuS === null ? null : round(measured.cpuS, 2),
      rss,
      rssPeaksByQuarterMb: rssPeaksBySlice(measured.rssSamples, durationMs, 4),
      rssSlopeSecondHalfMbPerMin: rssSlopeMbPerMin(measured.rssSamples, durationMs / 2),
      maxRssPreloadMb: rusage.peakRssKb === null ? null : round(rusage.peakRssKb / 1024),
      accounting: report ? { total: report.total, ok: report.ok, failed: report.failed, invalid: report.invalid, attempts: report.attempts, duration_s: report.duration_s, urls_per_s: report.urls_per_s } : null,
      target: { requests: targetAfter.total.requests, statuses: targetAfter.total.statuses, maxInFlight: targetAfter.total.maxInFlight, cpuS: out.targetCpuS },
      // [seconds since spawn, MB] every sample, for a plot.
      rssSeries: measured.rssSamples.map((s) => [round(s.tMs / 1000, 2), round(s.kb / 1024)]),
      ...(problems.length ? { stderrTail: measured.stderrTail.slice(-1000) } : {}),
    };
    runs.push(r);
    log(`run ${rep + 1}/${opts['w4-runs']} ${r.valid ? '' : `INVALID ${problems.join('; ')} `}${r.wallS} s (${r.reqPerS}/s), RSS peak ${rss.peakMb} MB, halves ${rss.firstHalfPeakMb} -> ${rss.secondHalfPeakMb} MB (x${rss.secondOverFirst}), quarters ${r.rssPeaksByQuarterMb.join(' ')}, total ${report?.total} ok ${report?.ok}`);
  }
  const valid = runs.filter((r) => r.valid);
  const m = (f, d = 1) => round(median(valid.map(f)), d);
  const medians = {
    validRuns: valid.length,
    runs: runs.length,
    wallS: m((r) => r.wallS, 2),
    reqPerS: m((r) => r.reqPerS, 0),
    peakMb: m((r) => r.rss.peakMb),
    firstHalfPeakMb: m((r) => r.rss.firstHalfPeakMb),
    secondHalfPeakMb: m((r) => r.rss.secondHalfPeakMb),
    secondOverFirst: m((r) => r.rss.secondOverFirst, 3),
    worstSecondOverFirst: valid.length ? Math.max(...valid.map((r) => r.rss.secondOverFirst)) : null,
    maxRssPreloadMb: m((r) => r.maxRssPreloadMb),
    slopeSecondHalfMbPerMin: m((r) => r.rssSlopeSecondHalfMbPerMin, 2),
  };
  const goals = {
    flat: { goal: `second-half peak <= ${GOALS.secondOverFirst}x first-half peak`, value: medians.secondOverFirst, met: medians.secondOverFirst !== null && medians.secondOverFirst <= GOALS.secondOverFirst },
    peak: { goal: `peak RSS < ${GOALS.peakMb} MB`, value: medians.peakMb, met: medians.peakMb !== null && medians.peakMb < GOALS.peakMb },
    accounting: { goal: `total = ok = ${urls} in every run`, value: runs.map((r) => (r.accounting ? `${r.accounting.total}/${r.accounting.ok}` : '-')).join(' '), met: runs.length > 0 && runs.every((r) => r.valid) },
  };
  const section = {
    date: new Date().toISOString(),
    title,
    options: { urls, hosts: HOSTS, concurrency: CONCURRENCY, sampleMs: SAMPLE_MS, runs: opts['w4-runs'], timeoutS: timeoutMs / 1000 },
    command,
    method: 'VmRSS from /proc/<pid>/status every 250 ms (pid = the node client; taskset execs into it). Halves by time from spawn to exit. URLs generated 1,000 lines at a time into the pipe, only as it drains.',
    medians,
    goals,
    runs,
  };
  return { section, text: format(section), ok: runs.every((r) => r.valid) };
}

export function format(s) {
  const rows = s.runs.map((r) => [`run ${r.rep}${r.valid ? '' : ' INVALID'}`, r.wallS, r.reqPerS, r.rss.firstHalfPeakMb, r.rss.secondHalfPeakMb, r.rss.secondOverFirst, r.rss.peakMb,
    r.rssPeaksByQuarterMb.join(' / '), r.rssSlopeSecondHalfMbPerMin, r.accounting ? `${r.accounting.total} = ${r.accounting.ok} + ${r.accounting.failed} + ${r.accounting.invalid}` : '-']);
  const m = s.medians;
  rows.push(['median', m.wallS, m.reqPerS, m.firstHalfPeakMb, m.secondHalfPeakMb, m.secondOverFirst, m.peakMb, '', m.slopeSecondHalfMbPerMin, '']);
  const goals = Object.entries(s.goals).map(([k, g]) => `  ${k}: ${g.value} (goal ${g.goal}) ${g.met ? 'MET' : 'MISSED'}`).join('\n');
  return (
    `== ${s.title}\n${s.options.urls} URLs per run, ${s.options.runs} runs\n\n` +
    formatRows(['', 'wall s', 'URLs/s', '1st-half peak MB', '2nd-half peak MB', '2nd/1st', 'peak MB', 'peak by quarter MB', 'slope 2nd half MB/min', 'total = ok + failed + invalid'], rows) +
    `\n${goals}`
  );
}

export function headline(s) {
  const m = s.medians;
  return {
    figures: `peak ${m.peakMb} MB; halves ${m.firstHalfPeakMb} -> ${m.secondHalfPeakMb} MB (x${m.secondOverFirst}, worst x${m.worstSecondOverFirst}); ${m.reqPerS} URLs/s; ${m.validRuns}/${m.runs} runs accounted for`,
    goals: s.goals,
  };
}
