/**
 * The report as text for humans on stderr: an aligned block like autocannon's and vegeta's.
 * Pure: returns a string.
 */
import type { HostReport, LatencyReport, Report } from './report.js';


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
    ...scheduleLines(r, line, paint),
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

/** With a rate: corrected latency, late starts, and why the rate was missed. */
function scheduleLines(r: Report, line: (label: string, body: string) => string, paint: Paint): string[] {
  const s = r.schedule;
  if (s.rate_per_s === null && s.per_host_rate_per_s === null) return [];
  const c = r.latency_corrected_ms;
  const out: string[] = [];
  if (c.count > 0) {
    const cells = LATENCY_COLUMNS.map(([, key]) => formatMs(c[key]));
    out.push(line('Corrected', `${cells.join('  ')}  ${paint('dim', 'ms, from each scheduled start (coordinated omission)')}`));
  }
  const limits = [s.rate_per_s !== null ? `${s.rate_per_s}/s` : null, s.per_host_rate_per_s !== null ? `${s.per_host_rate_per_s}/s per host` : null].filter(Boolean).join(', ');
  const achieved = s.achieved_per_s === null ? '-' : `${s.achieved_per_s.toFixed(2)}/s`;
  const late = s.late_starts > 0 ? paint('warn', `${s.late_starts} late starts (mean ${formatMs(s.late_mean_ms)} ms, max ${formatMs(s.late_max_ms)} ms)`) : '0 late starts';
  out.push(line('Rate', `${achieved} achieved of ${limits}; ${late}`));
  for (const w of r.warnings) out.push(line('Warning', paint('warn', w)));
  return out;
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
    String(h.throttled),
  ]);
  const header = ['host', 'requests', 'ok', 'failed', 'p50 ms', 'p99 ms', 'rps', 'throttled'];
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

