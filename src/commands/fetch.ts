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
import { Metrics } from '../metrics.js';
import { NdjsonWriter } from '../ndjson-writer.js';
import { buildReport, formatReportText } from '../report.js';
import type { ResultSink } from '../result.js';
import { Runner } from '../runner.js';
import { checkThresholds, exitCode, formatBreach, formatUnchecked, uncheckedRules } from '../thresholds.js';
import type { Progress } from '../progress.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Declares the fetch options on a command (shared with `demo`). */
export function addFetchOptions(cmd: Command): Command {
  return cmd
    .option('-c, --concurrency <n>', `max requests in flight overall (default ${DEFAULTS.concurrency})`)
    .option('--per-host <n>', `max requests in flight per host (default ${DEFAULTS.perHost})`)
    .option('-r, --rate <rate>', 'max requests started per second overall: 100, 100/s, 6000/m (default unlimited)')
    .option('--per-host-rate <rate>', 'max requests started per second per host, same syntax (default unlimited)')
    .option('--burst <n>', `token-bucket size for both rate limits (default ${DEFAULTS.burst}: evenly spaced)`)
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
    .addOption(new Option('--report <format>', 'end-of-run report on stderr').choices(['text', 'json', 'none']).default('text'))
    .option('--report-file <path>', 'also write the JSON report to this file')
    .option('--progress', 'show a progress bar on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show a progress bar')
    .option('--fail-on <rules>', 'exit 1 when a threshold breaks, e.g. "p99>250ms,error-rate>1%,rps<100"')
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

/** Runs a resolved fetch to its end; returns the exit code. `inputOverride` feeds the demo. */
export async function runFetch(cfg: FetchConfig, io: Io, inputOverride?: Readable): Promise<number> {
  const { input, size } = inputOverride ? { input: inputOverride, size: null } : await openSource(cfg, io);
  const out = cfg.results ? (cfg.output ? await openOutput(cfg.output, 'output') : io.stdout) : null;
  const reportOut = cfg.reportFile ? await openOutput(cfg.reportFile, 'report file') : null;

  const clock = systemClock;
  const metrics = new Metrics({ clock });
  const dispatcher = createDispatcher({ timeoutMs: cfg.timeoutMs, http2: cfg.http2, resolve: cfg.resolve });
  let runner: Runner | undefined;
  const writer = out
    ? new NdjsonWriter(out, {
        onDrain: () => runner?.scheduler.pump(),
        // A closed stdout (| head) ends the run quietly; any other output failure is reported.
        onError: (err) => {
          if (err.code !== 'EPIPE' || out !== io.stdout) io.stderr.write(`ratelimmq: cannot write results: ${err.code ?? err.message}\n`);
          runner?.stop('output_closed');
        },
      })
    : null;
  const sinks: ResultSink[] = writer ? [metrics, writer] : [metrics];
  runner = new Runner({
    input,
    scheduler: { concurrency: cfg.concurrency, perHost: cfg.perHost, ratePerSec: cfg.ratePerSec, perHostRatePerSec: cfg.perHostRatePerSec, burst: cfg.burst, queueSize: cfg.queueSize },
    retry: { retries: cfg.retries, retryBaseMs: cfg.retryBaseMs, retryMaxMs: cfg.retryMaxMs },
    request: { method: cfg.method, headers: cfg.headers, timeoutMs: cfg.timeoutMs, maxBodyBytes: cfg.maxBodyBytes, maxRedirects: cfg.maxRedirects },
    graceMs: cfg.graceMs,
    dispatcher,
    clock,
    wallNow: Date.now,
    random: Math.random,
    sinks,
    attempts: metrics,
    canStart: writer ? () => !writer.blocked : undefined,
  });
  const r = runner;
  const startedAt = new Date();

  let control: ControlServer | null = null;
  if (cfg.control) {
    try {
      control = await startControlServer({ ...cfg.control, control: r, onShutdown: () => r.stop('shutdown') });
    } catch (err) {
      throw new UsageError(`cannot start the control server on ${cfg.control.host}:${cfg.control.port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    io.stderr.write(`control listening on ${control.host}:${control.port}\n`);
  }

  let interrupts = 0;
  const onSignal = (): void => {
    if (++interrupts > 1) process.exit(130); // the second Ctrl-C: leave now
    io.stderr.write('ratelimmq: stopping: finishing requests in flight (Ctrl-C again to quit now)\n');
    r.stop('interrupt');
  };
  const unsubscribe = [io.onSignal('SIGINT', onSignal), io.onSignal('SIGTERM', onSignal)];
  // A closed stdout can also surface when nothing is being written to it.
  io.stdout.on?.('error', () => undefined);

  const color = !io.env.NO_COLOR && io.stderr.isTTY === true;
  let progress: Progress | null = null;
  if (cfg.progress ?? io.stderr.isTTY === true) {
    const { startProgress } = await import('../progress.js');
    const fileInput = input as Readable & { bytesRead?: number };
    progress = await startProgress(
      io.stderr,
      () => {
        const s = metrics.snapshot();
        return {
          done: s.done,
          failed: s.failed + s.invalid,
          inFlight: r.scheduler.inFlight,
          rps: r.stats().rps as number,
          fraction: size ? Math.min(1, (fileInput.bytesRead ?? 0) / size) : null,
        };
      },
      color,
    );
  }

  const summary = await r.run();
  progress?.stop();
  for (const u of unsubscribe) u();
  await control?.close();
  await writer?.close(out !== io.stdout);
  await dispatcher.destroy().catch(() => undefined);

  const report = buildReport(metrics, { durationS: summary.durationMs / 1000, startedAt });
  const json = JSON.stringify(report, null, 2) + '\n';
  if (reportOut) await new Promise<void>((resolve) => reportOut.end(json, () => resolve()));
  const quiet = summary.stopped === 'output_closed';
  if (!quiet && cfg.report === 'text') io.stderr.write(formatReportText(report, { color }));
  if (!quiet && cfg.report === 'json') io.stderr.write(json);
  const breaches = checkThresholds(cfg.failOn, report);
  for (const b of breaches) io.stderr.write(formatBreach(b) + '\n');
  for (const rule of uncheckedRules(cfg.failOn, report)) io.stderr.write(formatUnchecked(rule) + '\n');
  return exitCode({ interrupted: summary.stopped === 'interrupt', breaches });
}
