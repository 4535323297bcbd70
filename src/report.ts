/**
 * The end-of-run report: `buildReport` turns Metrics into a plain JSON-able object (the public
 * contract of `--report json`), `formatReportText` renders it for humans. Both are pure.
 */
import type { HostStats, LatencyStatsUs, Metrics } from './metrics.js';

/**
 * Latency in ms (rounded to 0.01) of every attempt that got a response, from an HdrHistogram
 * (3 significant digits; min, mean and max are exact). Every value is null when no attempt got a
 * response: 0 would read as "instant".
 */
export interface LatencyReport {
  /** Number of attempts that got a response. */
  count: number;
  min: number | null;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

/** One host. `requests` are attempts; `ok` and `failed` are URLs. */
export interface HostReport {
  host: string;
  requests: number;
  ok: number;
  failed: number;
  /** Attempts answered 429 or 503. */
  throttled: number;
  /** From a 2-significant-digit histogram; null when no attempt to this host got a response. */
  p50: number | null;
  p99: number | null;
  /** Attempts per second between this host's first and last attempt; null with fewer than two. */
  rps: number | null;
}

/** Field names are a public contract. Invariant: total = ok + failed + invalid. */
export interface Report {
  /** ISO time the run started, when known. */
  started_at: string | null;
  /** URL lines read (one result each). */
  total: number;
  ok: number;
  /** URLs that were valid but did not end ok (HTTP 4xx/5xx, timeouts, cancelled...). */
  failed: number;
  /** Lines that were not a usable URL; no request was sent. */
  invalid: number;
  attempts: number;
  retries: number;
  duration_s: number;
  /** Attempts per second over the whole run. */
  rps: number;
  urls_per_s: number;
  /** Body bytes of the final attempts. */
  bytes: number;
  latency_ms: LatencyReport;
  /** Final status of each URL that got one, by code. */
  status: Record<string, number>;
  /** Status of every attempt that got a response, by code (retried 429s and 503s show here). */
  attempt_status: Record<string, number>;
  /** Final error of each URL that had one, by code, most frequent first. */
  errors: Record<string, number>;
  /**
   * Latency from each attempt's intended start under the rate schedule: a stalled client or
   * server shows here instead of being hidden (coordinated omission). Equal to latency_ms without a rate.
   */
  latency_corrected_ms: LatencyReport;
  /** The rate schedule: configured and achieved start rates, and starts later than intended. */
  schedule: ScheduleReport;
  /** Things the user should know, e.g. a configured rate that was not achieved and why. */
  warnings: string[];
  /** Every host, keyed by host name, most requests first. */
  hosts: Record<string, HostReport>;
}

export interface ScheduleReport {
  rate_per_s: number | null;
  per_host_rate_per_s: number | null;
  /** Starts per second between the first and last start. */
  achieved_per_s: number | null;
  starts: number;
  /** Starts more than 1 ms after their intended time, and by how much. */
  late_starts: number;
  late_mean_ms: number;
  late_max_ms: number;
}

/** The limits the run was given, for the schedule section and its warnings. */
export interface RunLimits {
  ratePerSec: number;
  perHostRatePerSec: number;
  concurrency: number;
  perHost: number;
}

export interface BuildReportOptions {
  limits?: RunLimits;
  /** Wall time of the run in seconds; rates are 0 when it is not positive. */
  durationS: number;
  startedAt?: Date;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const usToMs = (us: number | null): number | null => (us === null ? null : round2(us / 1000));
const perSecond = (n: number, s: number): number => (s > 0 ? round2(n / s) : 0);

/** Snapshot of the metrics as a report. Call after the last result was written. */
export function buildReport(metrics: Metrics, options: BuildReportOptions): Report {
  const d = options.durationS;
  const report: Report = {
    started_at: options.startedAt ? options.startedAt.toISOString() : null,
    total: metrics.total,
    ok: metrics.ok,
    failed: metrics.failed,
    invalid: metrics.invalid,
    attempts: metrics.attempts,
    retries: metrics.retries,
    duration_s: Math.round(d * 1000) / 1000,
    rps: perSecond(metrics.attempts, d),
    urls_per_s: perSecond(metrics.total, d),
    bytes: metrics.bytes,
    latency_ms: latencyReport(metrics.latencyUs()),
    latency_corrected_ms: latencyReport(metrics.correctedLatencyUs()),
    schedule: scheduleReport(metrics, options.limits),
    warnings: [],
    status: countsObject([...metrics.statusCounts()].sort((a, b) => a[0] - b[0])),
    attempt_status: countsObject([...metrics.attemptStatusCounts()].sort((a, b) => a[0] - b[0])),
    errors: countsObject([...metrics.errorCounts()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
    hosts: Object.fromEntries(
      [...metrics.hosts()]
        .map(hostReport)
        .sort((a, b) => b.requests - a.requests || (a.host < b.host ? -1 : 1))
        .map((h) => [h.host, h]),
    ),
  };
  report.warnings = rateWarnings(report, options.limits);
  return report;
}

function latencyReport(l: LatencyStatsUs | null): LatencyReport {
  return {
    count: l?.count ?? 0,
    min: usToMs(l?.min ?? null),
    mean: usToMs(l?.mean ?? null),
    p50: usToMs(l?.p50 ?? null),
    p90: usToMs(l?.p90 ?? null),
    p95: usToMs(l?.p95 ?? null),
    p99: usToMs(l?.p99 ?? null),
    p999: usToMs(l?.p999 ?? null),
    max: usToMs(l?.max ?? null),
  };
}

function hostReport(h: HostStats): HostReport {
  const spanS = (h.lastAttemptMs - h.firstAttemptMs) / 1000;
  return {
    host: h.host,
    requests: h.requests,
    ok: h.ok,
    failed: h.failed,
    throttled: h.throttled,
    p50: usToMs(h.percentileUs(50)),
    p99: usToMs(h.percentileUs(99)),
    // n attempts span n-1 intervals; with one attempt (or none) there is no rate to speak of.
    rps: h.requests >= 2 && spanS > 0 ? round2((h.requests - 1) / spanS) : null,
  };
}

function countsObject(entries: Array<[string | number, number]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of entries) out[String(k)] = n;
  return out;
}


const finiteOrNull = (n: number | undefined): number | null => (n !== undefined && Number.isFinite(n) ? round2(n) : null);

function scheduleReport(metrics: Metrics, limits: RunLimits | undefined): ScheduleReport {
  const s = metrics.starts();
  return {
    rate_per_s: finiteOrNull(limits?.ratePerSec),
    per_host_rate_per_s: finiteOrNull(limits?.perHostRatePerSec),
    achieved_per_s: s.ratePerSec === null ? null : round2(s.ratePerSec),
    starts: s.count,
    late_starts: s.late,
    late_mean_ms: round2(s.lateMeanMs),
    late_max_ms: round2(s.lateMaxMs),
  };
}

/**
 * A configured global rate that the run missed by more than 3%, with the likely cause, found with
 * Little's law (in flight = rate x latency): the limit that cannot carry the rate at the measured
 * mean latency; if none, the client or the server could not keep up.
 */
export function rateWarnings(r: Report, limits: RunLimits | undefined): string[] {
  const target = r.schedule.rate_per_s;
  const achieved = r.schedule.achieved_per_s;
  if (!limits || target === null || achieved === null || r.schedule.starts < 20 || achieved >= target * 0.97) return [];
  const missed = `configured rate ${target}/s not achieved (${achieved}/s)`;
  const latencyS = (r.latency_ms.mean ?? 0) / 1000;
  const hosts = Object.keys(r.hosts).length;
  if (Number.isFinite(limits.perHostRatePerSec) && hosts * limits.perHostRatePerSec < target) {
    return [`${missed}: --per-host-rate ${limits.perHostRatePerSec}/s over ${hosts} hosts allows at most ${round2(hosts * limits.perHostRatePerSec)}/s`];
  }
  if (latencyS > 0 && limits.concurrency / latencyS < target) {
    return [`${missed}: the concurrency cap: -c ${limits.concurrency} at mean latency ${round2(latencyS * 1000)} ms allows about ${round2(limits.concurrency / latencyS)}/s; raise --concurrency to at least ${Math.ceil(target * latencyS)}`];
  }
  if (latencyS > 0 && (hosts * limits.perHost) / latencyS < target) {
    return [`${missed}: the per-host cap: --per-host ${limits.perHost} over ${hosts} hosts at mean latency ${round2(latencyS * 1000)} ms allows about ${round2((hosts * limits.perHost) / latencyS)}/s`];
  }
  return [`${missed}: the client or the server could not keep up (${r.schedule.late_starts} late starts, up to ${r.schedule.late_max_ms} ms late); check CPU and server latency`];
}
