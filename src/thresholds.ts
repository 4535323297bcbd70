/**
 * `--fail-on` rules: `p99>250ms,error-rate>1%,rps<100,failed>0`. A rule names a condition that
 * fails the run. Parsing is strict (a typo must not silently pass a CI gate); checking is pure and
 * reads the same rounded numbers the report shows.
 *
 * No data: a latency rule when no attempt got a response, or error-rate with no URLs, is not
 * breached (there is nothing to compare) but is returned by `uncheckedRules` so the CLI can say so.
 * Beware: `p99>250ms` alone passes a run where every request timed out; pair it with
 * `error-rate` or `failed`.
 */
import { UsageError } from './io.js';
import type { Report } from './report.js';

const LATENCY_METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
const COUNT_METRICS = ['failed', 'ok', 'invalid', 'total', 'retries', 'attempts'] as const;
const RATE_METRICS = ['rps', 'urls-per-s'] as const;

export type Metric =
  | (typeof LATENCY_METRICS)[number]
  | (typeof COUNT_METRICS)[number]
  | (typeof RATE_METRICS)[number]
  | 'error-rate';
export type Operator = '>' | '>=' | '<' | '<=' | '=' | '!=';

/** One parsed rule; `value` is in report units (ms for latency, a fraction for error-rate). */
export interface Rule {
  /** The rule as written, without whitespace (for messages). */
  text: string;
  metric: Metric;
  op: Operator;
  value: number;
}

/** A rule whose condition held, with the value that made it hold (report units). */
export interface Breach {
  rule: Rule;
  actual: number;
}

const METRICS: readonly string[] = [...LATENCY_METRICS, 'error-rate', ...RATE_METRICS, ...COUNT_METRICS];
const ALIASES: Record<string, Metric> = { 'p99.9': 'p999', errors: 'error-rate', 'urls/s': 'urls-per-s' };
const LATENCY_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, 'µs': 0.001 };
const RULE_RE = /^([a-z][a-z0-9._/-]*)(>=|<=|==|!=|>|<|=)((?:\d+(?:\.\d*)?|\.\d+))([a-zµ%/]*)$/;

/** Parses a comma-separated `--fail-on` list; throws a UsageError naming the first bad rule. */
export function parseFailOn(text: string): Rule[] {
  const parts = text.split(',');
  if (parts.every((p) => p.trim() === '')) {
    throw new UsageError(`invalid --fail-on ${JSON.stringify(text)}: expected rules like p99>250ms,error-rate>1%`);
  }
  return parts.map(parseRule);
}

function parseRule(raw: string): Rule {
  const compact = raw.replace(/\s+/g, '');
  const fail = (why: string): never => {
    throw new UsageError(`invalid --fail-on rule ${JSON.stringify(raw.trim())}: ${why}`);
  };
  const m = RULE_RE.exec(compact.toLowerCase());
  if (!m) return fail('expected METRIC OP VALUE, e.g. p99>250ms, error-rate>1%, failed>0 (OP is one of > >= < <= = !=)');
  const name = (m[1] ?? '').replace(/_/g, '-');
  const metric = ALIASES[name] ?? name;
  if (!METRICS.includes(metric)) return fail(`unknown metric "${m[1]}" (expected one of ${METRICS.join(', ')})`);
  const op = (m[2] === '==' ? '=' : m[2]) as Operator;
  const unit = m[4] ?? '';
  let value = Number(m[3]);
  if (!Number.isFinite(value)) return fail(`value ${m[3]} is too large`);
  if ((LATENCY_METRICS as readonly string[]).includes(metric)) {
    const scale = LATENCY_UNITS[unit];
    if (scale === undefined) return fail(`unknown unit "${unit}" for ${metric} (expected ms, s or us)`);
    value = Math.round(value * scale * 1e6) / 1e6; // 1.005s is 1005ms, not 1004.9999999999999
  } else if (metric === 'error-rate') {
    if (unit === '%') value /= 100;
    else if (unit !== '') return fail('error-rate takes a percentage (1%) or a fraction (0.01)');
  } else if ((RATE_METRICS as readonly string[]).includes(metric)) {
    if (unit !== '' && unit !== '/s') return fail(`${metric} takes a number per second, e.g. ${metric}<100`);
  } else if (unit !== '') {
    return fail(`${metric} takes a plain number, e.g. ${metric}>0`);
  }
  return { text: compact, metric: metric as Metric, op, value };
}

/** The report's value for a metric in report units; null when there is no data for it. */
export function metricValue(metric: Metric, report: Report): number | null {
  switch (metric) {
    case 'error-rate':
      return report.total > 0 ? (report.total - report.ok) / report.total : null;
    case 'urls-per-s':
      return report.urls_per_s;
    case 'rps':
    case 'failed':
    case 'ok':
    case 'invalid':
    case 'total':
    case 'retries':
    case 'attempts':
      return report[metric];
    default:
      return report.latency_ms[metric];
  }
}

function holds(actual: number, op: Operator, limit: number): boolean {
  switch (op) {
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '=':
      return actual === limit;
    case '!=':
      return actual !== limit;
  }
}

/** The rules whose condition holds for this report, in rule order. Rules without data never breach. */
export function checkThresholds(rules: readonly Rule[], report: Report): Breach[] {
  const breaches: Breach[] = [];
  for (const rule of rules) {
    const actual = metricValue(rule.metric, report);
    if (actual !== null && holds(actual, rule.op, rule.value)) breaches.push({ rule, actual });
  }
  return breaches;
}

/** Rules that could not be checked because their metric has no data (see the file comment). */
export function uncheckedRules(rules: readonly Rule[], report: Report): Rule[] {
  return rules.filter((rule) => metricValue(rule.metric, report) === null);
}

/** `threshold breached: p99>250ms (actual 312.4ms)`. */
export function formatBreach(breach: Breach): string {
  return `threshold breached: ${breach.rule.text} (actual ${formatActual(breach.rule.metric, breach.actual)})`;
}

/** `threshold not checked: p99>250ms (no responses)`. */
export function formatUnchecked(rule: Rule): string {
  return `threshold not checked: ${rule.text} (${rule.metric === 'error-rate' ? 'no URLs' : 'no responses'})`;
}

function formatActual(metric: Metric, actual: number): string {
  if (metric === 'error-rate') return `${Math.round(actual * 10000) / 100}%`;
  if ((LATENCY_METRICS as readonly string[]).includes(metric)) return `${actual}ms`;
  return String(actual);
}

/** The process exit code: 130 when interrupted (thresholds on a partial run mean little), 1 on a breach, else 0. */
export function exitCode(outcome: { interrupted: boolean; breaches: readonly Breach[] }): number {
  if (outcome.interrupted) return 130;
  return outcome.breaches.length > 0 ? 1 : 0;
}
