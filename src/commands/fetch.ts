/**
 * `ratelimmq fetch [source]`: the command-line shell around the Runner. It resolves options,
 * opens the input and outputs (usage errors before any request), wires signals, the control port
 * and progress, then writes the report and turns it into an exit code.
 */
import { open } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import { systemClock } from '../clock.js';
import { resolveFetchConfig, DEFAULTS, type FetchConfig, type RawFetchOptions } from '../config.js';
import { startControlServer, type ControlServer } from '../control/server.js';
import { createDispatcher } from '../dispatcher.js';
import { UsageError, type Io } from '../io.js';
import { JournalWriter, loadJournal, type JournalState } from '../journal.js';
import { Metrics } from '../metrics.js';
import { NdjsonWriter } from '../ndjson-writer.js';
import { buildReport } from '../report.js';
import { formatReportText } from '../report-text.js';
import type { ResultSink } from '../result.js';
import { Runner } from '../runner.js';
import { startSnapshots } from '../snapshot.js';
import { checkThresholds, exitCode, formatBreach, formatUnchecked, uncheckedRules } from '../thresholds.js';
import type { Progress } from '../progress.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Declares the fetch options on a command (shared with `demo`). */
export function addFetchOptions(cmd: Command): Command {
  return cmd
    .option('-c, --concurrency <n>', `max requests in flight overall (default ${DEFAULTS.concurrency})`)
    .option('--slow-start <n>', `start with this many in flight and add one per finished request up to --concurrency (default ${DEFAULTS.slowStart}; 0 = off)`)
    .option('--per-host <n>', `max requests in flight per host (default ${DEFAULTS.perHost})`)
    .option('-r, --rate <rate>', 'max requests started per second overall: 100, 100/s, 6000/m (default unlimited)')
    .option('--per-host-rate <rate>', 'max requests started per second per host, same syntax (default unlimited)')
    .option('--burst <n>', `token-bucket size for both rate limits (default ${DEFAULTS.burst}: evenly spaced)`)
    .option('--adaptive', 'per host: halve the rate on 429/503, raise it slowly while answers are good (never above --per-host-rate)')
    .option('--queue-size <n>', `URLs read ahead of the workers (default ${DEFAULTS.queueSize})`)
    .option('--retries <n>', `extra attempts after the first (default ${DEFAULTS.retries})`)
    .option('--retry-base <ms>', `backoff base in ms (default ${DEFAULTS.retryBaseMs})`)
    .option('--retry-max <ms>', `backoff cap in ms; a longer Retry-After gives up (default ${DEFAULTS.retryMaxMs})`)
    .option('--timeout <ms>', `per attempt, start to last body byte (default ${DEFAULTS.timeoutMs})`)
    .option('-X, --method <method>', `HTTP method (default ${DEFAULTS.method})`)
    .option('-H, --header <header>', '"Name: value", repeatable', collect)
    .option('--user-agent <ua>', `User-Agent (default ${DEFAULTS.userAgent})`)
    .option('--max-redirects <n>', 'redirect hops to follow (default 0: report the 3xx)')
    .option('--max-body <bytes>', 'give up on a body larger than this: 1048576, 64KiB, 64MiB (default 64MiB)')
    .option('--http2', 'negotiate HTTP/2 over TLS (default HTTP/1.1)')
    .option('--resolve <host:port:addr>', 'pin a name to an address without DNS, as curl does; repeatable', collect)
    .option('-o, --output <path>', 'write NDJSON results to a file instead of stdout')
    .option('--no-results', 'write no NDJSON results')
    .option('--journal <path>', 'append completed results here, for --resume after a crash')
    .option('--resume <path>', 'skip input lines already completed in this journal')
    .addOption(new Option('--report <format>', 'end-of-run report on stderr').choices(['text', 'json', 'none']).default('text'))
    .option('--report-file <path>', 'also write the JSON report to this file')
    .option('--progress', 'show a progress bar on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show a progress bar')
    .option('--fail-on <rules>', 'exit 1 when a threshold breaks, e.g. "p99>250ms,error-rate>1%,rps<100"')
    .option('--snapshot-every <duration>', 'write a progress snapshot (NDJSON: elapsed, done, interval req/s, p50/p99, errors, in flight) this often, e.g. 10s')
    .option('--snapshot-file <path>', 'where snapshots go (default stderr)')
    .option('--grace <ms>', `after SIGINT, how long in-flight requests may finish (default ${DEFAULTS.graceMs})`)
    .option('--control-port <port>', 'run the TCP control server on this port (0 = any free port)')
    .option('--control-host <addr>', 'address for the control server (default 127.0.0.1; anything else exposes it)')
    .option('--control-token <secret>', 'require AUTH <secret> on the control port (or RATELIMMQ_CONTROL_TOKEN)')
    .option('--control-limit-capacity <n>', 'command limiter burst on the control port (turns the limiter on)')
    .option('--control-limit-refill <rate>', 'command limiter refill per second (turns the limiter on)')
    .option('--debug', 'print stack traces for internal errors');
}

export function fetchCommand(io: Io, done: (code: number) => void): Command {
  const cmd = new Command('fetch')
    .description('Fetch every URL in <source> (a file, or - / nothing for stdin), one per line; NDJSON results on stdout, report on stderr')
    .argument('[source]', 'file with one URL per line; - or nothing reads stdin');
  addFetchOptions(cmd).action(async (source: string | undefined, opts: RawFetchOptions) => {
    const cfg = resolveFetchConfig(source, opts, io.env);
    done(await runFetch(cfg, io));
  });
  return cmd;
}

/** Opens the source; a missing file or a directory is a usage error. */
async function openSource(cfg: FetchConfig, io: Io): Promise<{ input: Readable; size: number | null }> {
  if (cfg.source === '-') return { input: io.stdin as Readable, size: null };
  let fh;
  try {
    fh = await open(cfg.source, 'r');
  } catch (err) {
    throw new UsageError(`cannot read ${cfg.source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new UsageError(`cannot read ${cfg.source}: it is a directory`);
  }
  return { input: fh.createReadStream({ highWaterMark: 64 * 1024 }), size: st.isFile() ? st.size : null };
}

/** Opens a file for writing now, so a bad path is a usage error before any request. */
async function openOutput(path: string, what: string): Promise<NodeJS.WritableStream> {
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new UsageError(`cannot write ${what} ${path}: ${err.code ?? err.message}`)));
  });
  return stream;
}

/** Reads the journal to resume from; an unreadable one is a usage error. */
async function loadResume(path: string): Promise<JournalState> {
  try {
    return await loadJournal(path);
  } catch (err) {
    throw new UsageError(`cannot read resume journal ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Opens the journal for appending now, so a bad path is a usage error before any request. */
function openJournal(path: string, onError: (err: NodeJS.ErrnoException) => void): JournalWriter {
  try {
    return new JournalWriter(path, { onError });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot write journal ${path}: ${e.code === 'EJOURNAL' ? e.message : (e.code ?? String(err))}`);
  }
}

/** Everything a run writes to or reads from, opened up front so that bad paths are usage errors. */
interface Opened {
  input: Readable;
  /** Input size in bytes when known (a file), for the progress bar's ETA. */
  size: number | null;
  out: NodeJS.WritableStream | null;
  reportOut: NodeJS.WritableStream | null;
  snapshotOut: NodeJS.WritableStream | null;
  resumed: JournalState | null;
}

async function openAll(cfg: FetchConfig, io: Io, inputOverride?: Readable): Promise<Opened> {
  const { input, size } = inputOverride ? { input: inputOverride, size: null } : await openSource(cfg, io);
  const out = cfg.results ? (cfg.output ? await openOutput(cfg.output, 'output') : io.stdout) : null;
  const reportOut = cfg.reportFile ? await openOutput(cfg.reportFile, 'report file') : null;
  const snapshotOut = cfg.snapshotEveryMs === null ? null : cfg.snapshotFile ? await openOutput(cfg.snapshotFile, 'snapshot file') : io.stderr;
  // Read the resume journal before opening --journal: `--resume j --journal j` appends to what was read.
  const resumed = cfg.resume ? await loadResume(cfg.resume) : null;
  return { input, size, out, reportOut, snapshotOut, resumed };
}

/** Runs a resolved fetch to its end; returns the exit code. `inputOverride` feeds the demo. */
export async function runFetch(cfg: FetchConfig, io: Io, inputOverride?: Readable): Promise<number> {
  const o = await openAll(cfg, io, inputOverride);
  let runner: Runner | undefined;
  // An output that fails (full disk, closed pipe) stops the run with exit code 74; a closed
  // stdout (`| head`) stops it quietly with 0.
  const outputFailed = (what: string) => (err: NodeJS.ErrnoException) => {
    const quiet = err.code === 'EPIPE' && o.out === io.stdout && what === 'results';
    if (!quiet) io.stderr.write(`ratelimmq: cannot write ${what}: ${err.code ?? err.message}\n`);
    runner?.stop(quiet ? 'output_closed' : 'output_failed');
  };
  const journal = cfg.journal ? openJournal(cfg.journal, outputFailed(`journal ${cfg.journal}`)) : null;
  const metrics = new Metrics({ clock: systemClock });
  const dispatcher = createDispatcher({ timeoutMs: cfg.timeoutMs, http2: cfg.http2, resolve: cfg.resolve });
  const writer = o.out ? new NdjsonWriter(o.out, { onDrain: () => runner?.scheduler.pump(), onError: outputFailed('results') }) : null;
  let skipped = 0;
  const r = (runner = new Runner({
    input: o.input,
    scheduler: { concurrency: cfg.concurrency, perHost: cfg.perHost, ratePerSec: cfg.ratePerSec, perHostRatePerSec: cfg.perHostRatePerSec, burst: cfg.burst, queueSize: cfg.queueSize, adaptive: cfg.adaptive, slowStart: cfg.slowStart || undefined },
    retry: { retries: cfg.retries, retryBaseMs: cfg.retryBaseMs, retryMaxMs: cfg.retryMaxMs },
    request: { method: cfg.method, headers: cfg.headers, timeoutMs: cfg.timeoutMs, maxBodyBytes: cfg.maxBodyBytes, maxRedirects: cfg.maxRedirects },
    graceMs: cfg.graceMs,
    dispatcher,
    clock: systemClock,
    wallNow: Date.now,
    random: Math.random,
    sinks: [metrics, ...(writer ? [writer] : []), ...(journal ? [journal] : [])],
    attempts: metrics,
    canStart: writer ? () => !writer.blocked : undefined,
    skipLine: o.resumed
      ? (line) => {
          const done = o.resumed!.done.has(line);
          if (done) skipped++;
          return done;
        }
      : undefined,
  }));

  const control = cfg.control ? await startControl(cfg.control, r, io) : null;
  const detachSignals = onInterrupt(io, () => r.stop('interrupt'));
  const color = !io.env.NO_COLOR && io.stderr.isTTY === true;
  const progress = cfg.progress ?? io.stderr.isTTY === true ? await showProgress(io, r, metrics, o, color) : null;
  const stopSnapshots = o.snapshotOut ? startSnapshots(o.snapshotOut, cfg.snapshotEveryMs!, metrics, () => r.scheduler.inFlight, systemClock) : null;

  const summary = await r.run();
  progress?.stop();
  stopSnapshots?.();
  if (o.snapshotOut && o.snapshotOut !== io.stderr) o.snapshotOut.end();
  detachSignals();
  await control?.close();
  await writer?.close(o.out !== io.stdout);
  journal?.close();
  await dispatcher.destroy().catch(() => undefined);

  const limits = { ratePerSec: cfg.ratePerSec, perHostRatePerSec: cfg.perHostRatePerSec, concurrency: cfg.concurrency, perHost: cfg.perHost };
  const report = buildReport(metrics, { durationS: summary.durationMs / 1000, startedAt: new Date(Date.now() - summary.durationMs), limits });
  const json = JSON.stringify(report, null, 2) + '\n';
  if (o.reportOut) await new Promise<void>((resolve) => o.reportOut!.end(json, () => resolve()));
  const quiet = summary.stopped === 'output_closed';
  if (cfg.resume && !quiet) io.stderr.write(`resume: skipped ${skipped} lines already done in ${cfg.resume}\n`);
  if (!quiet && cfg.report === 'text') io.stderr.write(formatReportText(report, { color }));
  if (!quiet && cfg.report === 'json') io.stderr.write(json);
  const breaches = checkThresholds(cfg.failOn, report);
  for (const b of breaches) io.stderr.write(formatBreach(b) + '\n');
  for (const rule of uncheckedRules(cfg.failOn, report)) io.stderr.write(formatUnchecked(rule) + '\n');
  if (summary.stopped === 'output_failed') return EXIT_OUTPUT_FAILED;
  return exitCode({ interrupted: summary.stopped === 'interrupt', breaches });
}

/** Exit code when results or the journal could not be written (sysexits' EX_IOERR). */
export const EXIT_OUTPUT_FAILED = 74;

async function startControl(c: NonNullable<FetchConfig['control']>, r: Runner, io: Io): Promise<ControlServer> {
  let control: ControlServer;
  try {
    control = await startControlServer({ ...c, control: r, onShutdown: () => r.stop('shutdown') });
  } catch (err) {
    throw new UsageError(`cannot start the control server on ${c.host}:${c.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  io.stderr.write(`control listening on ${control.host}:${control.port}\n`);
  return control;
}

/** First SIGINT/SIGTERM: `stop`. A second SIGINT: leave at once. Returns the detach function. */
function onInterrupt(io: Io, stop: () => void): () => void {
  let interrupts = 0;
  const onSignal = (): void => {
    if (++interrupts > 1) process.exit(130);
    io.stderr.write('ratelimmq: stopping: finishing requests in flight (Ctrl-C again to quit now)\n');
    stop();
  };
  const off = [io.onSignal('SIGINT', onSignal), io.onSignal('SIGTERM', onSignal)];
  return () => off.forEach((f) => f());
}

async function showProgress(io: Io, r: Runner, metrics: Metrics, o: Opened, color: boolean): Promise<Progress> {
  const { startProgress } = await import('../progress.js');
  const fileInput = o.input as Readable & { bytesRead?: number };
  return startProgress(
    io.stderr,
    () => {
      const s = metrics.snapshot();
      return {
        done: s.done,
        failed: s.failed + s.invalid,
        inFlight: r.scheduler.inFlight,
        rps: r.stats().rps as number,
        fraction: o.size ? Math.min(1, (fileInput.bytesRead ?? 0) / o.size) : null,
      };
    },
    color,
  );
}
