// Concurrency caps, rate limits and host isolation of `ratelimmq fetch`, driven through the CLI
// (run `npx tsc -p .` first) against one recording server per loopback address. Caps are checked
// by the servers' in-flight gauges, rates by counting server arrivals per window: invariants that
// hold however slow the machine is (see the note on rate bounds below).
import { afterEach, describe, expect, it } from 'vitest';
import {
  delay,
  hang,
  ok,
  runCli,
  startMultiHostServers,
  withRetryAfter,
  writeUrlFile,
  type Handler,
  type MultiHostServers,
} from '../helpers/servers.js';
import type { Clock } from '../../src/clock.js';
import { Scheduler } from '../../src/scheduler.js';
import { maxInWindow, parseResults, startCli, warmArrivals, watchLag, type CliProcess } from '../helpers/fetch-helpers.js';

const HOSTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

const toClose: Array<{ close(): Promise<void> }> = [];
const children: CliProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await Promise.all(toClose.splice(0).map((s) => s.close()));
});

async function servers(handler: Handler, hosts = HOSTS): Promise<MultiHostServers> {
  const g = await startMultiHostServers(hosts, handler);
  toClose.push(g);
  return g;
}

/** `perHost` URLs for each base, interleaved host by host: a0 b0 c0 d0 a1 b1 ... */
function interleaved(bases: string[], perHost: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < perHost; i++) for (const b of bases) out.push(`${b}/item/${i}`);
  return out;
}

/** A handler that answers after a delay between `minMs` and `maxMs` (varied by arrival index). */
function delayBetween(minMs: number, maxMs: number): Handler {
  return (req, res, info) => delay(minMs + ((info.n * 7) % (maxMs - minMs + 1)))(req, res, info);
}

describe('fetch: concurrency caps', () => {
  it('-c 6 --per-host 2 over 4 hosts: never more than 6 in flight overall nor 2 per host, and both caps are reached', async () => {
    const g = await servers(delayBetween(20, 50));
    const urls = interleaved(g.bases, 12);
    const r = await runCli(['fetch', '-c', '6', '--per-host', '2', '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    expect(r.code).toBe(0);
    const results = parseResults(r.stdout);
    expect(results).toHaveLength(urls.length);
    expect(results.every((x) => x.ok)).toBe(true);
    expect(g.requests).toHaveLength(urls.length);
    expect(g.inFlight.global.max).toBe(6);
    expect(g.inFlight.hostnames.sort()).toEqual(HOSTS);
    for (const h of HOSTS) expect(g.inFlight.host(h).max).toBeLessThanOrEqual(2);
    expect(g.inFlight.maxPerHost).toBe(2);
  });

  it('--per-host 3 with a bigger global cap: the per-host cap is the binding one', async () => {
    const g = await servers(delayBetween(20, 50), HOSTS.slice(0, 2));
    const urls = interleaved(g.bases, 12);
    const r = await runCli(['fetch', '-c', '50', '--per-host', '3', '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    expect(r.code).toBe(0);
    expect(parseResults(r.stdout)).toHaveLength(urls.length);
    expect(g.inFlight.maxPerHost).toBe(3);
    expect(g.inFlight.global.max).toBeLessThanOrEqual(6);
  });
});

describe('fetch: rate limits', () => {
  // Bounds are the contract's, burst + rate * window + 1, checked on arrivals after each host's first
  // (see warmArrivals); counting those first arrivals too allows one more. Slack beyond that only
  // for lag measured in this process, which stamps the arrivals (see watchLag).
  it('--rate 50 --burst 1: at most burst + 50 * 0.2 + 1 starts in any 200 ms window', async () => {
    const g = await servers(ok());
    const urls = interleaved(g.bases, 10); // 40 URLs over 4 hosts: the limit is global
    const lag = watchLag();
    const r = await runCli(['fetch', '--rate', '50', '--burst', '1', '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    const lagMs = lag.stop();
    expect(r.code).toBe(0);
    expect(parseResults(r.stdout)).toHaveLength(40);
    expect(g.requests).toHaveLength(40);
    const bound = 1 + 50 * 0.2 + 1 + Math.floor(lagMs / 20);
    const why = `arrivals in 200 ms; server lag ${lagMs.toFixed(1)} ms`;
    expect(maxInWindow(warmArrivals(g.requests), 200), why).toBeLessThanOrEqual(bound);
    expect(maxInWindow(g.requests.map((q) => q.atMs), 200), why).toBeLessThanOrEqual(bound + 1);
  });

  it('--per-host-rate 20 --burst 1: per host, at most burst + 20 * 0.2 + 1 starts in any 200 ms window; hosts run side by side', async () => {
    const g = await servers(ok());
    const urls = interleaved(g.bases, 10);
    const lag = watchLag();
    const r = await runCli(['fetch', '--per-host-rate', '20', '--burst', '1', '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    const lagMs = lag.stop();
    expect(r.code).toBe(0);
    expect(g.requests).toHaveLength(40);
    const bound = 1 + 20 * 0.2 + 1 + Math.floor(lagMs / 50);
    for (const h of HOSTS) {
      const mine = g.requests.filter((q) => q.hostname === h);
      expect(mine).toHaveLength(10);
      const why = `${h}: arrivals in 200 ms; server lag ${lagMs.toFixed(1)} ms`;
      expect(maxInWindow(warmArrivals(mine), 200), why).toBeLessThanOrEqual(bound);
      expect(maxInWindow(mine.map((q) => q.atMs), 200), why).toBeLessThanOrEqual(bound + 1);
    }
    // The limit is per host, not global: overall, more than one host's worth starts in some window.
    expect(maxInWindow(g.requests.map((q) => q.atMs), 200)).toBeGreaterThan(1 + 20 * 0.2 + 1);
  });

  // PRODUCT BUG (src/scheduler.ts CATCH_UP_MS = 25, src/token-bucket.ts take/expectTake): `--burst 1`
  // is documented as "starts evenly spaced", the README says lateness "up to 20 ms" is credited back
  // "without bursts", and TokenBucket promises "at most `burst` takes in any instant". But a take up
  // to 25 ms late keeps the schedule, and 25 ms is more than one interval above 40/s: when the timer
  // fires 21-25 ms late, --rate 50 --burst 1 starts two requests in the same instant (starts at
  // 0 44 44 84 84 124 124 ...), --rate 200 five at a time. Shown on the Scheduler with a clock whose
  // timers fire 24 ms late (a busy event loop), which the CLI cannot be made to do on demand.
  // Expected: no two starts at the same instant with burst 1 (catch-up capped below one interval).
  it('--burst 1 never starts two requests in the same instant, even when timers fire late', () => {
    const lateMs = 24;
    let now = 0;
    let timers: Array<{ at: number; fn: () => void }> = [];
    const clock: Clock = {
      now: () => now,
      setTimer(fn, ms) {
        const t = { at: now + Math.max(0, ms) + lateMs, fn };
        timers.push(t);
        return () => void (timers = timers.filter((x) => x !== t));
      },
    };
    const starts: number[] = [];
    const scheduler = new Scheduler<{ host: string }>(
      { concurrency: 100, perHost: 100, ratePerSec: 50, perHostRatePerSec: Infinity, burst: 1, queueSize: 1000, clock },
      () => starts.push(now),
    );
    for (let i = 0; i < 20; i++) scheduler.submit({ host: 'a' });
    for (let fired = 0; timers.length > 0 && fired < 1000; fired++) {
      timers.sort((a, b) => a.at - b.at);
      const t = timers.shift()!;
      now = t.at;
      t.fn();
    }
    expect(starts).toHaveLength(20);
    expect(new Set(starts).size, `starts at ${starts.join(' ')}`).toBe(starts.length);
  });
});

describe('fetch: host isolation', () => {
  it('a host that never answers does not hold up the others (no head-of-line blocking)', async () => {
    const [stuck, ...healthy] = HOSTS;
    const g = await servers((req, res, info) => (req.headers.host?.startsWith(`${stuck}:`) ? hang() : delay(10))(req, res, info));
    const stuckBase = g.bases[0]!;
    // The stuck host's URLs come first, more of them than its per-host cap.
    const urls = [...Array.from({ length: 6 }, (_, i) => `${stuckBase}/stuck/${i}`), ...interleaved(g.bases.slice(1), 10)];
    const file = await writeUrlFile(urls);
    const cli = startCli(['fetch', file, '-c', '10', '--per-host', '2', '--retries', '0', '--timeout', '15000', '--report', 'none']);
    children.push(cli);
    // Every healthy URL finishes while the stuck host's are still pending.
    const healthyResults = await cli.waitFor((out) => {
      const done = parseResults(out).filter((x) => x.host !== stuck);
      return done.length === 30 ? done : null;
    }, 'all 30 healthy results');
    expect(healthyResults.every((x) => x.ok)).toBe(true);
    expect(new Set(healthyResults.map((x) => x.host))).toEqual(new Set(healthy));
    expect(parseResults(cli.stdout).filter((x) => x.host === stuck)).toHaveLength(0);
    expect(g.inFlight.host(stuck!).current).toBe(2);
    expect(g.inFlight.host(stuck!).max).toBe(2);

    // Let the stuck host go: its requests fail fast and the run ends with one result per line.
    await g.servers[0]!.close();
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    const all = parseResults(exit.stdout);
    expect(all.map((x) => x.line).sort((a, b) => a - b)).toEqual(urls.map((_, i) => i + 1));
    expect(all.filter((x) => x.host === stuck).every((x) => !x.ok && x.error !== null)).toBe(true);
  });

  it('a 429 with Retry-After: 1 pauses that host only; the other hosts keep going', async () => {
    const [throttled] = HOSTS;
    let throttledOnce = false;
    const g = await servers((req, res, info) => {
      if (info.path === '/a' && !throttledOnce) {
        throttledOnce = true;
        return withRetryAfter(429, 1)(req, res, info);
      }
      return delay(10)(req, res, info);
    });
    const throttledBase = g.bases[0]!;
    const urls = [`${throttledBase}/a`, `${throttledBase}/b`, `${throttledBase}/c`, ...interleaved(g.bases.slice(1), 10)];
    // --per-host 1: nothing else of the throttled host is in flight when its 429 arrives.
    const r = await runCli(['fetch', '--per-host', '1', '--retry-base', '1', '--retry-max', '2000', '--report', 'none'], { stdin: urls.join('\n') + '\n' });
    expect(r.code).toBe(0);
    const results = parseResults(r.stdout);
    expect(results).toHaveLength(urls.length);
    expect(results.every((x) => x.ok)).toBe(true);
    expect(results.find((x) => x.line === 1)).toMatchObject({ status: 200, attempts: 2 });

    const first429 = g.requests.find((q) => q.hostname === throttled)!;
    const throttledLater = g.requests.filter((q) => q.hostname === throttled && q.n > first429.n);
    const healthyLater = g.requests.filter((q) => q.hostname !== throttled && q.atMs > first429.atMs);
    // The host paused for the Retry-After (a lower bound, measured from the 429's arrival)...
    expect(throttledLater.length).toBeGreaterThan(0);
    for (const q of throttledLater) expect(q.atMs - first429.atMs).toBeGreaterThanOrEqual(950);
    // ...while the other hosts went on: every healthy request after the 429 came before the pause ended.
    expect(healthyLater.length).toBeGreaterThan(0);
    const resumedAt = Math.min(...throttledLater.map((q) => q.atMs));
    expect(healthyLater.every((q) => q.atMs < resumedAt)).toBe(true);
  });
});
