/**
 * The control-port protocol, pure: one text line in, one typed command out, and the reply lines.
 * Sockets, auth and the command limiter live in server.ts; this file knows no I/O.
 *
 * Grammar (words separated by spaces or tabs, command words case-insensitive, surrounding
 * whitespace ignored):
 *   PING | SHUTDOWN | HELP | STATS | PAUSE | RESUME | AUTH <secret>
 *   SET RATE <rate> [<host>] | SET CONCURRENCY <n> [<host>]
 */
import type { FetchControl } from './fetch-control.js';
import { parseInteger, parseRate } from '../option-values.js';

/** The command words, in the order HELP lists them. */
export const COMMAND_NAMES = ['PING', 'SHUTDOWN', 'HELP', 'STATS', 'PAUSE', 'RESUME', 'SET', 'AUTH'] as const;

/** Every reply line the server sends, without its `\n`. A public contract: clients match on these. */
export const REPLY = {
  pong: 'PONG',
  bye: 'BYE',
  ok: 'OK',
  help: `OK ${COMMAND_NAMES.join(' ')}`,
  unknownCommand: 'ERR unknown command',
  invalidValue: 'ERR invalid value',
  lineTooLong: 'ERR line too long',
  rateLimited: 'ERR rate limited',
  notRunningFetch: 'ERR not running a fetch',
  unauthorized: 'ERR unauthorized',
  tooManyConnections: 'ERR too many connections',
  internalError: 'ERR internal error',
} as const;

/** Commands that take no arguments. */
type BareKind = 'ping' | 'shutdown' | 'help' | 'stats' | 'pause' | 'resume';

/** A parsed line. `unknown` and `invalid` are values, not exceptions: they have replies too. */
export type ControlCommand =
  | { kind: BareKind }
  | { kind: 'auth'; secret: string }
  | { kind: 'set-rate'; perSec: number; host?: string }
  | { kind: 'set-concurrency'; n: number; host?: string }
  | { kind: 'unknown' }
  | { kind: 'invalid' };

// A Map, not an object literal: a client's word must never reach Object.prototype.
const NO_ARGS = new Map<string, BareKind>([
  ['PING', 'ping'],
  ['SHUTDOWN', 'shutdown'],
  ['HELP', 'help'],
  ['STATS', 'stats'],
  ['PAUSE', 'pause'],
  ['RESUME', 'resume'],
]);

// A host as the fetcher keys it (URL.host: name or IP, optional port). Anything else can only be
// a typo, so it is rejected rather than silently creating a limit no request will ever match.
const HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** Parses one line (terminator already removed). Never throws. */
export function parseCommand(line: string): ControlCommand {
  const text = line.trim();
  const words = text.split(/[ \t]+/);
  const verb = asciiUpper(words[0] ?? '');
  const kind = NO_ARGS.get(verb);
  // Extra words after a no-argument command make it a different, unknown command.
  if (kind !== undefined) return words.length === 1 ? { kind } : { kind: 'unknown' };
  if (verb === 'AUTH') return { kind: 'auth', secret: text.slice(words[0]!.length).trim() };
  if (verb === 'SET') return parseSet(words.slice(1));
  return { kind: 'unknown' };
}

function parseSet(args: string[]): ControlCommand {
  const what = asciiUpper(args[0] ?? '');
  if (what !== 'RATE' && what !== 'CONCURRENCY') return { kind: 'unknown' };
  const [, value, rawHost, ...extra] = args;
  if (value === undefined || extra.length > 0) return { kind: 'invalid' };
  let host: string | undefined;
  if (rawHost !== undefined) {
    host = rawHost.toLowerCase();
    if (!HOST.test(host)) return { kind: 'invalid' };
  }
  const n = what === 'RATE' ? rateValue(value) : concurrencyValue(value);
  if (n === undefined) return { kind: 'invalid' };
  const base = what === 'RATE' ? { kind: 'set-rate' as const, perSec: n } : { kind: 'set-concurrency' as const, n };
  return host === undefined ? base : { ...base, host };
}

/**
 * parseRate's syntax (100, 100/s, 6000/m, 3600/h), plus `off` / `unlimited` for no limit (Infinity,
 * as FetchControl.setRate expects). `0` is rejected: it reads as "stop", which is what PAUSE is for,
 * and mapping it to "unlimited" would do the opposite of what an operator typing it fears.
 */
function rateValue(text: string): number | undefined {
  if (/^(?:off|unlimited)$/i.test(text)) return Infinity;
  try {
    return parseRate(text);
  } catch {
    return undefined;
  }
}

/** A whole number >= 1. */
function concurrencyValue(text: string): number | undefined {
  try {
    return parseInteger(text, 'concurrency', 1);
  } catch {
    return undefined;
  }
}

// Only ASCII letters fold: `toUpperCase` would turn e.g. a dotless `ı` into `I`, so `pıng` would PONG.
function asciiUpper(word: string): string {
  return word.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/**
 * The reply to a command that needs no session state (everything but SHUTDOWN and AUTH, which
 * server.ts answers), calling `control` for the fetch-only ones. Without a control (`serve`),
 * those answer `ERR not running a fetch`.
 */
export function runCommand(cmd: ControlCommand, control: FetchControl | undefined): string {
  switch (cmd.kind) {
    case 'ping':
      return REPLY.pong;
    case 'help':
      return REPLY.help;
    case 'invalid':
      return REPLY.invalidValue;
    case 'unknown':
    case 'shutdown':
    case 'auth':
      return REPLY.unknownCommand; // unreachable from server.ts; a safe answer regardless
  }
  if (!control) return REPLY.notRunningFetch;
  switch (cmd.kind) {
    case 'stats':
      // JSON.stringify without indentation never emits a raw newline, so this stays one line.
      return JSON.stringify(control.stats());
    case 'pause':
      control.pause();
      return REPLY.ok;
    case 'resume':
      control.resume();
      return REPLY.ok;
    case 'set-rate':
      if (cmd.host === undefined) control.setRate(cmd.perSec);
      else control.setRate(cmd.perSec, cmd.host);
      return REPLY.ok;
    case 'set-concurrency':
      if (cmd.host === undefined) control.setConcurrency(cmd.n);
      else control.setConcurrency(cmd.n, cmd.host);
      return REPLY.ok;
  }
}
