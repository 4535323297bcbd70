// Soak (issue 5): 1,000,000 URLs over 16 loopback hosts (127.0.0.1-16) on stdin, a target with
// 5-10 ms latency and 1% 500s, a per-host rate limit and retries. Checks that RSS stays flat
// (VmRSS every second), that the achieved rate matches the configured one (report `schedule`,
// per-host `rps`, and ratelimmq's own per-second snapshots), and that every URL is accounted for.
// Not in the default set: it takes ~2.5 minutes. Killed (process group, by pid) after --soak-max-minutes.
import { rssHalves, rssPeaksBySlice, rssSlopeMbPerMin, spread } from '../analysis.mjs';
import { median } from '../summary.mjs';
import { runStdinFetch, stdinRunProblems } from './stdin-fetch.mjs';
import { formatRows } from './table.mjs';

const HOSTS = 16;
const LATENCY_MS = 5;
const JITTER_MS = 5;
const ERROR_RATE = 0.01;
const CONCURRENCY = 400;
const PER_HOST = 50;
const RETRIES = 2;
const RETRY_BASE_MS = 10;
const SAMPLE_MS = 1_000;
export const GOALS = { rateErrorPct: 3, secondOverFirst: 1.1, peakMb: 200 };

export const title = `Soak (${HOSTS} hosts, ${LATENCY_MS}+${JITTER_MS} ms, ${ERROR_RATE * 100}% 500s, --retries ${RETRIES} --retry-base ${RETRY_BASE_MS})`;

const round = (x, d = 1) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);

export async function run(env) {
  const { opts, log, useTarget } = env;
  await useTarget({ hosts: HOSTS, latencyMs: LATENCY_MS, extraArgs: ['--jitter', String(JITTER_MS), '--error-rate', String(ERROR_RATE)] });
  const urls = opts['soak-urls'];
  const perHostRate = opts['soak-per-host-rate'];
  const configuredPerS = perHostRate * HOSTS;
  const timeoutMs = opts['soak-max-minutes'] * 60_000;
  log(`soak: ${urls} URLs at --per-host-rate ${perHostRate} x ${HOSTS} = ${configuredPerS}/s (~${Math.round(urls / configuredPerS)} s); killed after ${opts['soak-max-minutes']} min`);
  const out = await runStdinFetch(env, {
    name: 'soak', urls, rssSampleMs: SAMPLE_MS, timeoutMs, snapshotEvery: '1s',
    args: ['-c', String(CONCURRENCY), '--per-host', String(PER_HOST), '--per-host-rate', String(perHostRate), '--retries', String(RETRIES), '--retry-base', String(RETRY_BASE_MS)],
  });
  const { measured, report, rusage, targetAfter, snapshots } = out;
  const problems = stdinRunProblems(out, urls, timeoutMs);
  // Exit 1 is expected when a URL still failed after its retries (1% ^ 3 = 1 in a million); the accounting decides.
  if (![0, 1].includes(measured.code)) problems.push(`exit code ${measured.code}${measured.signal ? ` (${measured.signal})` : ''}`);

  const durationMs = measured.wallS * 1000;
  const hostRps = report ? Object.values(report.hosts).map((h) => h.rps).filter((x) => x !== null) : [];
  // Steady state: the snapshots after the first 5 s and before the last one (a partial interval).
  const steady = snapshots.filter((s) => s.elapsed_s > 5).slice(0, -1);
  const snapshotRps = spread(steady.map((s) => s.rps));
  const achieved = report?.schedule?.achieved_per_s ?? null;
  const target500 = targetAfter.total.statuses['500'] ?? 0;
  const accounting = report
    ? {
        total: report.total, ok: report.ok, failed: report.failed, invalid: report.invalid,
        sum: report.ok + report.failed + report.invalid,
        attempts: report.attempts, retries: report.retries,
        status: report.status, attempt_status: report.attempt_status, errors: report.errors,
        targetRequests: targetAfter.total.requests, target500, targetStatuses: targetAfter.total.statuses,
        // Every 500 is retried except the last attempt of a URL that failed (500 is the only failure here).
        retriesExplained: report.retries === target500 - report.failed,
      }
    : null;
  const result = {
    valid: problems.length === 0,
    problems,
    exit: { code: measured.code, signal: measured.signal, timedOut: measured.timedOut },
    wallS: round(measured.wallS, 2),
    cpuS: measured.cpuS === null ? null : round(measured.cpuS, 2),
    cpuShare: measured.cpuS === null ? null : round(measured.cpuS / measured.wallS, 2),
    targetCpuS: out.targetCpuS,
    rate: {
      configuredPerS,
      perHostConfigured: perHostRate,
      achievedPerS: achieved,
      errorPct: achieved === null ? null : round(((achieved - configuredPerS) / configuredPerS) * 100, 2),
      starts: report?.schedule?.starts ?? null,
      lateStarts: report?.schedule?.late_starts ?? null,
      lateMeanMs: report?.schedule?.late_mean_ms ?? null,
      lateMaxMs: report?.schedule?.late_max_ms ?? null,
      perHostRps: { ...spread(hostRps), median: round(median(hostRps), 2) },
      snapshotRpsSteady: snapshotRps,
      urlsPerSWall: Math.round(urls / measured.wallS),
    },
    latency: report ? { latency_ms: report.latency_ms, latency_corrected_ms: report.latency_corrected_ms } : null,
    warnings: report?.warnings ?? [],
    rss: {
      ...rssHalves(measured.rssSamples, durationMs),
      peaksByQuarterMb: rssPeaksBySlice(measured.rssSamples, durationMs, 4),
      slopeSecondHalfMbPerMin: rssSlopeMbPerMin(measured.rssSamples, durationMs / 2),
      maxRssPreloadMb: rusage.peakRssKb === null ? null : round(rusage.peakRssKb / 1024),
      series: measured.rssSamples.map((s) => [round(s.tMs / 1000, 1), round(s.kb / 1024)]),
    },
    accounting,
    snapshots: snapshots.map((s) => [s.elapsed_s, s.done, s.rps, s.p99_ms, s.in_flight]),
    ...(problems.length ? { stderrTail: measured.stderrTail.slice(-1500) } : {}),
  };
  const goals = {
    rate: { goal: `achieved within ${GOALS.rateErrorPct}% of ${configuredPerS}/s`, value: result.rate.errorPct, met: result.rate.errorPct !== null && Math.abs(result.rate.errorPct) <= GOALS.rateErrorPct },
    flat: { goal: `second-half peak RSS <= ${GOALS.secondOverFirst}x first-half`, value: result.rss.secondOverFirst, met: result.rss.secondOverFirst !== null && result.rss.secondOverFirst <= GOALS.secondOverFirst },
    peak: { goal: `peak RSS < ${GOALS.peakMb} MB`, value: result.rss.peakMb, met: result.rss.peakMb !== null && result.rss.peakMb < GOALS.peakMb },
    accounting: {
      goal: `total = ok + failed + invalid = ${urls}; target requests = attempts`,
      value: accounting ? `${accounting.total} = ${accounting.ok} + ${accounting.failed} + ${accounting.invalid}; ${accounting.targetRequests} = ${accounting.attempts}` : '-',
      met: result.valid,
    },
  };
  log(`soak: ${result.valid ? 'valid' : `INVALID ${problems.join('; ')}`}, ${result.wallS} s, achieved ${achieved}/s of ${configuredPerS}/s, RSS peak ${result.rss.peakMb} MB (halves x${result.rss.secondOverFirst})`);
  const section = {
    date: new Date().toISOString(),
    title,
    options: { urls, hosts: HOSTS, latencyMs: LATENCY_MS, jitterMs: JITTER_MS, errorRate: ERROR_RATE, concurrency: CONCURRENCY, perHost: PER_HOST, perHostRate, retries: RETRIES, retryBaseMs: RETRY_BASE_MS, sampleMs: SAMPLE_MS, maxMinutes: opts['soak-max-minutes'] },
    command: out.argv,
    target: env.target.args,
    method: 'One run. VmRSS every 1 s; halves and quarters by time from spawn to exit. Rate: report schedule.achieved_per_s (attempt starts, first to last), per-host rps, and the per-second --snapshot-every lines (steady state: after 5 s, last dropped). snapshots: [elapsed_s, done, rps, p99_ms, in_flight].',
    result,
    goals,
  };
  return { section, text: format(section), ok: result.valid };
}

export function format(s) {
  const r = s.result;
  const rows = [
    ['wall s / URLs per s (wall)', `${r.wallS} / ${r.rate.urlsPerSWall}`],
    ['configured rate', `${r.rate.configuredPerS}/s (${r.rate.perHostConfigured}/s x ${s.options.hosts} hosts)`],
    ['achieved (report schedule)', `${r.rate.achievedPerS}/s (${r.rate.errorPct}%), late starts ${r.rate.lateStarts} of ${r.rate.starts} (mean ${r.rate.lateMeanMs} ms, max ${r.rate.lateMaxMs} ms)`],
    ['per-host rps (report)', `min ${r.rate.perHostRps.min} median ${r.rate.perHostRps.median} max ${r.rate.perHostRps.max}`],
    ['snapshot rps, steady', `mean ${r.rate.snapshotRpsSteady.mean} min ${r.rate.snapshotRpsSteady.min} max ${r.rate.snapshotRpsSteady.max} CV ${r.rate.snapshotRpsSteady.cv}`],
    ['latency p50/p99 (corrected)', r.latency ? `${r.latency.latency_ms.p50}/${r.latency.latency_ms.p99} ms (${r.latency.latency_corrected_ms.p50}/${r.latency.latency_corrected_ms.p99} ms)` : '-'],
    ['RSS peak / halves', `${r.rss.peakMb} MB; ${r.rss.firstHalfPeakMb} -> ${r.rss.secondHalfPeakMb} MB (x${r.rss.secondOverFirst})`],
    ['RSS peak by quarter', `${r.rss.peaksByQuarterMb.join(' / ')} MB; slope 2nd half ${r.rss.slopeSecondHalfMbPerMin} MB/min`],
    ['accounting', r.accounting ? `total ${r.accounting.total} = ok ${r.accounting.ok} + failed ${r.accounting.failed} + invalid ${r.accounting.invalid}; attempts ${r.accounting.attempts} (retries ${r.accounting.retries}) = target ${r.accounting.targetRequests}; target 500s ${r.accounting.target500}` : '-'],
    ['CPU', `client ${r.cpuS} s (share ${r.cpuShare}), target ${r.targetCpuS} s`],
  ];
  const goals = Object.entries(s.goals).map(([k, g]) => `  ${k}: ${g.value} (goal ${g.goal}) ${g.met ? 'MET' : 'MISSED'}`).join('\n');
  return `== ${s.title}\n${s.options.urls} URLs, one run${r.valid ? '' : `, INVALID: ${r.problems.join('; ')}`}${r.warnings.length ? `\nratelimmq warnings: ${r.warnings.join(' | ')}` : ''}\n\n${formatRows(['', ''], rows)}\n${goals}`;
}

export function headline(s) {
  const r = s.result;
  return {
    figures: `${r.rate.achievedPerS}/s of ${r.rate.configuredPerS}/s (${r.rate.errorPct}%); RSS peak ${r.rss.peakMb} MB, halves x${r.rss.secondOverFirst}, quarters ${r.rss.peaksByQuarterMb.join('/')}; ` +
      (r.accounting ? `${r.accounting.total} = ${r.accounting.ok} + ${r.accounting.failed} + ${r.accounting.invalid}` : 'no report'),
    goals: s.goals,
  };
}
