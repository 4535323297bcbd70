import { afterEach, describe, expect, it } from 'vitest';
import { loopbackAddresses, seededRandom, startTargets, type Targets } from '../../src/target-server.js';

const ADDRESSES = ['127.0.0.1', '127.0.0.2'];
let running: Targets[] = [];

async function start(options: Parameters<typeof startTargets>[0] = {}): Promise<Targets> {
  const t = await startTargets({ addresses: ADDRESSES, ...options });
  running.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(running.map((t) => t.close()));
  running = [];
});

/** Resolves to the label once the fetch completes; used to compare finishing order, not durations. */
async function finish(label: string, url: string): Promise<string> {
  await (await fetch(url)).arrayBuffer();
  return label;
}

/** Status codes of `count` sequential requests to `base`. */
async function statuses(base: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${base}/s/${i}`);
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

/** Waits for a condition the server reaches on its own (polling, not a settle-sleep). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

describe('startTargets', () => {
  it('listens on each address with its own port and spreads URLs round-robin', async () => {
    const t = await start();
    expect(t.hosts.map((h) => h.address)).toEqual(ADDRESSES);
    expect(t.urls).toEqual(t.hosts.map((h) => `http://${h.address}:${h.port}`));
    const urls = [...t.makeUrls(4)];
    expect(urls).toEqual([0, 1, 2, 3].map((i) => t.urlFor(i)));
    expect(new Set(urls).size).toBe(4);
    expect(urls[0]!.startsWith(t.urls[0]!)).toBe(true);
    expect(urls[1]!.startsWith(t.urls[1]!)).toBe(true);
    expect(urls[2]).toBe(`${t.urls[0]}/item/2`);
    expect([...t.makeUrls(2, 5)]).toEqual([t.urlFor(5), t.urlFor(6)]);
  });

  it('answers any path with the configured body size, and honours ?status, ?bytes', async () => {
    const t = await start({ bodyBytes: 10 });
    const plain = await fetch(`${t.urls[1]}/any/path`);
    expect(plain.status).toBe(200);
    expect((await plain.arrayBuffer()).byteLength).toBe(10);

    const notFound = await fetch(`${t.urls[0]}/x?status=404`);
    expect(notFound.status).toBe(404);
    await notFound.arrayBuffer();

    for (const n of [0, 3, 100_000]) {
      const res = await fetch(`${t.urls[0]}/x?bytes=${n}`);
      expect((await res.arrayBuffer()).byteLength).toBe(n);
    }
    const bad = await fetch(`${t.urls[0]}/x?delay=-5`);
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();
  });

  it('sends Retry-After with the configured seconds on 429', async () => {
    const t = await start({ retryAfterSec: 7 });
    const res = await fetch(`${t.urls[0]}/x?status=429`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    await res.arrayBuffer();
  });

  it('delays by latencyMs, and ?delay overrides it (checked by finishing order)', async () => {
    const slow = await start({ latencyMs: 300 });
    const fast = await start();
    const order: string[] = [];
    const track = (p: Promise<string>): Promise<void> => p.then((l) => void order.push(l));
    await Promise.all([
      track(finish('slow', `${slow.urls[0]}/a`)),
      track(finish('fast', `${fast.urls[0]}/a`)),
      track(finish('slow-overridden', `${slow.urls[1]}/a?delay=0`)),
    ]);
    expect(order.indexOf('slow')).toBe(2);
  });

  it('picks errors and throttles deterministically from the seed', async () => {
    const opts = { errorRate: 0.3, throttleRate: 0.2, seed: 42 };
    const a = await statuses((await start(opts)).urls[0]!, 40);
    const b = await statuses((await start(opts)).urls[0]!, 40);
    const c = await statuses((await start({ ...opts, seed: 43 })).urls[0]!, 40);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a)).toEqual(new Set([200, 429, 500]));
  });

  it('gives each host its own fate sequence, independent of traffic to the others', async () => {
    const opts = { errorRate: 0.5, seed: 3 };
    const t1 = await start(opts);
    const alone = await statuses(t1.urls[1]!, 20);
    const t2 = await start(opts);
    await statuses(t2.urls[0]!, 7); // traffic to host 0 first
    expect(await statuses(t2.urls[1]!, 20)).toEqual(alone);
  });

  it('counts requests, statuses and in-flight per host and in total', async () => {
    const t = await start({ errorRate: 0.5, seed: 9 });
    const s0 = await statuses(t.urls[0]!, 10);
    await statuses(t.urls[1]!, 3);
    const errors = s0.filter((s) => s === 500).length;
    expect(t.stats[0]).toEqual({ requests: 10, inFlight: 0, maxInFlight: 1, aborted: 0, statuses: { 200: 10 - errors, 500: errors } });
    expect(t.stats[1]!.requests).toBe(3);
    expect(t.total.requests).toBe(13);

    // Five held requests: all in flight at once; the peak is remembered after they end.
    const held = [1, 2, 3, 4, 5].map((i) => fetch(`${t.urls[0]}/held/${i}?delay=60000`).catch(() => 'aborted'));
    await until(() => t.stats[0]!.requests === 15);
    expect(t.stats[0]!.inFlight).toBe(5);
    expect(t.total.maxInFlight).toBe(5);
    await t.close();
    expect(await Promise.all(held)).toEqual(Array(5).fill('aborted'));
    await until(() => t.stats[0]!.aborted === 5);
    expect(t.stats[0]!.inFlight).toBe(0);
    expect(t.stats[0]!.maxInFlight).toBe(5);
  });

  it('resetStats zeroes the counters', async () => {
    const t = await start();
    await statuses(t.urls[0]!, 2);
    t.resetStats();
    expect(t.total).toEqual({ requests: 0, inFlight: 0, maxInFlight: 0, aborted: 0, statuses: {} });
    expect(t.stats[0]!.statuses).toEqual({});
  });

  it('close is idempotent and stops listening', async () => {
    const t = await start();
    await t.close();
    await t.close();
    await expect(fetch(`${t.urls[0]}/x`)).rejects.toThrow();
  });

  it('rejects bad options with a TypeError naming the option', async () => {
    await expect(startTargets({ errorRate: 2 })).rejects.toThrow(/errorRate.*2/);
    await expect(startTargets({ errorRate: 0.6, throttleRate: 0.6 })).rejects.toThrow(TypeError);
    await expect(startTargets({ bodyBytes: -1 })).rejects.toThrow(/bodyBytes/);
  });
});

describe('helpers', () => {
  it('loopbackAddresses counts from 127.0.0.1', () => {
    expect(loopbackAddresses(3)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  });

  it('seededRandom is reproducible and in [0, 1)', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const xs = Array.from({ length: 100 }, () => a());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
