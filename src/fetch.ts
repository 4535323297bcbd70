/**
 * One HTTP attempt over undici's low-level `dispatch` API with a lean handler: no stream per body,
 * no header object unless a retry or redirect needs one. The body is read, counted and discarded.
 * Failures are values: the callback always receives an AttemptResult, exactly once.
 */
import type { Dispatcher } from 'undici';
import type { Deadline, Deadlines } from './deadlines.js';
import { AttemptError, classifyError } from './classify.js';
import type { ErrorCode } from './result.js';

export interface RequestSpec {
  method: string;
  headers: Record<string, string>;
  /** Whole attempt, from start to the last body byte. */
  timeoutMs: number;
  maxBodyBytes: number;
  /** Redirect hops to follow; 0 reports the 3xx as it is. */
  maxRedirects: number;
}

export interface AttemptResult {
  status: number | null;
  bytes: number;
  error: ErrorCode | null;
  /** Retry-After of a 429/503, raw. */
  retryAfter: string | null;
}

/** Cancels an attempt in flight; it then ends with error `cancelled`. */
export type Cancel = () => void;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** undici's legacy handler interface: the fastest path in undici 7 (no wrapper object). */
class AttemptHandler {
  status: number | null = null;
  bytes = 0;
  retryAfter: string | null = null;
  location: string | null = null;
  #abort: ((err: Error) => void) | null = null;
  #done = false;
  #deadline: Deadline;
  #deadlines: Deadlines;

  constructor(
    readonly spec: RequestSpec,
    deadlines: Deadlines,
    readonly finish: (h: AttemptHandler, error: ErrorCode | null) => void,
  ) {
    this.#deadlines = deadlines;
    this.#deadline = deadlines.add(() => this.abort(new AttemptError('RATELIMMQ_TIMEOUT', 'attempt timed out')));
  }

  abort(err: Error): void {
    if (this.#done) return;
    if (this.#abort) this.#abort(err);
    // Still connecting (undici hands out the abort hook only once on a socket): end now and
    // ignore whatever undici reports later; its connect timeout bounds the socket.
    else this.#end(classifyError(err));
  }

  onConnect(abort: (err: Error) => void): void {
    this.#abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, _resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: the real response follows
    this.status = statusCode;
    if (rawHeaders && (statusCode === 429 || statusCode === 503)) this.retryAfter = header(rawHeaders, 'retry-after');
    if (rawHeaders && this.spec.maxRedirects > 0 && REDIRECTS.has(statusCode)) this.location = header(rawHeaders, 'location');
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.spec.maxBodyBytes) this.abort(new AttemptError('RATELIMMQ_BODY_TOO_LARGE', 'body too large'));
    return true;
  }

  onComplete(): void {
    this.#end(null);
  }

  onError(err: Error): void {
    this.#end(classifyError(err));
  }

  #end(error: ErrorCode | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadlines.remove(this.#deadline);
    this.finish(this, error);
  }
}

/** Finds one header in undici's flat [name, value, ...] list (names are case-insensitive). */
function header(raw: Buffer[] | string[], name: string): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toString().toLowerCase() === name) return raw[i + 1]!.toString();
  }
  return null;
}

/**
 * Runs one attempt, following redirects when asked, and calls `done` once with its outcome.
 * `deadlines` holds the per-attempt timeouts (its timeout is `spec.timeoutMs`; each hop gets its
 * own). Returns a function that cancels it.
 */
export function fetchAttempt(
  dispatcher: Dispatcher,
  url: { origin: string; path: string },
  spec: RequestSpec,
  deadlines: Deadlines,
  done: (r: AttemptResult) => void,
): Cancel {
  let current: AttemptHandler;
  let hops = 0;
  let method = spec.method;
  const finish = (h: AttemptHandler, error: ErrorCode | null): void => {
    if (error === null && h.location !== null) {
      const next = redirectTarget(h.location, url.origin, url.path);
      if (next === null) return done({ status: h.status, bytes: h.bytes, error: 'invalid_redirect', retryAfter: null });
      if (++hops > spec.maxRedirects) return done({ status: h.status, bytes: h.bytes, error: 'too_many_redirects', retryAfter: null });
      if (h.status === 303) method = 'GET';
      url = next;
      return send();
    }
    done({ status: h.status, bytes: h.bytes, error, retryAfter: h.retryAfter });
  };
  const send = (): void => {
    current = new AttemptHandler(spec, deadlines, finish);
    try {
      dispatcher.dispatch({ origin: url.origin, path: url.path, method: method as Dispatcher.HttpMethod, headers: spec.headers }, current as unknown as Dispatcher.DispatchHandler);
    } catch (err) {
      current.onError(err as Error);
    }
  };
  send();
  return () => current.abort(new AttemptError('RATELIMMQ_CANCELLED', 'cancelled'));
}

/** Resolves a Location against the current URL; null unless it is http(s). */
function redirectTarget(location: string, origin: string, path: string): { origin: string; path: string } | null {
  try {
    const u = new URL(location, origin + path);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return { origin: u.origin, path: u.pathname + u.search };
  } catch {
    return null;
  }
}
