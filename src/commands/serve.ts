/**
 * `ratelimmq serve`: the control server alone, until SHUTDOWN, SIGINT or SIGTERM (exit 0 for all
 * three). Fetch-only commands answer `ERR not running a fetch` here.
 */
import { Command } from 'commander';
import { UsageError, type Io } from '../io.js';
import { parseInteger, parseRate } from '../option-values.js';
import { MIN_LINE_BYTES } from '../control/line-splitter.js';
import { CONTROL_DEFAULTS, startControlServer, type ControlServerOptions } from '../control/server.js';

/** The flags as commander hands them over (all strings, all optional). */
export interface ServeFlags {
  host?: string;
  port?: string;
  maxLineBytes?: string;
  limitCapacity?: string;
  limitRefill?: string;
  controlToken?: string;
  maxConnections?: string;
  idleTimeout?: string;
}

/** What serve passes to startControlServer, minus the callbacks. */
export type ServeConfig = Omit<ControlServerOptions, 'onShutdown' | 'control' | 'clock'>;

const DEFAULTS = { port: 5555, limitCapacity: 5, limitRefillPerSec: 1 } as const;

/**
 * Flags first, then the environment, then defaults. Pure; throws UsageError naming the bad value.
 * An empty environment variable counts as unset.
 */
export function resolveServeConfig(flags: ServeFlags, env: NodeJS.ProcessEnv): ServeConfig {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] || undefined);
  const host = pick(flags.host, 'RATELIMMQ_HOST') ?? CONTROL_DEFAULTS.host;
  if (host.trim() === '') throw new UsageError('invalid host "": expected an address to bind');

  const portText = pick(flags.port, 'RATELIMMQ_PORT');
  const port = portText === undefined ? DEFAULTS.port : parseInteger(portText, 'port', 0);
  if (port > 65535) throw new UsageError(`invalid port ${JSON.stringify(portText)}: expected 0..65535`);

  const lineText = pick(flags.maxLineBytes, 'RATELIMMQ_MAX_LINE_BYTES');
  const maxLineBytes = Math.max(MIN_LINE_BYTES, lineText === undefined ? CONTROL_DEFAULTS.maxLineBytes : parseInteger(lineText, 'max line bytes', 0));

  const config: ServeConfig = { host, port, maxLineBytes };
  // Either --limit-* flag turns the limiter on by itself; the environment needs the explicit switch.
  if (flags.limitCapacity !== undefined || flags.limitRefill !== undefined || env.RATELIMMQ_ENABLE_LIMITER === '1') {
    const capacityText = pick(flags.limitCapacity, 'RATELIMMQ_CAPACITY');
    const refillText = pick(flags.limitRefill, 'RATELIMMQ_REFILL_RATE');
    config.limiter = {
      capacity: capacityText === undefined ? DEFAULTS.limitCapacity : parseInteger(capacityText, 'limit capacity', 1),
      refillPerSec: refillText === undefined ? DEFAULTS.limitRefillPerSec : parseRate(refillText),
    };
  }

  if (flags.controlToken === '') throw new UsageError('invalid control token "": expected a non-empty secret');
  const token = pick(flags.controlToken, 'RATELIMMQ_CONTROL_TOKEN');
  if (token !== undefined) config.token = token;
  if (flags.maxConnections !== undefined) config.maxConnections = parseInteger(flags.maxConnections, 'max connections', 1);
  if (flags.idleTimeout !== undefined) config.idleTimeoutMs = parseInteger(flags.idleTimeout, 'idle timeout (ms)', 0);
  return config;
}

/** The `serve` subcommand; `done(0)` once the server has stopped. */
export function serveCommand(io: Io, done: (code: number) => void): Command {
  return new Command('serve')
    .description('Run the TCP control server alone (PING, HELP, AUTH, SHUTDOWN; fetch-only commands answer ERR not running a fetch)')
    .option('--host <addr>', `interface to bind (env RATELIMMQ_HOST, default ${CONTROL_DEFAULTS.host})`)
    .option('--port <n>', `TCP port, 0 picks a free one (env RATELIMMQ_PORT, default ${DEFAULTS.port})`)
    .option('--max-line-bytes <n>', `longest command line in bytes, at least ${MIN_LINE_BYTES} (env RATELIMMQ_MAX_LINE_BYTES, default ${CONTROL_DEFAULTS.maxLineBytes})`)
    .option('--limit-capacity <n>', `command limiter burst; turns the limiter on (env RATELIMMQ_CAPACITY with RATELIMMQ_ENABLE_LIMITER=1, default ${DEFAULTS.limitCapacity})`)
    .option('--limit-refill <rate>', `command limiter refill per second; turns the limiter on (env RATELIMMQ_REFILL_RATE, default ${DEFAULTS.limitRefillPerSec})`)
    .option('--control-token <secret>', 'require AUTH <secret> before any command (env RATELIMMQ_CONTROL_TOKEN)')
    .option('--max-connections <n>', `simultaneous connections (default ${CONTROL_DEFAULTS.maxConnections})`)
    .option('--idle-timeout <ms>', `close connections silent this long, 0 = never (default ${CONTROL_DEFAULTS.idleTimeoutMs})`)
    .action(async (flags: ServeFlags) => {
      const config = resolveServeConfig(flags, io.env);
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      // Subscribed before listening so a signal during startup still ends in a clean exit 0.
      const unsubscribe = [io.onSignal('SIGINT', stop), io.onSignal('SIGTERM', stop)];
      try {
        const server = await startControlServer({ ...config, onShutdown: stop }).catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`);
        });
        io.stdout.write(`listening on ${server.host}:${server.port}\n`);
        await stopped;
        await server.close();
      } finally {
        for (const off of unsubscribe) off();
      }
      done(0);
    });
}
