import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { FetchControl } from '../../src/control/fetch-control.js';
import { startControlServer, type ControlServer, type ControlServerOptions } from '../../src/control/server.js';

/** A client that reads reply lines in order; `line()` resolves to null once the server closed. */
interface LineClient {
  socket: Socket;
  send(text: string | Buffer): void;
  line(): Promise<string | null>;
  /** Sends `text` and returns the next reply. */
  ask(text: string): Promise<string | null>;
  closed: Promise<void>;
}

async function client(port: number): Promise<LineClient> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const lines: string[] = [];
  const waiters: ((l: string | null) => void)[] = [];
  let buffered = '';
  let ended = false;
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const l = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  // Not events.once: that rejects on 'error', and a reset is a normal way for these sockets to end.
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  const c: LineClient = {
    socket,
    send: (text) => void socket.write(text),
    line: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : ended ? Promise.resolve(null) : new Promise((r) => waiters.push(r))),
    ask: (text) => {
      c.send(`${text}\n`);
      return c.line();
    },
    closed,
  };
  return c;
}

function fakeControl(): FetchControl & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    stats: () => ({ started: 7, hosts: { 'a.example': 2 } }),
    pause: () => void calls.push(['pause']),
    resume: () => void calls.push(['resume']),
    setRate: (...args) => void calls.push(['setRate', ...args]),
    setConcurrency: (...args) => void calls.push(['setConcurrency', ...args]),
    shutdown: () => void calls.push(['shutdown']),
  };
}

const servers: ControlServer[] = [];
const clients: LineClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<ControlServerOptions> = {}): Promise<{ server: ControlServer; open: () => Promise<LineClient> }> {
  const server = await startControlServer({ port: 0, onShutdown: () => {}, ...options });
  servers.push(server);
  const open = async (): Promise<LineClient> => {
    const c = await client(server.port);
    clients.push(c);
    return c;
  };
  return { server, open };
}

describe('control server', () => {
  it('binds 127.0.0.1 on a free port by default', async () => {
    const { server } = await start();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
  });

  it('forwards STATS, PAUSE, RESUME and SET to the fetch', async () => {
    const control = fakeControl();
    const c = await (await start({ control })).open();
    expect(JSON.parse((await c.ask('STATS'))!)).toEqual({ started: 7, hosts: { 'a.example': 2 } });
    expect(await c.ask('pause')).toBe('OK');
    expect(await c.ask('Resume')).toBe('OK');
    expect(await c.ask('SET RATE 100')).toBe('OK');
    expect(await c.ask('SET RATE 6000/m API.Example.com')).toBe('OK');
    expect(await c.ask('SET CONCURRENCY 4')).toBe('OK');
    expect(await c.ask('set concurrency 2 a.example')).toBe('OK');
    expect(await c.ask('SET CONCURRENCY 0')).toBe('ERR invalid value');
    expect(await c.ask('SET RATE fast')).toBe('ERR invalid value');
    expect(control.calls).toEqual([
      ['pause'],
      ['resume'],
      ['setRate', 100],
      ['setRate', 100, 'api.example.com'],
      ['setConcurrency', 4],
      ['setConcurrency', 2, 'a.example'],
    ]);
  });

  it('answers the basic commands, one reply per line, crlf or lf', async () => {
    const c = await (await start()).open();
    c.send('PING\r\nhelp\n\nBOGUS\r\nSTATS\n');
    expect([await c.line(), await c.line(), await c.line(), await c.line(), await c.line()]).toEqual([
      'PONG',
      'OK PING SHUTDOWN HELP STATS PAUSE RESUME SET AUTH',
      'ERR unknown command',
      'ERR unknown command',
      'ERR not running a fetch',
    ]);
  });

  it('SHUTDOWN answers BYE, closes the connection and shuts down once', async () => {
    const control = fakeControl();
    const onShutdown = vi.fn();
    const { open } = await start({ control, onShutdown });
    const [a, b] = [await open(), await open()];
    expect(await a.ask('SHUTDOWN')).toBe('BYE');
    await a.closed;
    expect(await b.ask('shutdown')).toBe('BYE');
    expect(control.calls).toEqual([['shutdown']]);
    expect(onShutdown).toHaveBeenCalledTimes(1);
  });

  it('answers an oversized line once, discards the rest and stays usable', async () => {
    const c = await (await start({ maxLineBytes: 32 })).open();
    c.send('x'.repeat(100_000));
    expect(await c.line()).toBe('ERR line too long');
    c.send(`${'y'.repeat(100_000)}\nPING\n`);
    expect(await c.line()).toBe('PONG');
    expect(await c.ask(`PING${' '.repeat(27)}`)).toBe('PONG'); // 32 bytes with the \n
    expect(await c.ask(`PING${' '.repeat(28)}`)).toBe('ERR line too long');
    expect(await c.ask('PING')).toBe('PONG');
  });

  it('caps simultaneous connections', async () => {
    const { open } = await start({ maxConnections: 2 });
    const [a, b] = [await open(), await open()];
    expect(await a.ask('PING')).toBe('PONG'); // both accepted before the third arrives
    expect(await b.ask('PING')).toBe('PONG');
    const extra = await open();
    expect(await extra.line()).toBe('ERR too many connections');
    await extra.closed;
    expect(await a.ask('PING')).toBe('PONG');
  });

  it('survives binary garbage and clients that vanish mid-line', async () => {
    const { open } = await start();
    const g = await open();
    g.send(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x80, 0x81, 0x0d, 0x0a]));
    expect([await g.line(), await g.line()]).toEqual(['ERR unknown command', 'ERR unknown command']);
    expect(await g.ask('PING')).toBe('PONG');
    for (let i = 0; i < 5; i++) {
      const gone = await open();
      gone.send('SET RATE 10');
      gone.socket.resetAndDestroy();
    }
    const fresh = await open();
    expect(await fresh.ask('PING')).toBe('PONG');
  });

  it('requires AUTH when a token is set, SHUTDOWN included', async () => {
    const onShutdown = vi.fn();
    const { open } = await start({ token: 's3cret', onShutdown });
    const c = await open();
    expect(await c.ask('PING')).toBe('ERR unauthorized');
    expect(await c.ask('SHUTDOWN')).toBe('ERR unauthorized');
    expect(await c.ask('AUTH s3cret')).toBe('OK');
    expect(await c.ask('PING')).toBe('PONG');
    const wrong = await open();
    expect(await wrong.ask('AUTH s3cre')).toBe('ERR unauthorized');
    await wrong.closed;
    expect(onShutdown).not.toHaveBeenCalled();
    expect(await c.ask('SHUTDOWN')).toBe('BYE');
    expect(onShutdown).toHaveBeenCalledTimes(1);
  });

  it('AUTH without a token configured is a harmless OK', async () => {
    const c = await (await start()).open();
    expect(await c.ask('AUTH anything')).toBe('OK');
  });

  it('limits commands with one bucket shared by all connections; SHUTDOWN always passes', async () => {
    const clock = new ManualClock();
    const { open } = await start({ clock, limiter: { capacity: 2, refillPerSec: 1 } });
    const [a, b] = [await open(), await open()];
    expect(await a.ask('PING')).toBe('PONG');
    expect(await b.ask('PING')).toBe('PONG');
    expect(await a.ask('PING')).toBe('ERR rate limited');
    expect(await b.ask('HELP')).toBe('ERR rate limited');
    clock.advance(1000);
    expect(await b.ask('PING')).toBe('PONG');
    expect(await a.ask('PING')).toBe('ERR rate limited');
    expect(await a.ask('SHUTDOWN')).toBe('BYE');
  });

  it('closes idle connections', async () => {
    const clock = new ManualClock();
    const c = await (await start({ clock, idleTimeoutMs: 1000 })).open();
    expect(await c.ask('PING')).toBe('PONG'); // the server has seen the connection
    clock.advance(999);
    expect(await c.ask('PING')).toBe('PONG'); // activity restarts the timeout
    clock.advance(999);
    expect(await c.ask('PING')).toBe('PONG');
    clock.advance(1000);
    await c.closed;
  });

  it('stops reading a client that floods without reading its replies', async () => {
    let statsCalls = 0;
    const big = 'z'.repeat(200_000);
    const control = { ...fakeControl(), stats: () => ({ n: ++statsCalls, big }) };
    const c = await (await start({ control })).open();
    c.socket.pause(); // never read until asked: the server's replies back up
    const total = 300;
    c.send('STATS\n'.repeat(total));
    await vi.waitFor(() => expect(statsCalls).toBeGreaterThan(0));
    await new Promise((r) => setImmediate(r));
    // 300 * 200 kB = 60 MB if it kept answering; it stopped once the socket backed up.
    expect(statsCalls).toBeLessThan(total);
    let newlines = 0;
    c.socket.removeAllListeners('data');
    c.socket.on('data', (text: string) => {
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) newlines++;
    });
    c.socket.resume();
    await vi.waitFor(() => expect(newlines).toBe(total));
    expect(statsCalls).toBe(total);
  });

  it('close() closes open connections and resolves', async () => {
    const { server, open } = await start();
    const [a, b] = [await open(), await open()];
    expect(await a.ask('PING')).toBe('PONG');
    b.send('PIN'); // half a line
    await server.close();
    await Promise.all([a.closed, b.closed]);
    await server.close(); // idempotent
  });

  it('refuses an empty token', async () => {
    await expect(startControlServer({ port: 0, token: '', onShutdown: () => {} })).rejects.toThrow(TypeError);
  });

  it('rejects when the port is taken', async () => {
    const { server } = await start();
    await expect(startControlServer({ port: server.port, onShutdown: () => {} })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
