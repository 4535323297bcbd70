/**
 * Helpers for the `fetch-*` tests: a long-running CLI child whose output the test watches as it
 * streams (for SIGINT, the control port and a broken pipe), a line client for the control port,
 * NDJSON and report parsing, and the window counting the rate tests assert with. Everything waits
 * on events with a deadline, never on sleeps. Builds on ./servers.ts (runCli, recording servers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RecordedRequest } from './servers.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO_ROOT, 'bin', 'ratelimmq.js');
export const VERSION: string = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** One NDJSON result line, as the CLI prints it. */
export interface ResultLine {
  line: number;
  url: string;
  host: string;
  status: number | null;
  ok: boolean;
  bytes: number;
  attempts: number;
  ms: number;
  wait_ms: number;
  error: string | null;
}

/** The field names of a result line, in the order the CLI writes them. */
export const RESULT_FIELDS = ['line', 'url', 'host', 'status', 'ok', 'bytes', 'attempts', 'ms', 'wait_ms', 'error'] as const;

/** Parses every complete (newline-terminated) NDJSON line of `text`; a partial last line is ignored. */
export function parseResults(text: string): ResultLine[] {
  const end = text.lastIndexOf('\n');
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ResultLine);
}

/**
 * The pretty-printed JSON report inside stderr (which may also hold other lines, such as
 * `control listening on ...` or a threshold breach): from the first line that is `{` to the
 * first line after it that is `}`.
 */
export function parseReport(stderr: string): Record<string, any> {
  const lines = stderr.split('\n');
  const start = lines.indexOf('{');
  const end = lines.indexOf('}', start);
  if (start < 0 || end < 0) throw new Error(`no JSON report in stderr:\n${stderr}`);
  return JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, any>;
}

/** Most items of `times` (ms) within any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * Watches this process's event-loop lag (where the recording servers run). A server that is
 * stalled for L ms stamps the requests that arrived meanwhile all at once, so arrival-time windows
 * can hold up to about L / interval more starts than the client made: rate assertions add that
 * much slack, which is zero on a quiet machine. `stop()` returns the largest lag seen, in ms.
 */
export function watchLag(): { stop(): number } {
  const tickMs = 5;
  let last = performance.now();
  let maxLag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - tickMs);
    last = now;
  }, tickMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(maxLag, performance.now() - last - tickMs, 0);
    },
  };
}

/**
 * Arrival times without each host's first request: that one's arrival is late by a connect (and the
 * client's first-use costs), so it tells nothing about when it started and bunches with the next.
 */
export function warmArrivals(requests: readonly RecordedRequest[]): number[] {
  const seen = new Set<string>();
  return requests.flatMap((q) => (seen.has(q.hostname) ? [q.atMs] : (seen.add(q.hostname), [])));
}

/** Writes `content` byte for byte (no newline added) to a file in a fresh temp dir; returns its path. */
export async function writeRawFile(content: string | Buffer, name = 'urls.txt'): Promise<string> {
  const file = join(await tempDir(), name);
  await writeFile(file, content);
  return file;
}

/** A fresh, empty temp directory. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ratelimmq-fetch-test-'));
}

/** A port on `address` that nothing listens on (bound, then released; pick an address no test listens on). */
export async function closedPort(address = '127.0.0.9'): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, address, () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Rejects with `what` when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `ratelimmq` child that the test watches while it runs. */
export interface CliProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once `test(stdout, stderr)` returns a truthy value (checked on every output chunk). */
  waitFor<T>(test: (stdout: string, stderr: string) => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  /** The port from `control listening on 127.0.0.1:<port>`. */
  controlPort(): Promise<number>;
  /** Sends a signal to this child, by pid. */
  signal(sig: NodeJS.Signals): void;
  /** Resolves when the child has exited and its output is complete (rejects after the spawn's timeout). */
  exited: Promise<CliExit>;
  /** SIGKILLs the child by pid if it is still running. */
  kill(): void;
}

/**
 * Spawns `node bin/ratelimmq.js ...args` from the repo root with stdin `stdin` (then closed, unless
 * `keepStdinOpen`: a producer that has not finished) and NO_COLOR set. After `timeoutMs` (default 20 s) the child is killed and `exited` rejects.
 */
export function startCli(
  args: string[],
  options: { stdin?: string; keepStdinOpen?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliProcess {
  const { stdin, keepStdinOpen = false, env, timeoutMs = 20_000 } = options;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...watchers]) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    notify();
  });
  child.stdin!.on('error', () => {});
  if (keepStdinOpen) child.stdin!.write(stdin ?? '');
  else child.stdin!.end(stdin ?? '');

  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<CliExit>((resolve, reject) => {
    timer = setTimeout(() => {
      kill();
      reject(new Error(`ratelimmq ${args.join(' ')} still running after ${timeoutMs} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  }).finally(() => clearTimeout(timer));
  exited.catch(() => {}); // a test that never awaits it must not see an unhandled rejection

  const waitFor = <T>(test: (out: string, err: string) => T | undefined | null | false, what: string, ms = 10_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = test(stdout, stderr);
        if (!v) return false;
        done();
        resolve(v);
        return true;
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`));
      }, ms);
      const onExit = (): void => {
        if (check()) return;
        done();
        reject(new Error(`ratelimmq exited while waiting for ${what}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`));
      };
      const done = (): void => {
        clearTimeout(t);
        watchers.delete(check);
        child.off('close', onExit);
      };
      if (check()) return;
      watchers.add(check);
      child.once('close', onExit);
    });

  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor,
    controlPort: () =>
      waitFor((_o, e) => /^control listening on 127\.0\.0\.1:(\d+)$/m.exec(e)?.[1], 'the control port line').then(Number),
    signal: (sig) => {
      if (child.pid !== undefined) process.kill(child.pid, sig);
    },
    exited,
    kill,
  };
}

/** A line client for the control port: `ask` sends one line and resolves to the next reply line. */
export interface ControlClient {
  ask(line: string): Promise<string>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
  close(): void;
}

export async function connectControl(port: number, host = '127.0.0.1'): Promise<ControlClient> {
  const socket: Socket = connect(port, host);
  socket.on('error', () => {});
  await within(new Promise((resolve) => socket.once('connect', resolve)), 5000, `a control connection to ${host}:${port}`);
  socket.setEncoding('utf8');
  let buffered = '';
  const waiters: Array<(line: string) => void> = [];
  socket.on('data', (t: string) => {
    buffered += t;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      waiters.shift()?.(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    ask: (line) => within(new Promise<string>((resolve) => {
      waiters.push(resolve);
      socket.write(`${line}\n`);
    }), 5000, `the reply to ${JSON.stringify(line)}`),
    closed,
    close: () => socket.destroy(),
  };
}
