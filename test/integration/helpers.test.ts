import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import {
  delay,
  failTimesThenOk,
  hang,
  resetConnection,
  runCli,
  startMultiHostServers,
  startRecordingServer,
  statusFromQuery,
  withRetryAfter,
  writeUrlFile,
  type Handler,
} from '../helpers/servers.js';

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((s) => s.close()));
});

/** A handler that holds every response until `release()`: in-flight counts without timing. */
function gate(): { handler: Handler; release(): void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    handler: async (_req, res) => {
      await opened;
      res.end('ok');
    },
    release: () => open(),
  };
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('startRecordingServer', () => {
  it('records path, headers and host, and answers 200 ok by default', async () => {
    const s = await startRecordingServer();
    toClose.push(s);
    const res = await get(s.url('/a/b?c=1'), { headers: { 'user-agent': 'ratelimmq-test' } });
    expect(res).toMatchObject({ status: 200, body: 'ok' });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ n: 0, method: 'GET', path: '/a/b?c=1', host: `127.0.0.1:${s.port}`, hostname: '127.0.0.1' });
    expect(s.requests[0]!.headers['user-agent']).toBe('ratelimmq-test');
    expect(typeof s.requests[0]!.atMs).toBe('number');
  });

  it('counts requests in flight until their responses close', async () => {
    const g = gate();
    const s = await startRecordingServer(g.handler);
    toClose.push(s);
    const pending = [1, 2, 3].map((i) => get(s.url(`/${i}`)));
    await s.waitForRequests(3);
    expect(s.inFlight.global).toEqual({ current: 3, max: 3 });
    expect(s.inFlight.host('127.0.0.1')).toEqual({ current: 3, max: 3 });
    g.release();
    await Promise.all(pending);
    await s.inFlight.whenIdle();
    expect(s.inFlight.global).toEqual({ current: 0, max: 3 });
  });

  it('reports handler failures as 500 and keeps them in errors', async () => {
    const s = await startRecordingServer(() => {
      throw new Error('boom');
    });
    toClose.push(s);
    expect((await get(s.url('/'))).status).toBe(500);
    expect(String(s.errors[0])).toMatch(/boom/);
  });
});

describe('startMultiHostServers', () => {
  it('tracks in flight per host and across all hosts', async () => {
    const g = gate();
    const m = await startMultiHostServers(['127.0.0.1', '127.0.0.2'], g.handler);
    toClose.push(m);
    const [b1, b2] = m.bases as [string, string];
    expect(b1).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(b2).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
    const pending = [get(`${b1}/x`), get(`${b1}/y`), get(`${b2}/z`)];
    await m.waitForRequests(3);
    expect(m.inFlight.global.current).toBe(3);
    expect(m.inFlight.host('127.0.0.1').current).toBe(2);
    expect(m.inFlight.host('127.0.0.2').current).toBe(1);
    expect(m.inFlight.maxPerHost).toBe(2);
    expect(new Set(m.requests.map((r) => r.serverAddress))).toEqual(new Set(['127.0.0.1', '127.0.0.2']));
    g.release();
    await Promise.all(pending);
    await m.inFlight.whenIdle();
    expect(m.inFlight.global).toEqual({ current: 0, max: 3 });
    expect(m.inFlight.hostnames.sort()).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});

describe('fault handlers', () => {
  it('failTimesThenOk fails the first n requests of each path, then answers 200', async () => {
    const s = await startRecordingServer(failTimesThenOk(2, 503));
    toClose.push(s);
    const seq = async (path: string, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(s.url(path))).status);
      return out;
    };
    expect(await seq('/a', 4)).toEqual([503, 503, 200, 200]);
    expect(await seq('/b', 3)).toEqual([503, 503, 200]);
  });

  it('failTimesThenOk composes with withRetryAfter', async () => {
    const s = await startRecordingServer(failTimesThenOk(1, withRetryAfter(429, 2)));
    toClose.push(s);
    const first = await get(s.url('/r'));
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect((await get(s.url('/r'))).status).toBe(200);
  });

  it('statusFromQuery answers the requested status and Retry-After', async () => {
    const s = await startRecordingServer(statusFromQuery());
    toClose.push(s);
    const res = await get(s.url('/?status=503&retryAfter=3'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect((await get(s.url('/'))).status).toBe(200);
  });

  it('delay answers after the wait (ordering, not timing)', async () => {
    const slow = await startRecordingServer(delay(300));
    const fast = await startRecordingServer();
    toClose.push(slow, fast);
    const order: string[] = [];
    await Promise.all([get(slow.url('/')).then(() => order.push('slow')), get(fast.url('/')).then(() => order.push('fast'))]);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('hang keeps the request in flight until the client aborts', async () => {
    const s = await startRecordingServer(hang());
    toClose.push(s);
    const ac = new AbortController();
    const pending = fetch(s.url('/'), { signal: ac.signal });
    await s.waitForRequests(1);
    expect(s.inFlight.global.current).toBe(1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await s.inFlight.whenIdle();
  });

  it.each([{}, { hard: true }])('resetConnection %o makes the fetch fail', async (opts) => {
    const s = await startRecordingServer(resetConnection(opts));
    toClose.push(s);
    await expect(fetch(s.url('/'))).rejects.toThrow();
    await s.inFlight.whenIdle();
  });
});

describe('files and the CLI', () => {
  it('writeUrlFile writes one line per URL to a fresh file', async () => {
    const a = await writeUrlFile(['http://127.0.0.1/a', 'http://127.0.0.1/b']);
    const b = await writeUrlFile([]);
    expect(a).not.toBe(b);
    expect(await readFile(a, 'utf8')).toBe('http://127.0.0.1/a\nhttp://127.0.0.1/b\n');
  });

  it('runCli runs the binary and collects its output', async () => {
    const res = await runCli(['--version']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\d+\.\d+\.\d+/);
  });

  it('runCli rejects when the child outlives the timeout', async () => {
    await expect(runCli(['--version'], { timeoutMs: 1 })).rejects.toThrow(/timed out/);
  });
});
