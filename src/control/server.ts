/**
 * The TCP control server: the line protocol of protocol.ts over sockets, with the things a port
 * open to other processes needs: optional token auth, a shared command limiter, a connection cap,
 * idle timeouts and backpressure. Used alone by `ratelimmq serve` and beside a run by `fetch`.
 *
 * What must stay true: nothing a client sends (garbage, floods, resets, half lines) throws out of
 * here, and memory per connection stays bounded: one partial line (the splitter) plus one read
 * chunk plus one socket high-water mark of replies, because a socket whose replies back up is not
 * read again until 'drain'.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.js';
import { TokenBucket } from '../token-bucket.js';
import type { FetchControl } from './fetch-control.js';
import { LineSplitter } from './line-splitter.js';
import { parseCommand, REPLY, runCommand } from './protocol.js';

/** Options of startControlServer; the optional ones default to CONTROL_DEFAULTS. */
export interface ControlServerOptions {
  /** Interface to bind. Default 127.0.0.1: the port controls the process, so never all interfaces by default. */
  host?: string;
  /** TCP port; 0 picks a free one (read the real one from the result). */
  port: number;
  /** Max bytes of one command line counting its terminator; below 32 is raised to 32. Default 4096. */
  maxLineBytes?: number;
  /** Command limiter, one bucket shared by all connections: burst `capacity` (>= 1), `refillPerSec` (> 0). SHUTDOWN is never limited. Default: off. */
  limiter?: { capacity: number; refillPerSec: number };
  /** When set (non-empty), a connection must send `AUTH <token>` before any other command, SHUTDOWN included; a wrong one is answered `ERR unauthorized` and closed. */
  token?: string;
  /** Simultaneous connections; extra ones get `ERR too many connections` and are closed. Default 64. */
  maxConnections?: number;
  /** A connection that sends nothing for this long is closed; 0 = never. Default 300000 ms. */
  idleTimeoutMs?: number;
  /** The running fetch; without it (serve) STATS, PAUSE, RESUME and SET answer `ERR not running a fetch`. */
  control?: FetchControl;
  /**
   * Called once, after the first accepted SHUTDOWN has been answered `BYE` (and after
   * `control.shutdown()`, which is also called once). The caller stops its run and calls close().
   */
  onShutdown: () => void;
  /** Drives the limiter and idle timeouts. Default systemClock. */
  clock?: Clock;
}

/** A listening control server. */
export interface ControlServer {
  /** The bound address and port (the real one when 0 was asked for). */
  host: string;
  port: number;
  /** Stops listening and closes every connection; resolves once all are gone. Idempotent. */
  close(): Promise<void>;
}

export const CONTROL_DEFAULTS = {
  host: '127.0.0.1',
  maxLineBytes: 4096,
  maxConnections: 64,
  idleTimeoutMs: 300_000,
} as const;

// How long a closing socket may take to flush its last replies before it is destroyed.
const CLOSE_GRACE_MS = 250;

interface Shared {
  options: ControlServerOptions;
  clock: Clock;
  limiter: TokenBucket | undefined;
  tokenDigest: Buffer | undefined;
  shutdown: () => void;
}

/** Starts listening; rejects if the address cannot be bound (e.g. EADDRINUSE) or an option is invalid. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  // `AUTH` with nothing after it would match an empty token: that is no protection at all.
  if (options.token === '') throw new TypeError('control token must be non-empty, got ""');
  const clock = options.clock ?? systemClock;
  const maxConnections = options.maxConnections ?? CONTROL_DEFAULTS.maxConnections;
  const { limiter } = options;
  let shutDown = false;
  const shared: Shared = {
    options,
    clock,
    limiter: limiter && new TokenBucket(limiter.refillPerSec, limiter.capacity, clock.now()),
    tokenDigest: options.token === undefined ? undefined : digest(options.token),
    shutdown() {
      if (shutDown) return;
      shutDown = true;
      options.control?.shutdown();
      options.onShutdown();
    },
  };
  const sessions = new Set<Socket>();
  const rejected = new Set<Socket>();

  // noDelay: replies are tiny and awaited one by one; Nagle would hold them back.
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {}); // resets and the like; 'close' follows and cleans up
    if (sessions.size >= maxConnections) {
      rejected.add(socket);
      socket.on('close', () => rejected.delete(socket));
      closeGracefully(socket, `${REPLY.tooManyConnections}\n`);
      return;
    }
    sessions.add(socket);
    socket.on('close', () => sessions.delete(socket));
    serveConnection(socket, shared);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? CONTROL_DEFAULTS.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {}); // after listening, errors belong to sockets

  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of [...sessions, ...rejected]) closeGracefully(socket);
      });
      return closing;
    },
  };
}

/** Ends a socket (after `last`, if given), discarding input, and destroys it if it lingers. */
function closeGracefully(socket: Socket, last?: string): void {
  socket.removeAllListeners('data');
  socket.on('data', () => {}); // keep reading so the peer's FIN (and 'close') can arrive
  socket.resume();
  if (last === undefined && socket.writableLength === 0) {
    socket.destroy();
    return;
  }
  if (last === undefined) socket.end();
  else socket.end(last);
  const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Reads lines from one accepted socket and answers each, one reply line per line. */
function serveConnection(socket: Socket, shared: Shared): void {
  const { options, clock } = shared;
  const splitter = new LineSplitter(options.maxLineBytes ?? CONTROL_DEFAULTS.maxLineBytes);
  const idleMs = options.idleTimeoutMs ?? CONTROL_DEFAULTS.idleTimeoutMs;
  let authed = shared.tokenDigest === undefined;
  let finished = false; // after SHUTDOWN or a failed AUTH: answer nothing more
  let cancelIdle = (): void => {};
  const armIdle = (): void => {
    cancelIdle();
    if (idleMs > 0) cancelIdle = clock.setTimer(() => socket.destroy(), idleMs);
  };

  // One line's reply, and what follows it: nothing, closing this connection, or the shutdown.
  const answer = (line: Buffer): { reply: string; then?: 'close' | 'shutdown' } => {
    const cmd = parseCommand(line.toString('utf8'));
    if (cmd.kind === 'shutdown') {
      if (!authed) return { reply: REPLY.unauthorized };
      return { reply: REPLY.bye, then: 'shutdown' };
    }
    // AUTH attempts count against the limiter too: that is what makes guessing the token slow.
    if (shared.limiter && !shared.limiter.tryTake(clock.now())) return { reply: REPLY.rateLimited };
    if (cmd.kind === 'auth') {
      if (shared.tokenDigest === undefined) return { reply: REPLY.ok };
      if (!timingSafeEqual(digest(cmd.secret), shared.tokenDigest)) return { reply: REPLY.unauthorized, then: 'close' };
      authed = true;
      return { reply: REPLY.ok };
    }
    if (!authed) return { reply: REPLY.unauthorized };
    try {
      return { reply: runCommand(cmd, options.control) };
    } catch {
      // A throwing FetchControl is a bug, but the control port must not take the run down with it.
      return { reply: REPLY.internalError };
    }
  };

  // Answers pending lines until none are left or the socket backs up; 'drain' calls it again.
  const pump = (): void => {
    while (!finished && !socket.destroyed) {
      if (socket.writableNeedDrain) {
        socket.pause();
        return;
      }
      const frame = splitter.next();
      if (frame === undefined) {
        socket.resume();
        return;
      }
      // An oversized line costs nothing to answer, so it skips the limiter.
      const { reply, then } = frame.kind === 'too-long' ? { reply: REPLY.lineTooLong } : answer(frame.line);
      if (then === undefined) {
        socket.write(`${reply}\n`);
        continue;
      }
      finished = true;
      cancelIdle();
      closeGracefully(socket, `${reply}\n`);
      if (then === 'shutdown') shared.shutdown();
    }
  };

  socket.on('close', () => cancelIdle());
  socket.on('drain', pump);
  socket.on('data', (chunk: Buffer) => {
    armIdle();
    splitter.push(chunk);
    pump();
  });
  armIdle();
}

// Equal-length digests, so timingSafeEqual neither throws nor leaks the token's length.
function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
