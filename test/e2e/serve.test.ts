// Spawns the built binary (run `npx tsc -p .` first; `npm test` does).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/commands/serve.js';
import { UsageError } from '../../src/io.js';

const BIN = fileURLToPath(new URL('../../bin/ratelimmq.js', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

interface Served {
  child: ChildProcess;
  port: number;
  stdout: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

// afterAll, not afterEach: the tests run concurrently and share this list.
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Runs `ratelimmq serve ...args` with only PATH and `env`; resolves once it listens. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      const m = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (m) resolve({ child, port: Number(m[1]), stdout, exit });
    });
    void exit.then((e) => reject(new Error(`serve exited (${e.code}) before listening: ${e.stderr}`)));
  });
}

/** Runs `ratelimmq serve ...args` expecting it to fail at once. */
async function serveFails(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

/** A minimal line client: `ask` sends one line and resolves to the next reply line. */
async function open(port: number): Promise<{ socket: Socket; ask(line: string): Promise<string>; send(t: string): void }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.setEncoding('utf8');
  let buffered = '';
  const waiters: ((l: string) => void)[] = [];
  socket.on('data', (t: string) => {
    buffered += t;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      waiters.shift()?.(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
  });
  return {
    socket,
    send: (t) => void socket.write(t),
    ask: (line) =>
      new Promise((resolve) => {
        waiters.push(resolve);
        socket.write(`${line}\n`);
      }),
  };
}

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npx tsc -p .` before the e2e tests');
});

describe.concurrent('ratelimmq serve (subprocess)', () => {
  it('answers PING, unknown and oversized lines, then SHUTDOWN exits 0', async () => {
    const s = await serve(['--port', '0']);
    const c = await open(s.port);
    expect(await c.ask('PING')).toBe('PONG');
    expect(await c.ask('ping')).toBe('PONG');
    expect(await c.ask('WHAT')).toBe('ERR unknown command');
    expect(await c.ask('STATS')).toBe('ERR not running a fetch');
    expect(await c.ask('x'.repeat(5000))).toBe('ERR line too long');
    expect(await c.ask('PING')).toBe('PONG');
    expect(await c.ask('SHUTDOWN')).toBe('BYE');
    expect(await s.exit).toMatchObject({ code: 0, signal: null });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('exits 0 on %s, with a client connected', async (signal) => {
    const s = await serve(['--port', '0']);
    const c = await open(s.port);
    expect(await c.ask('PING')).toBe('PONG');
    s.child.kill(signal);
    expect(await s.exit).toMatchObject({ code: 0, signal: null });
  });

  it('reads RATELIMMQ_PORT and RATELIMMQ_MAX_LINE_BYTES', async () => {
    const s = await serve([], { RATELIMMQ_PORT: '0', RATELIMMQ_MAX_LINE_BYTES: '40' });
    const c = await open(s.port);
    expect(await c.ask(`PING${' '.repeat(35)}`)).toBe('PONG'); // 40 bytes with the \n
    expect(await c.ask(`PING${' '.repeat(36)}`)).toBe('ERR line too long');
    expect(await c.ask('PING')).toBe('PONG');
    s.child.kill('SIGTERM');
    expect((await s.exit).code).toBe(0);
  });

  // A refill of 1/h keeps the bucket empty for the whole test without any clock.
  it.each([
    ['environment', [], { RATELIMMQ_ENABLE_LIMITER: '1', RATELIMMQ_CAPACITY: '2', RATELIMMQ_REFILL_RATE: '1/h' }],
    ['flags', ['--limit-capacity', '2', '--limit-refill', '1/h'], {}],
  ])('limits commands when enabled by %s; SHUTDOWN still works', async (_how, args, env) => {
    const s = await serve(['--port', '0', ...args], env);
    const c = await open(s.port);
    expect(await c.ask('PING')).toBe('PONG');
    expect(await c.ask('PING')).toBe('PONG');
    expect(await c.ask('PING')).toBe('ERR rate limited');
    expect(await c.ask('SHUTDOWN')).toBe('BYE');
    expect((await s.exit).code).toBe(0);
  });

  it('requires AUTH with --control-token', async () => {
    const s = await serve(['--port', '0', '--control-token', 'hunter2']);
    const c = await open(s.port);
    expect(await c.ask('PING')).toBe('ERR unauthorized');
    expect(await c.ask('SHUTDOWN')).toBe('ERR unauthorized');
    expect(await c.ask('AUTH hunter2')).toBe('OK');
    expect(await c.ask('PING')).toBe('PONG');
    expect(await c.ask('SHUTDOWN')).toBe('BYE');
    expect((await s.exit).code).toBe(0);
  });

  it.each([
    [['--port', 'abc'], {}, /invalid port "abc"/],
    [[], { RATELIMMQ_PORT: '70000' }, /invalid port "70000"/],
  ])('exits 2 on bad values: %j %j', async (args, env, message) => {
    const { code, stderr } = await serveFails(args, env);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('resolveServeConfig', () => {
  it('defaults', () => {
    expect(resolveServeConfig({}, {})).toEqual({ host: '127.0.0.1', port: 5555, maxLineBytes: 4096 });
  });

  it('reads every variable, empty ones count as unset', () => {
    const env = {
      RATELIMMQ_HOST: '::1',
      RATELIMMQ_PORT: '',
      RATELIMMQ_MAX_LINE_BYTES: '10',
      RATELIMMQ_ENABLE_LIMITER: '1',
      RATELIMMQ_CONTROL_TOKEN: 't',
    };
    expect(resolveServeConfig({}, env)).toEqual({
      host: '::1',
      port: 5555,
      maxLineBytes: 32,
      limiter: { capacity: 5, refillPerSec: 1 },
      token: 't',
    });
  });

  it('flags win over the environment; the line limit never goes below 32', () => {
    const env = { RATELIMMQ_PORT: '1', RATELIMMQ_MAX_LINE_BYTES: '100000', RATELIMMQ_CONTROL_TOKEN: 'env', RATELIMMQ_HOST: '::1' };
    expect(resolveServeConfig({ port: '0', maxLineBytes: '1', controlToken: 'flag', host: 'localhost' }, env)).toEqual({
      host: 'localhost',
      port: 0,
      maxLineBytes: 32,
      token: 'flag',
    });
  });

  it('leaves the limiter off unless RATELIMMQ_ENABLE_LIMITER=1 or a --limit-* flag', () => {
    const env = { RATELIMMQ_CAPACITY: '1', RATELIMMQ_REFILL_RATE: '1/h' };
    expect(resolveServeConfig({}, env).limiter).toBeUndefined();
    expect(resolveServeConfig({}, { ...env, RATELIMMQ_ENABLE_LIMITER: '0' }).limiter).toBeUndefined();
    expect(resolveServeConfig({ limitCapacity: '3' }, env).limiter).toEqual({ capacity: 3, refillPerSec: 1 / 3600 });
  });

  it('takes the optional flags', () => {
    expect(resolveServeConfig({ port: '0', limitRefill: '60/m', maxConnections: '3', idleTimeout: '0' }, { RATELIMMQ_CAPACITY: '9' })).toEqual({
      host: '127.0.0.1',
      port: 0,
      maxLineBytes: 4096,
      limiter: { capacity: 9, refillPerSec: 1 },
      maxConnections: 3,
      idleTimeoutMs: 0,
    });
  });

  it.each<[Parameters<typeof resolveServeConfig>[0], Record<string, string>]>([
    [{ port: '-1' }, {}],
    [{}, { RATELIMMQ_PORT: 'abc' }],
    [{ limitRefill: '0' }, {}],
    [{}, { RATELIMMQ_MAX_LINE_BYTES: 'big' }],
    [{ limitCapacity: '0' }, {}],
    [{}, { RATELIMMQ_ENABLE_LIMITER: '1', RATELIMMQ_REFILL_RATE: 'fast' }],
    [{ controlToken: '' }, {}],
    [{ maxConnections: '0' }, {}],
    [{ host: ' ' }, {}],
  ])('rejects %j %j with a UsageError', (flags, env) => {
    expect(() => resolveServeConfig(flags, env)).toThrow(UsageError);
  });
});
