/**
 * The fetch command's options: declared once here with their defaults, and resolved from the raw
 * commander values into one validated FetchConfig. Every bad value throws a UsageError naming the
 * option and quoting what was received, before anything is opened or sent.
 */
import { UsageError } from './io.js';
import { parseBytes, parseDuration, parseHeader, parseInteger, parseMethod, parseRate, parseResolve } from './option-values.js';
import { parseFailOn, type Rule } from './thresholds.js';
import { VERSION } from './version.js';

export const DEFAULTS = {
  concurrency: 50,
  slowStart: 32,
  perHost: 10,
  burst: 1,
  queueSize: 1000,
  retries: 2,
  retryBaseMs: 100,
  retryMaxMs: 10_000,
  timeoutMs: 10_000,
  graceMs: 5000,
  maxRedirects: 0,
  maxBodyBytes: 64 * 1024 * 1024,
  method: 'GET',
  userAgent: `ratelimmq/${VERSION}`,
  controlHost: '127.0.0.1',
} as const;

export type ReportFormat = 'text' | 'json' | 'none';

export interface FetchConfig {
  /** File path, or '-' for stdin. */
  source: string;
  concurrency: number;
  /** Initial global cap, growing by one per finished attempt; 0 = off. */
  slowStart: number;
  perHost: number;
  /** Starts per second; Infinity = unlimited. */
  ratePerSec: number;
  perHostRatePerSec: number;
  burst: number;
  queueSize: number;
  /** AIMD per-host rates on 429/503. */
  adaptive: boolean;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  graceMs: number;
  method: string;
  headers: Record<string, string>;
  maxRedirects: number;
  maxBodyBytes: number;
  http2: boolean;
  resolve: Map<string, string>;
  /** null = stdout. */
  output: string | null;
  /** Append completed results here (--journal); null = no journal. */
  journal: string | null;
  /** Skip input lines completed in this journal (--resume); null = fetch everything. */
  resume: string | null;
  results: boolean;
  report: ReportFormat;
  reportFile: string | null;
  /** undefined = when stderr is a TTY. */
  progress: boolean | undefined;
  failOn: Rule[];
  /** --snapshot-every in ms (null = off), written to `snapshotFile` or stderr. */
  snapshotEveryMs: number | null;
  snapshotFile: string | null;
  control: { port: number; host: string; token: string | undefined; limiter: { capacity: number; refillPerSec: number } | undefined } | null;
  debug: boolean;
}

/** Raw values as commander hands them over (strings, booleans, arrays). */
export type RawFetchOptions = Record<string, string | string[] | boolean | undefined>;

const str = (v: RawFetchOptions[string]): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: RawFetchOptions[string]): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

export function resolveFetchConfig(source: string | undefined, o: RawFetchOptions, env: NodeJS.ProcessEnv): FetchConfig {
  const int = (key: string, what: string, dflt: number, min = 1): number => {
    const v = str(o[key]);
    return v === undefined ? dflt : parseInteger(v, what, min);
  };
  const ms = (key: string, what: string, dflt: number, min = 0): number => {
    const v = str(o[key]);
    return v === undefined ? dflt : parseDuration(v, what, min);
  };
  const rate = (key: string): number => {
    const v = str(o[key]);
    return v === undefined ? Infinity : parseRate(v);
  };

  const headers: Record<string, string> = { 'user-agent': str(o.userAgent) ?? DEFAULTS.userAgent };
  for (const h of list(o.header)) {
    const [name, value] = parseHeader(h);
    headers[name] = value;
  }
  const report = str(o.report) ?? 'text';
  if (report !== 'text' && report !== 'json' && report !== 'none') {
    throw new UsageError(`invalid --report ${JSON.stringify(report)}: expected text, json or none`);
  }
  const retryBaseMs = ms('retryBase', '--retry-base', DEFAULTS.retryBaseMs);
  const retryMaxMs = ms('retryMax', '--retry-max', DEFAULTS.retryMaxMs);
  if (retryMaxMs < retryBaseMs) throw new UsageError(`--retry-max (${retryMaxMs} ms) must be >= --retry-base (${retryBaseMs} ms)`);

  return {
    source: source ?? '-',
    concurrency: int('concurrency', '--concurrency', DEFAULTS.concurrency),
    slowStart: int('slowStart', '--slow-start', DEFAULTS.slowStart, 0),
    perHost: int('perHost', '--per-host', DEFAULTS.perHost),
    ratePerSec: rate('rate'),
    perHostRatePerSec: rate('perHostRate'),
    burst: int('burst', '--burst', DEFAULTS.burst),
    queueSize: int('queueSize', '--queue-size', DEFAULTS.queueSize),
    adaptive: o.adaptive === true,
    retries: int('retries', '--retries', DEFAULTS.retries, 0),
    retryBaseMs,
    retryMaxMs,
    timeoutMs: ms('timeout', '--timeout', DEFAULTS.timeoutMs, 1),
    graceMs: ms('grace', '--grace', DEFAULTS.graceMs),
    method: parseMethod(str(o.method) ?? DEFAULTS.method),
    headers,
    maxRedirects: int('maxRedirects', '--max-redirects', DEFAULTS.maxRedirects, 0),
    maxBodyBytes: str(o.maxBody) === undefined ? DEFAULTS.maxBodyBytes : parseBytes(str(o.maxBody)!, '--max-body'),
    http2: o.http2 === true,
    resolve: new Map(list(o.resolve).map(parseResolve)),
    output: str(o.output) ?? null,
    journal: str(o.journal) ?? null,
    resume: str(o.resume) ?? null,
    results: o.results !== false,
    report,
    reportFile: str(o.reportFile) ?? null,
    progress: typeof o.progress === 'boolean' ? o.progress : undefined,
    failOn: str(o.failOn) === undefined ? [] : parseFailOn(str(o.failOn)!),
    snapshotEveryMs: str(o.snapshotEvery) === undefined ? null : parseDuration(str(o.snapshotEvery)!, '--snapshot-every', 100),
    snapshotFile: str(o.snapshotFile) ?? null,
    control: controlConfig(o, env),
    debug: o.debug === true,
  };
}

function controlConfig(o: RawFetchOptions, env: NodeJS.ProcessEnv): FetchConfig['control'] {
  const port = str(o.controlPort);
  if (port === undefined) {
    for (const k of ['controlHost', 'controlToken', 'controlLimitCapacity', 'controlLimitRefill']) {
      if (str(o[k]) !== undefined) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} needs --control-port`);
    }
    return null;
  }
  const capacity = str(o.controlLimitCapacity);
  const refill = str(o.controlLimitRefill);
  const limited = capacity !== undefined || refill !== undefined;
  const token = str(o.controlToken) ?? env.RATELIMMQ_CONTROL_TOKEN;
  return {
    port: parseInteger(port, '--control-port', 0),
    host: str(o.controlHost) ?? DEFAULTS.controlHost,
    token: token === '' ? undefined : token,
    limiter: limited
      ? { capacity: capacity === undefined ? 5 : parseInteger(capacity, '--control-limit-capacity'), refillPerSec: refill === undefined ? 1 : parseRate(refill) }
      : undefined,
  };
}
