/**
 * Test servers that record what they receive and answer however the test says: real node:http on
 * port 0, with in-flight accounting overall and per host so tests assert the limiter's invariants
 * ("never more than N in flight") instead of timings. Below them: handlers that inject faults,
 * and the temp-file and CLI helpers that end-to-end tests need.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What a handler learns about the request besides `req`. */
export interface RequestInfo {
  /** 0-based arrival index across the server (or the whole multi-host group). */
  n: number;
  /** `req.url`: path plus query string. */
  path: string;
}

/** Decides the response. It may answer later, or never (see `hang`). */
export type Handler = (req: IncomingMessage, res: ServerResponse, info: RequestInfo) => void | Promise<void>;

/** One received request. */
export interface RecordedRequest {
  n: number;
  /** performance.now() at arrival. */
  atMs: number;
  method: string;
  path: string;
  /** The Host header as sent (`127.0.0.2:PORT`). */
  host: string;
  /** The Host header without its port: the key of the per-host in-flight counts. */
  hostname: string;
  headers: IncomingHttpHeaders;
  /** Address the server listens on (which server of a group got it). */
  serverAddress: string;
}

/** Current and peak in-flight counts. */
export interface Gauge {
  current: number;
  max: number;
}

/**
 * In-flight accounting shared by every server of a group. A request is in flight from arrival until
 * its response closes (answered, reset, or abandoned by the client).
 */
export class InFlight {
  readonly global: Gauge = { current: 0, max: 0 };
  readonly #perHost = new Map<string, Gauge>();
  #idleWaiters: Array<() => void> = [];

  /** The gauge for one hostname (a zero gauge if it never had a request). */
  host(hostname: string): Gauge {
    return this.#perHost.get(hostname) ?? { current: 0, max: 0 };
  }

  /** Hostnames seen so far. */
  get hostnames(): string[] {
    return [...this.#perHost.keys()];
  }

  /** The highest per-host peak: assert this against the per-host cap. */
  get maxPerHost(): number {
    let m = 0;
    for (const g of this.#perHost.values()) m = Math.max(m, g.max);
    return m;
  }

  /** Resolves once nothing is in flight (at once if already idle). */
  whenIdle(): Promise<void> {
    if (this.global.current === 0) return Promise.resolve();
    return new Promise((ok) => this.#idleWaiters.push(ok));
  }

  enter(hostname: string): void {
    let g = this.#perHost.get(hostname);
    if (!g) this.#perHost.set(hostname, (g = { current: 0, max: 0 }));
    for (const x of [g, this.global]) x.max = Math.max(x.max, ++x.current);
  }

  leave(hostname: string): void {
    this.#perHost.get(hostname)!.current--;
    if (--this.global.current === 0) for (const ok of this.#idleWaiters.splice(0)) ok();
  }
}

/** The recording state shared by a group of servers. */
class Recorder {
  readonly requests: RecordedRequest[] = [];
  readonly inFlight = new InFlight();
  /** Handler failures (a broken test handler should fail loudly, not as a mystery 500). */
  readonly errors: unknown[] = [];
  #waiters: Array<{ count: number; ok: () => void }> = [];

  record(r: RecordedRequest): void {
    this.requests.push(r);
    this.#waiters = this.#waiters.filter((w) => (this.requests.length >= w.count ? (w.ok(), false) : true));
  }

  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((ok) => this.#waiters.push({ count, ok }));
  }
}

/** A running recording server. */
export interface RecordingServer {
  address: string;
  port: number;
  /** `http://address:port` */
  base: string;
  /** `base + path` (path starts with '/'). */
  url(path?: string): string;
  /** Every request in arrival order (shared with the group, for multi-host servers). */
  requests: RecordedRequest[];
  inFlight: InFlight;
  errors: unknown[];
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>;
  server: Server;
  /** Drops all connections (also hung ones) and stops listening. */
  close(): Promise<void>;
}

/** Answers 200 with `body`. The default handler. */
export function ok(body = 'ok'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  };
}

/** Starts a recording server on `host` (default 127.0.0.1), port 0. */
export function startRecordingServer(handler: Handler = ok(), options: { host?: string } = {}): Promise<RecordingServer> {
  return listenRecording(options.host ?? '127.0.0.1', handler, new Recorder());
}

/** A group of recording servers, one per loopback address, sharing one request log and in-flight view. */
export interface MultiHostServers {
  servers: RecordingServer[];
  /** Base URLs in `hosts` order. */
  bases: string[];
  requests: RecordedRequest[];
  /** `global` is the peak across all servers; `host(address)` per server. */
  inFlight: InFlight;
  errors: unknown[];
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts one recording server per address (e.g. loopback 127.0.0.1, 127.0.0.2, ...), all with `handler`. */
export async function startMultiHostServers(hosts: string[], handler: Handler = ok()): Promise<MultiHostServers> {
  const recorder = new Recorder();
  const settled = await Promise.allSettled(hosts.map((h) => listenRecording(h, handler, recorder)));
  const servers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.close()));
  };
  if (failed) {
    await close();
    throw failed.reason;
  }
  return {
    servers,
    bases: servers.map((s) => s.base),
    requests: recorder.requests,
    inFlight: recorder.inFlight,
    errors: recorder.errors,
    waitForRequests: (count) => recorder.waitForRequests(count),
    close,
  };
}

async function listenRecording(address: string, handler: Handler, recorder: Recorder): Promise<RecordingServer> {
  const server = createServer((req, res) => {
    const host = req.headers.host ?? address;
    const hostname = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const n = recorder.requests.length;
    const path = req.url ?? '/';
    recorder.inFlight.enter(hostname);
    res.once('close', () => recorder.inFlight.leave(hostname));
    recorder.record({ n, atMs: performance.now(), method: req.method ?? 'GET', path, host, hostname, headers: req.headers, serverAddress: address });
    Promise.resolve()
      .then(() => handler(req, res, { n, path }))
      .catch((err: unknown) => {
        recorder.errors.push(err);
        if (!res.headersSent) res.writeHead(500).end(`handler error: ${String(err)}`);
        else res.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${address}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    base,
    url: (path = '/') => base + path,
    requests: recorder.requests,
    inFlight: recorder.inFlight,
    errors: recorder.errors,
    waitForRequests: (count) => recorder.waitForRequests(count),
    server,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

// ---- Fault handlers -------------------------------------------------------------------------

/** Per path: the first `times` requests get `fail` (a status, or a handler such as `withRetryAfter`), later ones `then`. */
export function failTimesThenOk(times: number, fail: number | Handler = 503, then: Handler = ok()): Handler {
  const seen = new Map<string, number>();
  const failHandler: Handler = typeof fail === 'number' ? status(fail) : fail;
  return (req, res, info) => {
    const k = seen.get(info.path) ?? 0;
    seen.set(info.path, k + 1);
    return k < times ? failHandler(req, res, info) : then(req, res, info);
  };
}

/** Answers `code` with a short body. */
export function status(code: number): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(`status ${code}`);
  };
}

/** Answers `code` with `Retry-After: seconds` (a number of seconds, or a string such as an HTTP date). */
export function withRetryAfter(code: number, seconds: number | string): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain', 'retry-after': String(seconds) }).end(`status ${code}`);
  };
}

/** Waits `ms`, then hands over to `then` (default 200 'ok'); gives up quietly if the client leaves first. */
export function delay(ms: number, then: Handler = ok()): Handler {
  return (req, res, info) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(then(req, res, info)), ms);
      res.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
}

/** Accepts the request and never answers; the request stays in flight until the client gives up or `close()`. */
export function hang(): Handler {
  return () => {};
}

/** Destroys the socket without answering. `hard` sends a TCP RST (client sees ECONNRESET) instead of a FIN. */
export function resetConnection(options: { hard?: boolean } = {}): Handler {
  return (req) => {
    if (options.hard) req.socket.resetAndDestroy();
    else req.socket.destroy();
  };
}

/** Answers with the status in `?status=` (default 200) and, if given, `?retryAfter=` as Retry-After. */
export function statusFromQuery(): Handler {
  return (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const code = Number(q.get('status') ?? 200);
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    const retryAfter = q.get('retryAfter');
    if (retryAfter !== null) headers['retry-after'] = retryAfter;
    res.writeHead(code, headers).end(`status ${code}`);
  };
}

// ---- Files and the CLI ----------------------------------------------------------------------

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Writes `lines` (newline-terminated) to urls.txt in a fresh temp dir; returns the file's path. */
export async function writeUrlFile(lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ratelimmq-test-'));
  const file = join(dir, 'urls.txt');
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** What a CLI run produced. `code` is null when the process died from a signal. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/ratelimmq.js ...args` from the repo root (needs a built dist/). stdin gets
 * `options.stdin` and is then closed, so a CLI reading stdin never waits forever. After
 * `timeoutMs` (default 20 s) the child is killed by pid and the promise rejects with its output.
 */
export function runCli(
  args: string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  const { stdin, env, timeoutMs = 20_000, cwd = REPO_ROOT } = options;
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ratelimmq.js'), ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.on('error', () => {}); // the CLI may exit before reading its input: EPIPE is not our failure
  child.stdin.end(stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`runCli timed out after ${timeoutMs} ms: ratelimmq ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
