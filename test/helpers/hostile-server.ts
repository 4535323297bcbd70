/**
 * A fault-injecting HTTP target on raw TCP (`net.createServer`, 127.0.0.x, port 0), so it can
 * misbehave below what node:http allows: half a status line, a reset in the middle of a body,
 * garbage instead of HTTP. The request path picks the fault (see `HOSTILE_PATHS`). Every
 * connection is tracked, so `close()` ends hung ones too. `trackPeakRss` watches what such a peer
 * costs the client in memory.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** The faults, by path. Anything else gets a 404. */
export const HOSTILE_PATHS = [
  '/never', // accept the request, never answer
  '/stall-body', // headers (content-length 100), then nothing
  '/drip', // 200, content-length 100, one body byte per `dripIntervalMs`
  '/reset-before', // TCP RST as soon as the request arrives, before any byte
  '/reset-headers', // half a status line, then RST
  '/reset-body', // headers (content-length 100) and 10 body bytes, then RST
  '/close-no-response', // a clean FIN, no response
  '/malformed', // `HTTP/1.1 abc` garbage
  '/huge', // 200 with a multi-GB chunked body, as fast as the client reads
  '/retry-after-year', // 429, Retry-After: 31536000
  '/retry-after-negative', // 429, Retry-After: -5
  '/retry-after-garbage', // 503, Retry-After: soon
  '/redirect-loop', // 302 to itself
  '/redirect-ftp', // 302 to ftp://x/
  '/ok', // 200, small body
] as const;

export type HostilePath = (typeof HOSTILE_PATHS)[number];

export interface HostileOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Gap between the bytes of `/drip` (default 200 ms). */
  dripIntervalMs?: number;
  /** Size of the `/huge` body (default 4 GiB); it stops early when the client goes away. */
  hugeBytes?: number;
}

export interface HostileServer {
  address: string;
  port: number;
  /** `http://address:port` */
  base: string;
  /** `base + path`. */
  url(path: HostilePath | string): string;
  /** Requests received, per path (query string removed). */
  hits: Map<string, number>;
  /** Body bytes `/huge` has handed to its sockets so far (all connections together). */
  readonly hugeBytesSent: number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Longest request head we buffer; a longer one gets the connection dropped. */
const MAX_HEAD_BYTES = 16 * 1024;
const HUGE_CHUNK = Buffer.alloc(64 * 1024, 0x78);

/** A complete response that keeps nothing back; the connection closes after it. */
function respond(status: string, headers: Record<string, string>, body = ''): string {
  const all = { 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...headers };
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}\r\n${body}`;
}

export async function startHostileServer(options: HostileOptions = {}): Promise<HostileServer> {
  const { host = '127.0.0.1', dripIntervalMs = 200, hugeBytes = 4 * 1024 ** 3 } = options;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const hits = new Map<string, number>();
  let hugeBytesSent = 0;

  const every = (socket: Socket, ms: number, tick: () => void): void => {
    const t = setInterval(tick, ms);
    timers.add(t);
    socket.once('close', () => {
      clearInterval(t);
      timers.delete(t);
    });
  };

  /** Streams `/huge` in 64 KiB chunks as long as the socket drains, until the size or a close. */
  const streamHuge = (socket: Socket): void => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n');
    const chunkHead = `${HUGE_CHUNK.length.toString(16)}\r\n`;
    let left = hugeBytes;
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const n = Math.min(left, HUGE_CHUNK.length);
        left -= n;
        hugeBytesSent += n;
        socket.write(n === HUGE_CHUNK.length ? chunkHead : `${n.toString(16)}\r\n`);
        socket.write(HUGE_CHUNK.subarray(0, n));
        if (!socket.write('\r\n')) return void socket.once('drain', pump);
      }
      if (left === 0 && !socket.destroyed) socket.end('0\r\n\r\n');
    };
    pump();
  };

  const answer = (socket: Socket, path: string): void => {
    hits.set(path, (hits.get(path) ?? 0) + 1);
    switch (path) {
      case '/never':
        return;
      case '/stall-body':
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n');
        return;
      case '/drip': {
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\nconnection: close\r\n\r\n');
        let sent = 0;
        every(socket, dripIntervalMs, () => {
          if (sent < 100) socket.write(sent++ === 99 ? 'z' : 'd');
          if (sent === 100) socket.end();
        });
        return;
      }
      case '/reset-before':
        socket.resetAndDestroy();
        return;
      case '/reset-headers':
        // Let the half line leave before the RST, so the client sees bytes and then a reset.
        socket.write('HTTP/1.1 20', () => socket.resetAndDestroy());
        return;
      case '/reset-body':
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n0123456789', () => socket.resetAndDestroy());
        return;
      case '/close-no-response':
        socket.end();
        return;
      case '/malformed':
        socket.end('HTTP/1.1 abc\r\n\r\n');
        return;
      case '/huge':
        return streamHuge(socket);
      case '/retry-after-year':
        socket.end(respond('429 Too Many Requests', { 'retry-after': '31536000' }, 'slow down'));
        return;
      case '/retry-after-negative':
        socket.end(respond('429 Too Many Requests', { 'retry-after': '-5' }, 'slow down'));
        return;
      case '/retry-after-garbage':
        socket.end(respond('503 Service Unavailable', { 'retry-after': 'soon' }, 'later'));
        return;
      case '/redirect-loop':
        socket.end(respond('302 Found', { location: '/redirect-loop' }));
        return;
      case '/redirect-ftp':
        socket.end(respond('302 Found', { location: 'ftp://x/' }));
        return;
      case '/ok':
        socket.end(respond('200 OK', { 'content-type': 'text/plain' }, 'ok'));
        return;
      default:
        socket.end(respond('404 Not Found', { 'content-type': 'text/plain' }, 'no such fault'));
    }
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // the client may reset too; that is the point of this server
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_HEAD_BYTES) socket.destroy();
        return;
      }
      // One request per connection: every response closes it (or never ends), so stop reading.
      socket.off('data', onData);
      const target = head.subarray(0, head.indexOf('\r\n')).toString('latin1').split(' ')[1] ?? '/';
      answer(socket, target.replace(/\?.*$/, ''));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    address: host,
    port,
    base,
    url: (path) => base + path,
    hits,
    get hugeBytesSent() {
      return hugeBytesSent;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })),
  };
}

// ---- Watching the client ----------------------------------------------------------------------

/**
 * Samples a process's peak resident set (VmHWM, Linux /proc) every `everyMs` until `stop()`,
 * which resolves to the peak in MiB, or null where /proc is not available. For asserting that
 * hostile input (a huge body, a huge line) costs the client bounded memory.
 */
export function trackPeakRss(pid: number, everyMs = 20): { stop(): number | null } {
  let peakKb: number | null = null;
  const sample = (): void => {
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb ?? 0, Number(m[1]));
    } catch {
      // not Linux, or the process is gone: keep what we have
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peakKb === null ? null : peakKb / 1024;
    },
  };
}
