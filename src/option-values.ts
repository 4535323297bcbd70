/**
 * Parsers for option values, shared by the CLI flags and the control port. Each is pure and
 * throws a UsageError that names what it received.
 */
import { UsageError } from './io.js';

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** `100`, `100/s`, `6000/m`, `2.5/s`, `3600/h` -> starts per second (> 0). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? 's';
  const per = RATE_UNITS[unit];
  const n = m ? Number(m[1]) : NaN;
  if (!m || per === undefined || !(n > 0)) {
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
