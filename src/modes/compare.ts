/**
 * The bench-modes runs: the parent starts the target, runs every mode in a fresh child process
 * (this program with the hidden `--run-one`), and prints the medians; the child runs one mode.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULTS as FETCH_DEFAULTS } from '../config.js';
import { BENCH_DEFAULTS, commandLine, MODES, type BenchModesConfig, type Mode } from '../commands/bench-modes.js';
import { UsageError, type Io } from '../io.js';
import { readLines } from '../source.js';
import { parseTarget } from '../target.js';
import { prepareAsync } from './async.js';
import { measureWindow, median, processCpuMs, type ModeSpec, type PreparedMode, type RunMeasure } from './measure.js';
import { prepareFetch } from './native-fetch.js';
import { prepareSequential } from './sequential.js';
import { renderLineChart } from './svg-chart.js';
import { prepareThreads } from './threads.js';

const BIN = fileURLToPath(new URL('../../bin/ratelimmq.js', import.meta.url));
const TARGET = fileURLToPath(new URL('../../fixtures/target.mjs', import.meta.url));
const TARGET_HOSTS = 4;
const TARGET_READY_MS = 15_000;

// --- the child: one mode, one run ---

const PREPARE: Record<Mode, (spec: ModeSpec) => Promise<PreparedMode>> = {
  sequential: prepareSequential,
  threads: prepareThreads,
  async: prepareAsync,
  fetch: prepareFetch,
};

export async function runOneChild(io: Io): Promise<number> {
  let text = '';
  for await (const chunk of io.stdin) text += String(chunk);
  const { mode, spec } = JSON.parse(text) as { mode: Mode; spec: ModeSpec };
  const prepared = await PREPARE[mode](spec);
  const m = await measureWindow(() => prepared.go());
  await prepared.close();
  io.stdout.write(JSON.stringify(m) + '\n');
  return 0;
}

// --- the parent: target, runs, summary ---

/** One run as recorded in the JSON. */
export interface RunRecord extends RunMeasure {
  mode: Mode;
  concurrency: number;
  run: number;
  /** CPU the target process used while the run's child lived; null with a source or off Linux. */
  targetCpuMs: number | null;
  /** The machine's 1-minute load average when the run ended: how noisy it was. */
  loadavg1: number;
}

/** Medians over the runs of one mode at one concurrency. */
export interface SummaryRow {
  mode: Mode;
  concurrency: number;
  threads: number;
  runs: number;
  completed: number | null;
  failed: number;
  rps: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  cpuS: number | null;
  /** Client CPU / wall time; 100 = one core busy. */
  cpuPct: number | null;
  peakRssMb: number | null;
  targetCpuPct: number | null;
}

/** Groups runs by mode and concurrency, each column the median of its runs. */
export function summarize(runs: readonly RunRecord[]): SummaryRow[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.concurrency}\0${MODES.indexOf(r.mode)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .sort((a, b) => a[0]!.concurrency - b[0]!.concurrency || MODES.indexOf(a[0]!.mode) - MODES.indexOf(b[0]!.mode))
    .map((g) => ({
      mode: g[0]!.mode,
      concurrency: g[0]!.concurrency,
      threads: g[0]!.threads,
      runs: g.length,
      completed: median(g.map((r) => r.completed)),
      failed: g.reduce((n, r) => n + r.failed, 0),
      rps: median(g.map((r) => r.rps)),
      p50Ms: median(g.map((r) => r.p50Ms)),
      p95Ms: median(g.map((r) => r.p95Ms)),
      p99Ms: median(g.map((r) => r.p99Ms)),
      cpuS: median(g.map((r) => r.cpuMs / 1000)),
      cpuPct: median(g.map((r) => (r.cpuMs / r.elapsedMs) * 100)),
      peakRssMb: median(g.map((r) => r.peakRssMb)),
      targetCpuPct: median(g.map((r) => (r.targetCpuMs === null ? null : (r.targetCpuMs / r.elapsedMs) * 100))),
    }));
}

const num = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));
const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

/** The table: one row per mode and concurrency, columns aligned, a header line. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const head = ['mode', 'conc', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU s', 'CPU %', 'peak RSS MB', 'target CPU %', 'done', 'failed'];
  const body = rows.map((r) => [
    r.mode,
    r.mode === 'threads' && r.threads !== r.concurrency ? `${r.concurrency}(${r.threads}t)` : String(r.concurrency),
    num(r.rps, r.rps !== null && r.rps < 100 ? 1 : 0),
    ms(r.p50Ms),
    ms(r.p95Ms),
    ms(r.p99Ms),
    num(r.cpuS, 2),
    num(r.cpuPct, 0),
    num(r.peakRssMb, 0),
    num(r.targetCpuPct, 0),
    num(r.completed, 0),
    String(r.failed),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n') + '\n';
}

/** The chart: req/s against concurrency, one line per mode; sequential (always 1 in flight) as a dashed reference. */
export function chartFor(rows: readonly SummaryRow[], cfg: BenchModesConfig, load: string): string {
  const series = cfg.modes.map((mode) => {
    const mine = rows.filter((r) => r.mode === mode && r.rps !== null);
    if (mode === 'sequential' && mine[0]) {
      const y = mine[0].rps!;
      return { name: 'sequential (1 in flight)', dashed: true, points: cfg.concurrency.map((x) => ({ x, y })) };
    }
    return { name: mode === 'threads' ? `threads (max ${cfg.maxThreads})` : mode, points: mine.map((r) => ({ x: r.concurrency, y: r.rps! })) };
  });
  return renderLineChart({ title: `req/s vs concurrency: ${load}`, subtitle: `ratelimmq bench-modes: medians of ${cfg.runs} runs, ${cfg.urls ?? BENCH_DEFAULTS.urls} URLs or ${cfg.maxTimeMs / 1000} s per run`, xLabel: 'concurrency (requests in flight; threads: worker threads), log scale', yLabel: 'requests per second', series });
}

/** A one-line description of the load. */
function describeLoad(cfg: BenchModesConfig): string {
  const target = cfg.source === null ? `local target (${TARGET_HOSTS} hosts), latency ${cfg.latencyMs} ms, body ${cfg.bodyBytes} B` : cfg.source;
  return `${target}, work ${cfg.work}`;
}

interface RunningTarget {
  pid: number;
  bases: string[];
  stop(): Promise<void>;
}

/** Starts fixtures/target.mjs in its own process (stdin a pipe: it exits when that closes). */
async function startTarget(cfg: BenchModesConfig, io: Io): Promise<RunningTarget> {
  const args = [TARGET, '--hosts', String(TARGET_HOSTS), '--latency', String(cfg.latencyMs), '--body', String(cfg.bodyBytes)];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  child.stderr.on('data', (b: Buffer) => io.stderr.write(`target: ${b.toString()}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.stdin.end();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const bases = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local target did not start within ${TARGET_READY_MS} ms`)), TARGET_READY_MS);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { bases: string[] }).bases);
      } catch (err) {
        reject(err as Error);
      }
    });
    void exited.then(() => reject(new Error('the local target exited before it listened')));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { pid: child.pid!, bases, stop };
}

/** The URL list: the source's URLs (cycled or cut to --urls), or `urls` spread over the target's hosts. */
async function urlList(cfg: BenchModesConfig, bases: string[]): Promise<string[]> {
  if (cfg.source === null) return Array.from({ length: cfg.urls ?? BENCH_DEFAULTS.urls }, (_, i) => `${bases[i % bases.length]}/item/${i}`);
  const urls: string[] = [];
  const input = createReadStream(cfg.source);
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`cannot read ${cfg.source}: ${err.code ?? err.message}`)));
  });
  await opened;
  for await (const batch of readLines(input)) {
    for (const line of batch) {
      if (parseTarget(line) === null) throw new UsageError(`${cfg.source}:${line.line}: not an http(s) URL: ${JSON.stringify(line.text)}`);
      urls.push(line.text);
    }
  }
  if (urls.length === 0) throw new UsageError(`${cfg.source}: no URLs`);
  const n = cfg.urls ?? urls.length;
  return Array.from({ length: n }, (_, i) => urls[i % urls.length]!);
}

/** Runs one mode in a fresh child process; rejects with its stderr if it fails. */
function runChild(mode: Mode, spec: ModeSpec, track: (kill: (() => void) | null) => void): Promise<RunMeasure> {
  const child = spawn(process.execPath, [BIN, 'bench-modes', '--run-one'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = (): void => void child.kill('SIGKILL');
  track(kill);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4000)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify({ mode, spec }));
  const limitMs = spec.maxTimeMs + spec.timeoutMs + 60_000;
  const timer = setTimeout(kill, limitMs);
  return new Promise((resolve, reject) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      track(null);
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last) as RunMeasure);
      reject(new Error(`bench-modes: the ${mode} run failed (code ${code}, signal ${signal}${signal === 'SIGKILL' ? `; limit ${limitMs} ms` : ''}): ${err.trim()}`));
    });
  });
}

export async function runBench(cfg: BenchModesConfig, io: Io): Promise<number> {
  const target = cfg.source === null ? await startTarget(cfg, io) : null;
  let killCurrent: (() => void) | null = null;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    killCurrent?.();
  };
  const unsubscribe = [io.onSignal('SIGINT', onSignal), io.onSignal('SIGTERM', onSignal)];
  const runs: RunRecord[] = [];
  const load = describeLoad(cfg);
  const startedAt = new Date();
  const env = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', loadavg: loadavg().map((l) => Number(l.toFixed(2))) };
  try {
    const urls = await urlList(cfg, target?.bases ?? []);
    io.stderr.write(`bench-modes: ${load}; ${urls.length} URLs per run, ${cfg.runs} run(s), modes ${cfg.modes.join(',')}, concurrency ${cfg.concurrency.join(',')}\n`);
    outer: for (let run = 1; run <= cfg.runs; run++) {
      for (const c of cfg.concurrency) {
        for (const mode of cfg.modes) {
          if (mode === 'sequential' && c !== cfg.concurrency[0]) continue; // one request in flight whatever c is
          const concurrency = mode === 'sequential' ? 1 : c;
          const spec: ModeSpec = { urls, concurrency, perHost: cfg.perHost ?? concurrency, maxThreads: cfg.maxThreads, work: cfg.work, maxTimeMs: cfg.maxTimeMs, timeoutMs: cfg.timeoutMs, userAgent: FETCH_DEFAULTS.userAgent };
          const cpu0 = target ? processCpuMs(target.pid) : null;
          let m: RunMeasure;
          try {
            m = await runChild(mode, spec, (k) => (killCurrent = k));
          } catch (err) {
            if (interrupted) break outer;
            throw err;
          }
          const cpu1 = target ? processCpuMs(target.pid) : null;
          runs.push({ mode, concurrency, run, ...m, targetCpuMs: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null, loadavg1: loadavg()[0]! });
          io.stderr.write(`  run ${run}/${cfg.runs} ${mode} c=${concurrency}: ${m.rps.toFixed(0)} req/s, ${m.completed} done, ${m.failed} failed, ${(m.elapsedMs / 1000).toFixed(2)} s\n`);
          if (interrupted) break outer;
        }
      }
    }
  } finally {
    for (const u of unsubscribe) u();
    await target?.stop();
  }

  const rows = summarize(runs);
  io.stdout.write(`# ${commandLine(cfg)}\n# ${load}; medians of ${cfg.runs} run(s); node ${env.node}, ${env.cpus} CPUs, load average ${env.loadavg.join(' ')} at start\n`);
  io.stdout.write(formatTable(rows));
  if (cfg.json !== null) {
    await writeFile(cfg.json, JSON.stringify({ command: commandLine(cfg), load, startedAt: startedAt.toISOString(), env, config: cfg, summary: rows, runs }, null, 2) + '\n');
  }
  if (cfg.chart !== null) await writeFile(cfg.chart, chartFor(rows, cfg, load));
  return interrupted ? 130 : 0;
}
