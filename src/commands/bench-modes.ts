/**
 * `ratelimmq bench-modes [source]`: the same URL list fetched by four implementations (sequential,
 * worker threads, the async pipeline, Node's fetch), at several concurrencies, a few runs each;
 * one table of medians on stdout, optionally raw JSON and an SVG chart of req/s vs concurrency.
 *
 * Without a source it starts the local target (fixtures/target.mjs: 4 hosts, 127.0.0.1-4) in its
 * own process, so the server never shares a CPU-second with the client being measured. Every run
 * of every mode is a fresh child process (this command with the hidden `--run-one`), so CPU time
 * and peak RSS belong to that mode alone and no run inherits another's heap, JIT or connections.
 * Runs are interleaved (run 1 of every mode, then run 2, ...) so drifting machine noise is shared.
 * This file holds the options; the runs live in modes/compare.ts, loaded only when it runs.
 */
import { Command, Option } from 'commander';
import { UsageError, type Io } from '../io.js';
import { parseBytes, parseDuration, parseInteger } from '../option-values.js';

import { MODES, WORK_KINDS, type Mode, type WorkKind } from '../modes/kinds.js';

export { MODES, type Mode };


/** Defaults, one place. */
export const BENCH_DEFAULTS = {
  modes: [...MODES] as Mode[],
  /** URLs per run with the built-in target; a source file gives its own count. */
  urls: 2000,
  concurrency: [1, 10, 100, 1000],
  /** Worker threads never exceed this (threads = min(concurrency, maxThreads)). */
  maxThreads: 64,
  latencyMs: 0,
  bodyBytes: 64,
  work: 'none' as WorkKind,
  runs: 3,
  maxTimeMs: 10_000,
  timeoutMs: 30_000,
};

export interface BenchModesConfig {
  /** URL file, or null for the built-in target. */
  source: string | null;
  modes: Mode[];
  /** URLs per run; null = the default (the file's count for a source). */
  urls: number | null;
  concurrency: number[];
  /** Per-host cap of the async mode; null = the concurrency (no per-host limit). */
  perHost: number | null;
  maxThreads: number;
  latencyMs: number;
  bodyBytes: number;
  work: WorkKind;
  runs: number;
  maxTimeMs: number;
  timeoutMs: number;
  json: string | null;
  chart: string | null;
}

type Raw = Record<string, string | boolean | undefined>;

function list<T>(text: string, what: string, parse: (item: string) => T): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected a comma-separated list`);
  return [...new Set(items.map(parse))];
}

/** Raw option strings to a config; throws a UsageError naming the option and the value. */
export function resolveBenchModesConfig(source: string | undefined, o: Raw): BenchModesConfig {
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const int = (k: string, flag: string, dflt: number): number => (str(k) === undefined ? dflt : parseInteger(str(k)!, flag));
  const src = source === undefined || source === '' ? null : source;
  if (src !== null && (str('latency') !== undefined || str('bodyBytes') !== undefined)) {
    throw new UsageError('--latency and --body-bytes shape the built-in target; they cannot be used with a source');
  }
  const work = str('work') ?? BENCH_DEFAULTS.work;
  if (!(WORK_KINDS as readonly string[]).includes(work)) throw new UsageError(`invalid --work ${JSON.stringify(work)}: expected one of ${WORK_KINDS.join(', ')}`);
  const modes = str('modes') === undefined ? BENCH_DEFAULTS.modes : list(str('modes')!, '--modes', (m) => {
    if (!(MODES as readonly string[]).includes(m)) throw new UsageError(`invalid --modes entry ${JSON.stringify(m)}: expected ${MODES.join(', ')}`);
    return m as Mode;
  });
  const concurrency = str('concurrency') === undefined ? BENCH_DEFAULTS.concurrency : list(str('concurrency')!, '--concurrency', (c) => parseInteger(c, '--concurrency'));
  return {
    source: src,
    modes,
    urls: str('urls') === undefined ? null : parseInteger(str('urls')!, '--urls'),
    concurrency: concurrency.sort((a, b) => a - b),
    perHost: str('perHost') === undefined ? null : parseInteger(str('perHost')!, '--per-host'),
    maxThreads: int('maxThreads', '--max-threads', BENCH_DEFAULTS.maxThreads),
    latencyMs: str('latency') === undefined ? BENCH_DEFAULTS.latencyMs : parseDuration(str('latency')!, '--latency'),
    bodyBytes: str('bodyBytes') === undefined ? BENCH_DEFAULTS.bodyBytes : parseBytes(str('bodyBytes')!, '--body-bytes'),
    work: work as WorkKind,
    runs: int('runs', '--runs', BENCH_DEFAULTS.runs),
    maxTimeMs: str('maxTime') === undefined ? BENCH_DEFAULTS.maxTimeMs : parseDuration(str('maxTime')!, '--max-time', 1),
    timeoutMs: str('timeout') === undefined ? BENCH_DEFAULTS.timeoutMs : parseDuration(str('timeout')!, '--timeout', 1),
    json: str('json') ?? null,
    chart: str('chart') ?? null,
  };
}

/** The command line that reproduces a config (for the table header and the JSON). */
export function commandLine(cfg: BenchModesConfig): string {
  const parts = ['ratelimmq bench-modes'];
  if (cfg.source !== null) parts.push(cfg.source);
  parts.push(`--modes ${cfg.modes.join(',')}`, `--concurrency ${cfg.concurrency.join(',')}`);
  if (cfg.urls !== null || cfg.source === null) parts.push(`--urls ${cfg.urls ?? BENCH_DEFAULTS.urls}`);
  if (cfg.source === null) parts.push(`--latency ${cfg.latencyMs}`, `--body-bytes ${cfg.bodyBytes}`);
  parts.push(`--work ${cfg.work}`, `--runs ${cfg.runs}`, `--max-time ${cfg.maxTimeMs}ms`, `--max-threads ${cfg.maxThreads}`);
  if (cfg.perHost !== null) parts.push(`--per-host ${cfg.perHost}`);
  return parts.join(' ');
}

export function benchModesCommand(io: Io, done: (code: number) => void): Command {
  return new Command('bench-modes')
    .description('Fetch the same URLs sequentially, with worker threads, with the async pipeline and with Node fetch(); one table of medians (req/s, p50/p95/p99, CPU, peak RSS)')
    .argument('[source]', 'file with one URL per line (default: start the local target, 127.0.0.1-4)')
    .option('--modes <list>', `modes to run (default ${MODES.join(',')})`)
    .option('--urls <n>', `URLs per run (default ${BENCH_DEFAULTS.urls}; a source is repeated or cut to this)`)
    .option('--concurrency <list>', `requests in flight (threads: worker threads) (default ${BENCH_DEFAULTS.concurrency.join(',')})`)
    .option('--max-threads <n>', `cap on worker threads (default ${BENCH_DEFAULTS.maxThreads})`)
    .option('--per-host <n>', 'per-host cap of the async pipeline (default: the concurrency, i.e. none)')
    .option('--latency <ms>', `built-in target latency (default ${BENCH_DEFAULTS.latencyMs})`)
    .option('--body-bytes <n>', `built-in target body size: 64, 1MiB (default ${BENCH_DEFAULTS.bodyBytes})`)
    .option('--work <kind>', `CPU work per body: ${WORK_KINDS.join('|')} (default ${BENCH_DEFAULTS.work})`)
    .option('--runs <n>', `runs per mode and concurrency; the table shows medians (default ${BENCH_DEFAULTS.runs})`)
    .option('--max-time <ms>', `time box per run: no request starts after it (default ${BENCH_DEFAULTS.maxTimeMs / 1000}s)`)
    .option('--timeout <ms>', `per request (default ${BENCH_DEFAULTS.timeoutMs / 1000}s)`)
    .option('--json <path>', 'write every run and the medians as JSON')
    .option('--chart <path>', 'write an SVG chart of req/s against concurrency')
    .addOption(new Option('--run-one', 'internal: run one mode from a JSON spec on stdin').hideHelp())
    .action(async (source: string | undefined, opts: Raw) => {
      const cfg = opts.runOne === true ? null : resolveBenchModesConfig(source, opts);
      const { runOneChild, runBench } = await import('../modes/compare.js');
      done(cfg === null ? await runOneChild(io) : await runBench(cfg, io));
    });
}

