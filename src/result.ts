/**
 * The result record: one per URL line of the input, whatever happened to it.
 * Per-URL failures are values (an `error` code), never exceptions.
 */

/** Stable error codes. Documented in the README; scripts match on them, so never rename one. */
export const ERROR_CODES = [
  'invalid_url', // the line is not an absolute http(s) URL (or is over 64 KiB); no request sent
  'timeout', // the attempt did not finish (headers and whole body) within --timeout
  'connect_refused', // ECONNREFUSED
  'connection_reset', // the peer reset or closed the connection mid-request
  'dns', // the name did not resolve
  'tls', // certificate or handshake failure
  'protocol', // malformed HTTP from the server
  'body_too_large', // the body exceeded --max-body
  'too_many_redirects', // more than --max-redirects hops
  'invalid_redirect', // a redirect without a usable http(s) Location
  'cancelled', // the run stopped (SIGINT, SHUTDOWN) before this URL finished
  'network', // any other transport failure
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One line of NDJSON output. Field names are a public contract. */
export interface Result {
  /** 1-based line number in the input. */
  line: number;
  url: string;
  /** Lowercased hostname (port ignored); '' for an invalid URL. */
  host: string;
  /** Final HTTP status, or null when no response came. */
  status: number | null;
  /** A complete response (whole body read) with status 200-399. */
  ok: boolean;
  /** Body bytes of the final attempt. */
  bytes: number;
  attempts: number;
  /** From the first attempt's start to the final outcome. */
  ms: number;
  /** Time spent waiting for limits and backoff. */
  wait_ms: number;
  error: ErrorCode | null;
}

/** Rounds to 0.1 ms: enough for humans and jq, and keeps lines short. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What JSON.stringify would escape in a string: quote, backslash, controls, surrogates (lone ones). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal; most URLs need no escaping, and testing for it is cheaper than JSON.stringify. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** Serialises a result as one NDJSON line (with its newline). Hand-built: it is on the hot path. */
export function resultLine(r: Result): string {
  return (
    `{"line":${r.line},"url":${jsonString(r.url)},"host":${jsonString(r.host)},` +
    `"status":${r.status},"ok":${r.ok},"bytes":${r.bytes},"attempts":${r.attempts},` +
    `"ms":${roundMs(r.ms)},"wait_ms":${roundMs(r.wait_ms)},"error":${r.error === null ? 'null' : `"${r.error}"`}}\n`
  );
}

/** Where results go. The NDJSON writer, the metrics and (later) a Redis stream implement it. */
export interface ResultSink {
  write(result: Result): void;
}
