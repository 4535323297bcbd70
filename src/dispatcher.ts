/**
 * The undici dispatcher for a run. Our scheduler is the only place requests wait: undici may open
 * as many connections per origin as we have in flight (`connections: null`), so it never queues a
 * request out of our sight, where we could neither time nor rate-limit it. Keep-alive is on.
 */
import { isIP, type LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
// Agent and Pool from their own modules, not the package index: the index also loads fetch,
// WebSocket, the cache and mock layers, ~55 ms of start-up that a run never uses.
import Agent from 'undici/lib/dispatcher/agent.js';
import Pool from 'undici/lib/dispatcher/pool.js';

export interface DispatcherOptions {
  /** Per-attempt timeout; also undici's connect timeout (a connect has no abort hook of ours). */
  timeoutMs: number;
  /** Negotiate HTTP/2 over TLS (ALPN); HTTP/1.1 otherwise. */
  http2: boolean;
  /** curl-style pins: "host:port" -> address, skipping DNS for that origin. */
  resolve: ReadonlyMap<string, string>;
  /** Name lookup for everything else (injected by tests); Node's dns.lookup by default. */
  lookup?: LookupFunction;
}

/** A lookup that always answers `address`. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address) || 4;
  return ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (options?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}

function hostPort(origin: string | URL): string {
  const u = typeof origin === 'string' ? new URL(origin) : origin;
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname.toLowerCase()}:${port}`;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const connect = { timeout: o.timeoutMs, ...(o.lookup ? { lookup: o.lookup } : {}) };
  return new Agent({
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    // Off: our own per-attempt timer covers headers and body. undici's run on coarse ticks that
    // may fire before --timeout.
    headersTimeout: 0,
    bodyTimeout: 0,
    allowH2: o.http2,
    connect,
    factory(origin, opts) {
      const pinned = o.resolve.size > 0 ? o.resolve.get(hostPort(origin)) : undefined;
      const options = opts as Pool.Options;
      return new Pool(origin, pinned === undefined ? options : { ...options, connect: { ...connect, lookup: pinnedLookup(pinned) } });
    },
  });
}
