/**
 * Parsers for option values, shared by the CLI flags and the control port. Each is pure and
 * throws a UsageError that names what it received.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { UsageError } from './io.js';

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** `100`, `100/s`, `6000/m`, `2.5/s`, `3600/h` -> starts per second (> 0). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? 's';
  const per = RATE_UNITS[unit];
  const n = m ? Number(m[1]) : NaN;
  if (!m || per === undefined || !(n > 0) || !Number.isFinite(n)) {
    throw new UsageError(`invalid rate ${JSON.stringify(text)}: expected a positive number, optionally /s, /m or /h (e.g. 100, 100/s, 6000/m)`);
  }
  return n / per;
}

/** A whole number >= min. */
export function parseInteger(text: string, what: string, min = 1): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected a whole number >= ${min}`);
  }
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250` (ms), `250ms`, `2s`, `1.5m`, `1h` -> milliseconds (>= min). */
export function parseDuration(text: string, what: string, min = 0): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  const ms = m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]! : NaN;
  if (!(ms >= min) || !Number.isFinite(ms)) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected a duration >= ${min} ms (e.g. 500, 500ms, 2s)`);
  }
  return ms;
}

const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `1048576`, `64KiB`, `64MiB`, `1g` -> bytes (>= 1). */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? 'b').toLowerCase()];
  const n = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(n >= 1) || !Number.isSafeInteger(n)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected a size in bytes (e.g. 1048576, 64KiB, 64MiB)`);
  return n;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What HTTP/1.1 can carry in a field value (RFC 9110 field-vchar, SP, HTAB, obs-text). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers that undici manages itself and refuses from callers. */
const MANAGED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);

/** `Name: value` -> [lowercased name, value]. */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  const value = i > 0 ? text.slice(i + 1).trim() : '';
  if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
    throw new UsageError(`invalid header ${JSON.stringify(text)}: expected "Name: value" with a printable ASCII value`);
  }
  if (MANAGED.has(name.toLowerCase())) throw new UsageError(`invalid header ${JSON.stringify(text)}: ${name} is managed by the HTTP client`);
  return [name.toLowerCase(), value];
}

/** An HTTP method token, upper-cased. */
export function parseMethod(text: string): string {
  if (!TOKEN.test(text)) throw new UsageError(`invalid method ${JSON.stringify(text)}`);
  return text.toUpperCase();
}

/** curl's `host:port:addr` (addr may be `[v6]`) -> ["host:port", addr]. */
export function parseResolve(text: string): [string, string] {
  const m = /^([^:\s]+):(\d{1,5}):\[?([0-9A-Fa-f:.]+)\]?$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535) || !isIP(m[3]!)) {
    throw new UsageError(`invalid --resolve ${JSON.stringify(text)}: expected host:port:address (e.g. example.com:443:127.0.0.1)`);
  }
  // Key by the name as URLs spell it (lowercase, punycode), which is what the dispatcher looks up.
  const host = domainToASCII(m[1]!);
  if (host === '') throw new UsageError(`invalid --resolve ${JSON.stringify(text)}: bad host name`);
  return [`${host}:${port}`, m[3]!];
}
