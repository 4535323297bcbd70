/**
 * Local HTTP targets: one node:http server per loopback address, answering every path with a
 * configurable delay, status mix and body size. `ratelimmq demo` and the benchmark fetch from it,
 * and the integration tests use it as a well-behaved (or deliberately misbehaving) origin.
 *
 * The hot path stays small because the bench drives tens of thousands of requests per second
 * through it: one preallocated body, no URL parsing unless the path carries a query string.
 */
import { seededRandom } from './random.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options for `startTargets`; every field is optional. */
export interface TargetOptions {
  /** Loopback addresses to listen on, one server each (port 0). Default 127.0.0.1 to 127.0.0.4. */
  addresses?: string[];
  /** Fixed delay before answering, in ms, >= 0. Default 0. */
  latencyMs?: number;
  /** Extra uniform random delay in [0, latencyJitterMs), in ms, >= 0. Default 0. */
  latencyJitterMs?: number;
  /** Fraction of requests answered 500, in [0, 1]. Default 0. */
  errorRate?: number;
  /** Fraction of requests answered 429 with Retry-After, in [0, 1]; errorRate + throttleRate <= 1. Default 0. */
  throttleRate?: number;
  /** Seconds sent in Retry-After on 429 and 503 answers, integer >= 0. Default 1. */
  retryAfterSec?: number;
  /** Response body size in bytes, integer >= 0. Default 64. */
  bodyBytes?: number;
  /** Seed for the error/throttle/jitter draws, so runs are reproducible. Default 1. */
  seed?: number;
  /**
   * Called synchronously as each request arrives, with the index of its host in `addresses`
   * (e.g. to record arrival times for the benchmark's rate-accuracy check). Default null: none.
   */
  onArrival?: ((hostIndex: number) => void) | null;
}

/** Counters for one host (or, in `Targets.total`, for all of them). Live objects: read, don't write. */
export interface HostStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  /** Requests whose connection closed before they were answered. */
  aborted: number;
  /** Answers sent, by status code. */
  statuses: Record<number, number>;
}

/** One listening server. */
export interface TargetHost {
  address: string;
  port: number;
  /** `http://address:port`, no trailing slash. */
  base: string;
  stats: HostStats;
}

/** A running set of targets. */
export interface Targets {
  /** Base URLs, one per host, in `addresses` order. */
  urls: string[];
  hosts: TargetHost[];
  /** Per-host stats, in host order (the same objects as `hosts[i].stats`). */
  stats: HostStats[];
  /** Across all hosts; `maxInFlight` here is the global peak, not a sum of per-host peaks. */
  total: HostStats;
  /** The i-th distinct URL, spread round-robin over the hosts: `${base}/item/${i}`. */
  urlFor(i: number): string;
  /** Yields `urlFor(start)` .. `urlFor(start + count - 1)`. */
  makeUrls(count: number, start?: number): Generator<string>;
  /** Zeroes all counters except in-flight (which tracks requests still open). */
  resetStats(): void;
  /** Drops every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

const DEFAULTS = {
  addresses: loopbackAddresses(4),
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  throttleRate: 0,
  retryAfterSec: 1,
  bodyBytes: 64,
  seed: 1,
  onArrival: null,
} satisfies Required<TargetOptions>;

// Query overrides are bounded so a typo cannot stall a test for minutes or allocate gigabytes.
const MAX_DELAY_MS = 600_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** `n` loopback addresses: 127.0.0.1, 127.0.0.2, ... (Linux routes all of 127/8 to lo). */
export function loopbackAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
}


/** Starts one server per address; if any fails to listen, the others are closed and the error is rethrown. */
export async function startTargets(options: TargetOptions = {}): Promise<Targets> {
  const opts = resolve(options);
  const total = newStats();
  const shared: Shared = { opts, total, body: Buffer.alloc(opts.bodyBytes, 'x') };
  const started = await Promise.allSettled(opts.addresses.map((address, i) => listen(address, i, shared)));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map(({ server }) => closeServer(server)));
    throw failed.reason;
  }

  const hosts = servers.map((s) => s.host);
  let closing: Promise<void> | undefined;
  const urlFor = (i: number): string => `${hosts[i % hosts.length]!.base}/item/${i}`;
  return {
    urls: hosts.map((h) => h.base),
    hosts,
    stats: hosts.map((h) => h.stats),
    total,
    urlFor,
    *makeUrls(count, start = 0) {
      for (let i = start; i < start + count; i++) yield urlFor(i);
    },
    resetStats() {
      for (const s of [total, ...hosts.map((h) => h.stats)]) {
        Object.assign(s, { requests: 0, aborted: 0, maxInFlight: s.inFlight, statuses: {} });
      }
    },
    close: () => (closing ??= Promise.all(servers.map(({ server }) => closeServer(server))).then(() => undefined)),
  };
}

type Resolved = Required<TargetOptions>;

interface Shared {
  opts: Resolved;
  total: HostStats;
  /** Grows (never shrinks) when `?bytes=` asks for more than the default body. */
  body: Buffer;
}

/** What one request gets. */
interface Plan {
  status: number;
  delayMs: number;
  bytes: number;
}

function newStats(): HostStats {
  return { requests: 0, inFlight: 0, maxInFlight: 0, aborted: 0, statuses: {} };
}

function resolve(o: TargetOptions): Resolved {
  const r: Resolved = { ...DEFAULTS, ...stripUndefined(o) };
  const check = (name: keyof TargetOptions, ok: boolean): void => {
    if (!ok) throw new TypeError(`startTargets: option ${name} is invalid, got ${JSON.stringify(r[name])}`);
  };
  check('addresses', Array.isArray(r.addresses) && r.addresses.length > 0);
  check('latencyMs', Number.isFinite(r.latencyMs) && r.latencyMs >= 0);
  check('latencyJitterMs', Number.isFinite(r.latencyJitterMs) && r.latencyJitterMs >= 0);
  check('errorRate', r.errorRate >= 0 && r.errorRate <= 1);
  check('throttleRate', r.throttleRate >= 0 && r.throttleRate <= 1 - r.errorRate);
  check('retryAfterSec', Number.isInteger(r.retryAfterSec) && r.retryAfterSec >= 0);
  check('bodyBytes', Number.isInteger(r.bodyBytes) && r.bodyBytes >= 0 && r.bodyBytes <= MAX_BODY_BYTES);
  check('seed', Number.isFinite(r.seed));
  check('onArrival', r.onArrival === null || typeof r.onArrival === 'function');
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function listen(address: string, index: number, shared: Shared): Promise<{ server: Server; host: TargetHost }> {
  const stats = newStats();
  // Each host draws from its own streams, so the k-th request a host receives meets the same fate
  // for a given seed however requests interleave across hosts; jitter has its own stream so
  // turning it on does not change which requests fail.
  const fate = seededRandom(shared.opts.seed * 1000 + index * 2);
  const jitter = seededRandom(shared.opts.seed * 1000 + index * 2 + 1);
  const onArrival = shared.opts.onArrival;
  const server = createServer({ keepAlive: true }, (req, res) => {
    if (onArrival !== null) onArrival(index);
    handle(req, res, stats, shared, fate, jitter);
  });
  server.keepAliveTimeout = 60_000; // outlive any client's idle pool timeout, so reuse never races a close
  server.headersTimeout = 20_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen({ host: address, port: 0, backlog: 4096 }, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, host: { address, port, base: `http://${address}:${port}`, stats } };
}

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  stats: HostStats,
  shared: Shared,
  fate: () => number,
  jitter: () => number,
): void {
  const { opts, total } = shared;
  stats.requests++;
  total.requests++;
  if (++stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
  if (++total.inFlight > total.maxInFlight) total.maxInFlight = total.inFlight;

  const plan = planFor(req.url ?? '/', opts, fate, jitter);
  if (plan.delayMs <= 0) return answer(res, plan, stats, shared);

  const onClose = (): void => {
    clearTimeout(timer);
    stats.inFlight--;
    total.inFlight--;
    stats.aborted++;
    total.aborted++;
  };
  const timer = setTimeout(() => {
    res.off('close', onClose);
    answer(res, plan, stats, shared);
  }, plan.delayMs);
  res.once('close', onClose);
}

function planFor(url: string, opts: Resolved, fate: () => number, jitter: () => number): Plan {
  const draw = fate(); // drawn for every request, so query overrides never shift the sequence
  let status = draw < opts.errorRate ? 500 : draw < opts.errorRate + opts.throttleRate ? 429 : 200;
  let delayMs = opts.latencyJitterMs > 0 ? opts.latencyMs + jitter() * opts.latencyJitterMs : opts.latencyMs;
  let bytes = opts.bodyBytes;
  const q = url.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(url.slice(q + 1));
    const override = (name: string, min: number, max: number): number | undefined => {
      const raw = params.get(name);
      if (raw === null) return undefined;
      const n = Number(raw);
      // A bad override is a bug in the caller's URL: say so loudly with a 400 rather than ignore it.
      return Number.isInteger(n) && n >= min && n <= max ? n : NaN;
    };
    const s = override('status', 200, 599);
    const d = override('delay', 0, MAX_DELAY_MS);
    const b = override('bytes', 0, MAX_BODY_BYTES);
    if ([s, d, b].some((v) => Number.isNaN(v))) return { status: 400, delayMs: 0, bytes: opts.bodyBytes };
    status = s ?? status;
    delayMs = d ?? delayMs;
    bytes = b ?? bytes;
  }
  return { status, delayMs, bytes };
}

function answer(res: ServerResponse, plan: Plan, stats: HostStats, shared: Shared): void {
  const { status, bytes } = plan;
  if (bytes > shared.body.length) shared.body = Buffer.alloc(bytes, 'x');
  const headers: Record<string, string | number> = { 'content-type': 'text/plain', 'content-length': bytes };
  if (status === 429 || status === 503) headers['retry-after'] = shared.opts.retryAfterSec;
  res.writeHead(status, headers);
  res.end(bytes === shared.body.length ? shared.body : shared.body.subarray(0, bytes));
  stats.inFlight--;
  shared.total.inFlight--;
  stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  shared.total.statuses[status] = (shared.total.statuses[status] ?? 0) + 1;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}

export { seededRandom };
