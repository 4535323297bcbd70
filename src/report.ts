/**
 * The end-of-run report: `buildReport` turns Metrics into a plain JSON-able object (the public
 * contract of `--report json`), `formatReportText` renders it for humans. Both are pure.
 */
import type { HostStats, Metrics } from './metrics.js';

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
  /** Every host, keyed by host name, most requests first. */
  hosts: Record<string, HostReport>;
}

export interface BuildReportOptions {
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
  return {
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
    latency_ms: latencyReport(metrics),
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
}

function latencyReport(metrics: Metrics): LatencyReport {
  const l = metrics.latencyUs();
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

// ---- text ----

export interface TextOptions {
  /** ANSI colors; false gives plain text (NO_COLOR, not a TTY). */
  color: boolean;
  /** Hosts shown in the table, most requests first; the JSON report holds them all. */
  maxHosts?: number;
}

const LABEL_WIDTH = 12;
const HOST_WIDTH_MAX = 40;
const LATENCY_COLUMNS = [
  ['min', 'min'],
  ['mean', 'mean'],
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['max', 'max'],
] as const;

type Paint = (style: 'label' | 'good' | 'warn' | 'bad' | 'dim', text: string) => string;
const ANSI = { label: '1', good: '32', warn: '33', bad: '31', dim: '2' } as const;

/** The report as an aligned block of text, ending with a newline; for stderr. */
export function formatReportText(report: Report, options: TextOptions): string {
  const paint: Paint = options.color ? (style, text) => `\x1b[${ANSI[style]}m${text}\x1b[0m` : (_style, text) => text;
  const line = (label: string, body: string): string => `${paint('label', label.padEnd(LABEL_WIDTH))}${body}`.trimEnd();
  const r = report;
  const failed = r.failed > 0 ? paint('bad', `${r.failed} failed`) : `${r.failed} failed`;
  const invalid = r.invalid > 0 ? paint('warn', `${r.invalid} invalid`) : `${r.invalid} invalid`;
  const lines = [
    line('Requests', `${r.total} URLs: ${r.ok} ok, ${failed}, ${invalid}; ${r.attempts} attempts, ${r.retries} retries`),
    line('Duration', formatSeconds(r.duration_s)),
    line('Throughput', `${r.rps.toFixed(2)} req/s, ${r.urls_per_s.toFixed(2)} URLs/s, ${formatBytes(r.duration_s > 0 ? r.bytes / r.duration_s : 0)}/s (${formatBytes(r.bytes)} read)`),
    ...latencyLines(r.latency_ms, line, paint),
    line('Status', formatStatusCounts(r.status, paint)),
  ];
  if (r.retries > 0) lines.push(line('Attempts', formatStatusCounts(r.attempt_status, paint)));
  const errors = Object.entries(r.errors).map(([code, n]) => `${paint('bad', code)}: ${n}`);
  lines.push(line('Errors', errors.length > 0 ? errors.join('   ') : 'none'));
  lines.push(...hostLines(Object.values(r.hosts), options.maxHosts ?? 20, line, paint));
  return lines.join('\n') + '\n';
}

function latencyLines(l: LatencyReport, line: (label: string, body: string) => string, paint: Paint): string[] {
  if (l.count === 0) return [line('Latency', 'no responses')];
  const cells = LATENCY_COLUMNS.map(([title, key]) => {
    const value = formatMs(l[key]);
    return { title, value, width: Math.max(title.length, value.length) };
  });
  const header = cells.map((c) => c.title.padStart(c.width)).join('  ');
  const values = cells.map((c) => c.value.padStart(c.width)).join('  ');
  return [line('Latency', `${header}  ${paint('dim', `ms, ${l.count} responses`)}`), line('', values)];
}

function hostLines(hosts: HostReport[], maxHosts: number, line: (label: string, body: string) => string, paint: Paint): string[] {
  if (hosts.length === 0) return [];
  const shown = hosts.slice(0, Math.max(0, maxHosts));
  const title = shown.length < hosts.length ? `top ${shown.length} of ${hosts.length} by requests` : `${hosts.length} by requests`;
  const rows = shown.map((h) => [
    truncate(h.host, HOST_WIDTH_MAX),
    String(h.requests),
    String(h.ok),
    String(h.failed),
    formatMs(h.p50),
    formatMs(h.p99),
    h.rps === null ? '-' : h.rps.toFixed(2),
  ]);
  const header = ['host', 'requests', 'ok', 'failed', 'p50 ms', 'p99 ms', 'rps'];
  const widths = header.map((t, i) => Math.max(t.length, ...rows.map((row) => (row[i] ?? '').length)));
  const render = (cells: string[], styleFailed: boolean): string =>
    '  ' +
    cells
      .map((c, i) => {
        const padded = i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0);
        return styleFailed && i === 3 && c !== '0' ? paint('bad', padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const out = [line('Hosts', title), paint('dim', render(header, false)), ...rows.map((row) => render(row, true))];
  if (shown.length < hosts.length) out.push(`  ... and ${hosts.length - shown.length} more hosts (all are in the JSON report)`);
  return out;
}

function formatStatusCounts(counts: Record<string, number>, paint: Paint): string {
  const parts = Object.entries(counts).map(([code, n]) => {
    const c = Number(code);
    const style = c < 400 ? 'good' : c < 500 ? 'warn' : 'bad';
    return `${paint(style, code)}: ${n}`;
  });
  return parts.length > 0 ? parts.join('   ') : 'none';
}

/** Milliseconds with two decimals; '-' for no data. */
export function formatMs(ms: number | null): string {
  return ms === null ? '-' : ms.toFixed(2);
}

/** `0.123s`, `12.35s`. */
export function formatSeconds(s: number): string {
  return `${s < 1 ? s.toFixed(3) : s.toFixed(2)}s`;
}

/** Binary units with one decimal: `512 B`, `1.5 KiB`, `3.2 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
