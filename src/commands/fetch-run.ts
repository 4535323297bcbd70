/**
 * Running a resolved fetch: opens the input and outputs (usage errors before any request), wires
 * the Runner to its sinks, signals, the control port, progress and snapshots, then writes the
 * report and turns it into an exit code. Loaded only when a fetch runs, so --help and --version
 * stay fast.
 */
import { open } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { systemClock } from '../clock.js';
import type { FetchConfig } from '../config.js';
import { startControlServer, type ControlServer } from '../control/server.js';
import { createDispatcher } from '../dispatcher.js';
import { UsageError, type Io } from '../io.js';
import { JournalWriter, loadJournal, type JournalState } from '../journal.js';
import { Metrics } from '../metrics.js';
import { NdjsonWriter } from '../ndjson-writer.js';
import { buildReport } from '../report.js';
import { formatReportText } from '../report-text.js';
import { Runner } from '../runner.js';
import { startSnapshots } from '../snapshot.js';
import { warmUp } from '../warm-up.js';
import { checkThresholds, exitCode, formatBreach, formatUnchecked, uncheckedRules } from '../thresholds.js';
import type { Progress } from '../progress.js';

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
  const dispatcherOptions = { timeoutMs: cfg.timeoutMs, http2: cfg.http2, resolve: cfg.resolve };
  const request = { method: cfg.method, headers: cfg.headers, timeoutMs: cfg.timeoutMs, maxBodyBytes: cfg.maxBodyBytes, maxRedirects: cfg.maxRedirects };
  await warmUp(() => createDispatcher(dispatcherOptions), request);
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
  const dispatcher = createDispatcher(dispatcherOptions);
  const writer = o.out ? new NdjsonWriter(o.out, { onDrain: () => runner?.scheduler.pump(), onError: outputFailed('results') }) : null;
  let skipped = 0;
  const r = (runner = new Runner({
    input: o.input,
    scheduler: { concurrency: cfg.concurrency, perHost: cfg.perHost, ratePerSec: cfg.ratePerSec, perHostRatePerSec: cfg.perHostRatePerSec, burst: cfg.burst, queueSize: cfg.queueSize, adaptive: cfg.adaptive, slowStart: cfg.slowStart || undefined },
    retry: { retries: cfg.retries, retryBaseMs: cfg.retryBaseMs, retryMaxMs: cfg.retryMaxMs },
    request,
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
