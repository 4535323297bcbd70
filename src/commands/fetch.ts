/**
 * `ratelimmq fetch [source]`: the options (declared once, shared with `demo`) and the command.
 * The run itself lives in fetch-run.ts, imported only when a fetch starts.
 */
import { Command, Option } from 'commander';
import { resolveFetchConfig, DEFAULTS, type RawFetchOptions } from '../config.js';
import type { Io } from '../io.js';

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
    const { runFetch } = await import('./fetch-run.js');
    done(await runFetch(cfg, io));
  });
  return cmd;
}

