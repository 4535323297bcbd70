/** A URL line turned into something the scheduler can route, or rejected as `invalid_url`. */
import type { SourceLine } from './source.js';

/** A valid request target. */
export interface Target {
  line: number;
  url: string;
  /** Lowercased hostname, port ignored: the key for per-host limits. */
  host: string;
  /** `http(s)://host[:port]`: the key for undici's connection pools. */
  origin: string;
  /** Path and query. */
  path: string;
}

/** Parses one source line; null when it is not an absolute http(s) URL. */
export function parseTarget(src: SourceLine): Target | null {
  if (src.overlong) return null;
  let u: URL;
  try {
    u = new URL(src.text);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return null;
  return { line: src.line, url: src.text, host: u.hostname, origin: u.origin, path: u.pathname + u.search };
}
