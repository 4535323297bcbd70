import { describe, expect, it } from 'vitest';
import { seededRandom as prng } from '../../src/random.js';
import { ManualClock, type Clock } from '../../src/clock.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler.js';

interface Item {
  host: string;
  id: string;
}


interface Harness {
  clock: ManualClock;
  s: Scheduler<Item>;
  /** Every start, in order, with its clock time and the in-flight counts it led to. */
  starts: { id: string; host: string; at: number; global: number; onHost: number }[];
  /** Items in flight (started, not released), as seen from outside. */
  running: Item[];
  maxGlobal: number;
  maxPerHost: Map<string, number>;
  /** Queues items `host:1..n` (ids like `a1`). */
  submit(host: string, n: number, from?: number): void;
  /** Ends the attempt of the item (oldest running one of the host when no id). */
  release(hostOrId: string): Item;
  startedIds(): string[];
}

/**
 * A scheduler on a manual clock. `autoReleaseMs`: when set, each attempt ends that long after it
 * starts (0 = synchronously inside `start`, which the scheduler must handle).
 */
function harness(over: Partial<SchedulerOptions> = {}, autoReleaseMs?: number, clock: Clock = new ManualClock()): Harness {
  const h = {
    clock: clock as ManualClock,
    starts: [],
    running: [],
    maxGlobal: 0,
    maxPerHost: new Map<string, number>(),
  } as unknown as Harness;
  const perHostNow = new Map<string, number>();
  const options: SchedulerOptions = {
    concurrency: 100,
    perHost: 100,
    ratePerSec: Infinity,
    perHostRatePerSec: Infinity,
    burst: 1,
    queueSize: 100_000,
    clock,
    ...over,
  };
  const end = (item: Item): void => {
    const i = h.running.indexOf(item);
    if (i < 0) throw new Error(`${item.id} is not running`);
    h.running.splice(i, 1);
    perHostNow.set(item.host, perHostNow.get(item.host)! - 1);
    h.s.release(item.host);
  };
  h.s = new Scheduler<Item>(options, (item) => {
    h.running.push(item);
    const n = (perHostNow.get(item.host) ?? 0) + 1;
    perHostNow.set(item.host, n);
    h.starts.push({ id: item.id, host: item.host, at: clock.now(), global: h.running.length, onHost: n });
    h.maxGlobal = Math.max(h.maxGlobal, h.running.length);
    h.maxPerHost.set(item.host, Math.max(h.maxPerHost.get(item.host) ?? 0, n));
    if (autoReleaseMs === 0) end(item);
    else if (autoReleaseMs !== undefined) clock.setTimer(() => end(item), autoReleaseMs);
  });
  h.submit = (host, n, from = 1) => {
    for (let i = from; i < from + n; i++) h.s.submit({ host, id: `${host}${i}` });
  };
  h.release = (hostOrId) => {
    const item = h.running.find((i) => i.id === hostOrId) ?? h.running.find((i) => i.host === hostOrId);
    if (!item) throw new Error(`nothing running for ${hostOrId}`);
    end(item);
    return item;
  };
  h.startedIds = () => h.starts.map((x) => x.id);
  return h;
}

/** Advances in small steps up to `untilMs` (absolute). */
function runUntil(clock: ManualClock, untilMs: number, stepMs = 0.5): void {
  while (clock.now() < untilMs - 1e-9) clock.advance(Math.min(stepMs, untilMs - clock.now()));
}

/** Max number of starts in any closed window [s, s + windowMs]. */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    if (j < i) j = i;
    while (j < times.length && times[j]! <= times[i]! + windowMs + 1e-9) j++;
    max = Math.max(max, j - i);
  }
  return max;
}

/**
 * A clock whose timers only fire on a coarse tick (every `tickMs`), like a busy event loop: a
 * timer due at 10 ms fires at 12 ms with 3 ms ticks. Built on ManualClock.
 */
class TickClock implements Clock {
  readonly manual = new ManualClock();
  constructor(readonly tickMs: number) {}
  now(): number {
    return this.manual.now();
  }
  setTimer(fn: () => void, ms: number): () => void {
    const now = this.manual.now();
    const due = now + Math.max(0, ms);
    const fireAt = Math.ceil(due / this.tickMs - 1e-9) * this.tickMs;
    return this.manual.setTimer(fn, fireAt - now);
  }
  advance(ms: number): void {
    this.manual.advance(ms);
  }
}

describe('Scheduler: concurrency caps', () => {
  it('the global cap is never exceeded, and every item starts exactly once', () => {
    const h = harness({ concurrency: 3 });
    const rnd = prng(1);
    for (const host of ['a', 'b', 'c', 'd']) h.submit(host, 25);
    expect(h.s.inFlight).toBe(3);
    while (h.running.length > 0) {
      h.release(h.running[Math.floor(rnd() * h.running.length)]!.id);
      expect(h.running.length).toBeLessThanOrEqual(3);
      expect(h.s.inFlight).toBe(h.running.length);
    }
    expect(h.maxGlobal).toBe(3);
    expect(h.startedIds().slice().sort()).toEqual(['a', 'b', 'c', 'd'].flatMap((x) => Array.from({ length: 25 }, (_, i) => `${x}${i + 1}`)).sort());
    expect(h.s.idle).toBe(true);
  });

  it('the per-host cap is never exceeded while other hosts fill the global cap', () => {
    const h = harness({ concurrency: 10, perHost: 2 });
    const rnd = prng(2);
    h.submit('a', 30);
    h.submit('b', 30);
    h.submit('c', 3);
    expect(h.running.length).toBe(6);
    while (h.running.length > 0) {
      h.release(h.running[Math.floor(rnd() * h.running.length)]!.id);
      if (rnd() < 0.3) h.submit('d', 1, 1000 + h.starts.length);
    }
    for (const [, max] of h.maxPerHost) expect(max).toBeLessThanOrEqual(2);
    expect(h.maxPerHost.get('a')).toBe(2);
    expect(h.s.queued).toBe(0);
  });

  it('a start that ends synchronously inside start() is handled (re-entrant pump)', () => {
    const h = harness({ concurrency: 2 }, 0);
    h.submit('a', 50);
    expect(h.starts).toHaveLength(50);
    expect(h.s.idle).toBe(true);
  });
});

describe('Scheduler: no head-of-line blocking', () => {
  it.each<[string, (h: Harness) => void]>([
    ['at its per-host cap', (h) => h.s.setConcurrency(1, 'a')],
    ['paused (Retry-After)', (h) => h.s.pauseHost('a', 60_000)],
    ['rate-limited', (h) => h.s.setRate(0.01, 'a')],
  ])('a host %s does not hold up the hosts queued behind it', (_name, block) => {
    const h = harness({ concurrency: 5 });
    h.s.pause();
    block(h);
    h.submit('a', 20);
    h.submit('b', 3);
    h.submit('c', 1);
    h.s.resume();
    const started = h.startedIds();
    expect(started).toEqual(expect.arrayContaining(['b1', 'b2', 'b3', 'c1']));
    expect(h.running.filter((i) => i.host === 'a').length).toBeLessThanOrEqual(1);
    expect(h.clock.now()).toBe(0);
  });

  it('items of a ready host keep starting while a throttled host waits, as slots free', () => {
    const h = harness({ concurrency: 2, perHostRatePerSec: 1 });
    h.submit('slow', 10);
    h.submit('fast', 1);
    h.s.setRate(1000, 'fast');
    h.submit('fast', 4, 2);
    // 'slow' starts once per second; 'fast' at 1000/s, so all five start within a few ms.
    for (let t = 0; t < 10; t++) {
      h.clock.advance(1);
      for (const item of h.running.filter((i) => i.host === 'fast')) h.release(item.id);
    }
    expect(h.starts.filter((x) => x.host === 'fast')).toHaveLength(5);
    expect(h.starts.filter((x) => x.host === 'slow')).toHaveLength(1);
  });

  // BUG (src/queue.ts HostQueue.visit, lines 138-156; see queue.test.ts): after a lane empties, a
  // visit pass that wraps around can offer a blocked lane twice and skip a ready one, so pumpOnce
  // sees "no lane ready" and b2 waits until the paused hosts wake at t=60 s although host b has
  // room and the global cap is far away.
  it('a ready host is not skipped when another lane emptied in the same pass', () => {
    const h = harness({ concurrency: 10, perHost: 2 });
    h.s.pause();
    h.submit('a', 1);
    h.submit('b', 2);
    h.submit('c', 1);
    h.submit('d', 1);
    h.s.pauseHost('c', 60_000);
    h.s.pauseHost('d', 60_000);
    h.s.resume();
    expect(h.startedIds().sort()).toEqual(['a1', 'b1', 'b2']);
  });
});

describe('Scheduler: rate limits', () => {
  it('global rate with burst 1: starts evenly spaced (10 per 100 ms at 100/s)', () => {
    const h = harness({ ratePerSec: 100, burst: 1 }, 1);
    h.submit('a', 300);
    h.submit('b', 300);
    runUntil(h.clock, 5000, 0.7);
    const times = h.starts.map((x) => x.at);
    expect(times).toHaveLength(501); // t = 0, 10, ..., 5000
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeCloseTo(10, 6);
    for (let w = 0; w < 5000; w += 100) {
      const n = times.filter((t) => t >= w && t < w + 100).length;
      expect(n).toBe(10);
    }
  });

  it.each<[number, number]>([
    [100, 1],
    [100, 5],
    [33, 3],
    [1000, 1],
  ])('global %s/s burst %s: at most burst + W*rate/1000 starts in any window W', (rate, burst) => {
    const h = harness({ ratePerSec: rate, burst }, 2);
    const rnd = prng(rate + burst);
    let id = 0;
    for (let t = 0; t < 3000; t += 1) {
      if (rnd() < 0.5) h.submit(rnd() < 0.5 ? 'a' : 'b', Math.floor(rnd() * 4), (id += 10));
      h.clock.advance(1);
    }
    const times = h.starts.map((x) => x.at);
    expect(times.length).toBeGreaterThan(50);
    for (const w of [0, 1000 / rate, 10_000 / rate, 1000]) {
      expect(maxInWindow(times, w)).toBeLessThanOrEqual(burst + (w * rate) / 1000 + 1e-6);
    }
  });

  it('per-host rate: each host is paced on its own, in parallel', () => {
    const h = harness({ perHostRatePerSec: 10, burst: 1 }, 1);
    h.submit('a', 50);
    h.submit('b', 50);
    runUntil(h.clock, 2000, 0.5);
    for (const host of ['a', 'b']) {
      const times = h.starts.filter((x) => x.host === host).map((x) => x.at);
      expect(times).toEqual(Array.from({ length: 21 }, (_, i) => i * 100));
    }
  });

  it('per-host rate with burst 3: three at once, then spaced', () => {
    const h = harness({ perHostRatePerSec: 10, burst: 3 }, 1);
    h.submit('a', 10);
    runUntil(h.clock, 350);
    expect(h.starts.map((x) => x.at)).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it.each<[string, Partial<SchedulerOptions>, string]>([
    ['global', { ratePerSec: 100 }, ''],
    ['per host', { perHostRatePerSec: 100 }, 'a'],
  ])('a late timer (3 ms ticks) does not lose capacity: %s 100/s over 20 s', (_name, over) => {
    const clock = new TickClock(3);
    const h = harness({ burst: 1, ...over }, 1, clock);
    h.submit('a', 5000);
    while (clock.now() < 20_000) clock.advance(3);
    // Ideal: t = 0, 10, ..., 20 000 -> 2001 starts.
    expect(Math.abs(h.starts.length - 2001)).toBeLessThanOrEqual(2);
    // Catching up never turns into a burst beyond what the schedule owed.
    expect(maxInWindow(h.starts.map((x) => x.at), 0)).toBeLessThanOrEqual(1);
  });

  // BUG (src/scheduler.ts #take, line 282, and #readyAt): `waitingForToken` is set after every take
  // while the lane has items, and is only cleared when #readyAt runs. When the host is next held up
  // by the GLOBAL cap (the pump loop stops before visiting lanes), the flag stays true, so the
  // start after a long wait gets MAX_CATCH_UP_MS (20 ms) of credit although no timer was late:
  // its bucket jumps to now-20+interval and, when slots free at the same instant, the host gets
  // 1 + 20*rate/1000 starts at once (3 here at 100/s with burst 1; 21 at 1000/s). Same for the
  // global bucket: `#globalWaiting` survives a pause() (pumpOnce returns early), so resume() after
  // a pause while rate-blocked starts 3 items at once at 100/s burst 1 (next test).
  it('per-host rate, burst 1: a host held up by the global cap gets no burst when slots free together', () => {
    const h = harness({ concurrency: 3, perHostRatePerSec: 100, burst: 1 });
    h.submit('a', 10);
    runUntil(h.clock, 30);
    expect(h.starts.map((x) => x.at)).toEqual([0, 10, 20]);
    h.clock.advance(1000);
    h.release('a');
    h.release('a');
    h.release('a');
    const atOnce = h.starts.filter((x) => x.at === h.clock.now()).length;
    expect(atOnce).toBe(1);
  });

  it('global rate, burst 1: resume after a pause starts at most burst items at once', () => {
    const h = harness({ ratePerSec: 100, burst: 1 }, 1);
    h.submit('a', 10);
    h.clock.advance(5); // a1 at 0, a2 due at 10
    h.s.pause();
    h.clock.advance(1000);
    h.s.resume();
    const atOnce = h.starts.filter((x) => x.at === h.clock.now()).length;
    expect(atOnce).toBe(1);
  });
});

describe('Scheduler: pauses and retries', () => {
  it('pauseHost delays only that host, until the given clock time', () => {
    const h = harness({}, 1);
    h.s.pauseHost('a', 500);
    h.submit('a', 2);
    h.submit('b', 2);
    expect(h.startedIds().sort()).toEqual(['b1', 'b2']);
    h.clock.advance(499);
    expect(h.starts.filter((x) => x.host === 'a')).toHaveLength(0);
    h.clock.advance(1);
    expect(h.starts.filter((x) => x.host === 'a').map((x) => x.at)).toEqual([500, 500]);
  });

  it('pauseHost never shortens an existing pause', () => {
    const h = harness();
    h.s.pauseHost('a', 500);
    h.s.pauseHost('a', 100);
    h.submit('a', 1);
    h.clock.advance(400);
    expect(h.starts).toHaveLength(0);
    h.clock.advance(100);
    expect(h.starts).toHaveLength(1);
  });

  it('retryAfter holds no slot, and puts the item back at the head of its lane after the delay', () => {
    const h = harness({ concurrency: 1 });
    h.submit('a', 3); // a1 starts; a2, a3 wait
    const a1 = h.release('a1');
    h.s.retryAfter(a1, 100); // runner order: retryAfter, then release
    expect(h.startedIds()).toEqual(['a1', 'a2']); // the slot went to a2 at once
    expect(h.s.retryWaiting).toBe(1);
    expect(h.s.queued).toBe(1);
    expect(h.s.idle).toBe(false);
    h.clock.advance(150); // a1 is back in the lane at 100, but a2 still holds the only slot
    expect(h.s.retryWaiting).toBe(0);
    expect(h.s.queued).toBe(2);
    h.release('a2');
    expect(h.startedIds()).toEqual(['a1', 'a2', 'a1']); // before a3, which was queued earlier
  });

  it('a retry comes back no earlier than its delay, even with free slots', () => {
    const h = harness();
    h.submit('a', 1);
    const a1 = h.release('a1');
    h.s.retryAfter(a1, 250);
    h.clock.advance(249.9);
    expect(h.starts).toHaveLength(1);
    h.clock.advance(0.1);
    expect(h.starts.map((x) => x.at)).toEqual([0, 250]);
  });

  it('pause stops new starts (including on release and timers); resume starts what the limits allow', () => {
    const h = harness({ concurrency: 2 });
    h.submit('a', 1);
    h.s.pause();
    expect(h.s.paused).toBe(true);
    h.submit('a', 4, 2);
    h.release('a1');
    h.clock.advance(1000);
    expect(h.startedIds()).toEqual(['a1']);
    h.s.resume();
    expect(h.s.paused).toBe(false);
    expect(h.startedIds()).toEqual(['a1', 'a2', 'a3']);
  });
});

describe('Scheduler: live changes', () => {
  it('setRate (global) takes effect from now', () => {
    const h = harness({ ratePerSec: 10 }, 1);
    h.submit('a', 300);
    runUntil(h.clock, 1000);
    expect(h.starts.filter((x) => x.at < 1000)).toHaveLength(10);
    h.s.setRate(100);
    runUntil(h.clock, 2000);
    const second = h.starts.filter((x) => x.at >= 1000).map((x) => x.at);
    expect(Math.abs(second.length - 100)).toBeLessThanOrEqual(1);
    for (let i = 1; i < second.length; i++) expect(second[i]! - second[i - 1]!).toBeCloseTo(10, 6);
  });

  it('setRate for one host changes only that host', () => {
    const h = harness({ perHostRatePerSec: 10 }, 1);
    h.submit('a', 100);
    h.submit('b', 100);
    h.s.setRate(50, 'a');
    runUntil(h.clock, 1000);
    const count = (host: string): number => h.starts.filter((x) => x.host === host && x.at < 1000).length;
    expect(Math.abs(count('a') - 50)).toBeLessThanOrEqual(1);
    expect(count('b')).toBe(10);
  });

  it('setRate(Infinity) lifts a limit at once', () => {
    const h = harness({ ratePerSec: 1 }, 1);
    h.submit('a', 20);
    h.clock.advance(10);
    expect(h.starts).toHaveLength(1);
    h.s.setRate(Infinity);
    expect(h.starts).toHaveLength(20);
  });

  it('setConcurrency (global) up starts more at once; down lets the excess drain', () => {
    const h = harness({ concurrency: 1 });
    h.submit('a', 10);
    expect(h.running).toHaveLength(1);
    h.s.setConcurrency(4);
    expect(h.running).toHaveLength(4);
    h.s.setConcurrency(2);
    h.release('a');
    expect(h.running).toHaveLength(3); // no start: still over the new cap
    h.release('a');
    expect(h.running).toHaveLength(2);
    h.release('a');
    expect(h.running).toHaveLength(2); // one out, one in
  });

  it('setConcurrency for one host overrides the per-host default both ways', () => {
    const h = harness({ perHost: 1 });
    h.submit('a', 10);
    h.submit('b', 10);
    h.s.setConcurrency(5, 'a');
    expect(h.running.filter((i) => i.host === 'a')).toHaveLength(5);
    expect(h.running.filter((i) => i.host === 'b')).toHaveLength(1);
    h.s.setConcurrency(2, 'a');
    h.release('a');
    h.release('a');
    h.release('a');
    expect(h.running.filter((i) => i.host === 'a')).toHaveLength(2);
    h.release('a');
    expect(h.running.filter((i) => i.host === 'a')).toHaveLength(2);
  });
});

describe('Scheduler: stop, gate, snapshots', () => {
  it('stop returns queued and retry-waiting items; nothing starts or comes back afterwards', () => {
    const h = harness({ concurrency: 2 });
    h.submit('a', 3);
    h.submit('b', 2);
    const a1 = h.release('a1');
    h.s.retryAfter(a1, 100);
    const before = h.startedIds();
    const out = h.s.stop();
    expect(out.map((i) => i.id)).toContain('a1');
    expect(h.s.queued).toBe(0);
    expect(h.s.retryWaiting).toBe(0);
    // Every item is accounted for exactly once: still running, or returned by stop.
    const accounted = [...h.running.map((i) => i.id), ...out.map((i) => i.id)].sort();
    expect(accounted).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    h.clock.advance(1000);
    while (h.running.length > 0) h.release(h.running[0]!.id);
    expect(h.startedIds()).toEqual(before);
    expect(h.s.idle).toBe(true);
  });

  it('stop cancels the rate timer', () => {
    const clock = new ManualClock();
    const h = harness({ ratePerSec: 1 }, undefined, clock);
    h.submit('a', 5);
    expect(clock.pending).toBeGreaterThan(0);
    h.s.stop();
    expect(clock.pending).toBe(0);
  });

  it('canStart gates every start; pump() after it opens starts what waited', () => {
    const h = harness({ concurrency: 3 });
    let open = false;
    h.s.canStart = () => open;
    h.submit('a', 5);
    h.clock.advance(100);
    expect(h.starts).toHaveLength(0);
    open = true;
    h.s.pump();
    expect(h.starts).toHaveLength(3);
  });

  it('canStart is consulted before each start', () => {
    const h = harness();
    let budget = 2;
    h.s.canStart = () => budget-- > 0;
    h.submit('a', 1);
    h.submit('a', 1, 2);
    h.submit('a', 1, 3);
    expect(h.startedIds()).toEqual(['a1', 'a2']);
  });

  it('waitForRoom: a promise while the queue is full, resolved by a start', async () => {
    const h = harness({ concurrency: 1, queueSize: 2 });
    h.submit('a', 3); // a1 running, a2 and a3 queued
    const room = h.s.waitForRoom();
    expect(room).toBeInstanceOf(Promise);
    let done = false;
    void room!.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    h.release('a1');
    await room;
    expect(done).toBe(true);
  });

  it('hosts() lists busy hosts, busiest first', () => {
    const h = harness({ perHost: 1 });
    h.submit('a', 3);
    h.submit('b', 1);
    const b1 = h.release('b1');
    h.s.retryAfter(b1, 100);
    expect(h.s.hosts(10)).toEqual([
      { host: 'a', in_flight: 1, queued: 2, retrying: 0 },
      { host: 'b', in_flight: 0, queued: 0, retrying: 1 },
    ]);
    expect(h.s.hosts(1)).toHaveLength(1);
  });

  it('invariants over a random simulated run with retries, pauses and live changes', () => {
    const h = harness({ concurrency: 6, perHost: 2, ratePerSec: 200, perHostRatePerSec: 50, burst: 2 });
    const rnd = prng(99);
    const hosts = ['a', 'b', 'c', 'd', 'e'];
    let id = 0;
    let submitted = 0;
    const finished = new Set<string>();
    let globalCap = 6;
    const hostCap = new Map<string, number>();
    let checked = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = rnd();
      if (r < 0.2) {
        h.s.submit({ host: hosts[Math.floor(rnd() * hosts.length)]!, id: `x${id++}` });
        submitted++;
      } else if (r < 0.45 && h.running.length > 0) {
        const item = h.running[Math.floor(rnd() * h.running.length)]!;
        h.release(item.id);
        if (rnd() < 0.2) h.s.retryAfter(item, rnd() * 50);
        else finished.add(item.id);
      } else if (r < 0.46) {
        h.s.pauseHost(hosts[Math.floor(rnd() * hosts.length)]!, h.clock.now() + rnd() * 100);
      } else if (r < 0.465) {
        globalCap = 1 + Math.floor(rnd() * 8);
        h.s.setConcurrency(globalCap);
      } else if (r < 0.47) {
        const host = hosts[Math.floor(rnd() * hosts.length)]!;
        const cap = 1 + Math.floor(rnd() * 3);
        hostCap.set(host, cap);
        h.s.setConcurrency(cap, host);
      }
      // Caps change only above, so every start during this step must respect the current ones
      // (after a cap is lowered, the excess drains without new starts).
      h.clock.advance(rnd() * 3);
      for (; checked < h.starts.length; checked++) {
        const st = h.starts[checked]!;
        expect(st.global).toBeLessThanOrEqual(globalCap);
        expect(st.onHost).toBeLessThanOrEqual(hostCap.get(st.host) ?? 2);
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // Drain: everything submitted eventually finishes.
    for (let i = 0; i < 100_000 && finished.size < submitted; i++) {
      while (h.running.length > 0) finished.add(h.release(h.running[0]!.id).id);
      h.clock.advance(5);
    }
    expect(finished.size).toBe(submitted);
    expect(h.s.idle).toBe(true);
  });
});

describe('Scheduler: slow start', () => {
  it('starts at the slow-start cap and grows by one per release up to the concurrency', () => {
    const clock = new ManualClock();
    const started: string[] = [];
    const s = new Scheduler<{ host: string; id: number }>(
      { concurrency: 6, perHost: 100, ratePerSec: Infinity, perHostRatePerSec: Infinity, burst: 1, queueSize: 100, clock, slowStart: 2 },
      (item) => started.push(String(item.id)),
    );
    for (let i = 0; i < 20; i++) s.submit({ host: 'a', id: i });
    expect(s.inFlight).toBe(2);
    s.release('a'); // cap 3: two more start (1 + 2 = 3 in flight)
    expect(s.inFlight).toBe(3);
    s.release('a');
    s.release('a'); // cap 5
    expect(s.inFlight).toBe(5);
    s.release('a'); // cap 6 = concurrency: the ramp is over
    expect(s.inFlight).toBe(6);
    for (let i = 0; i < 5; i++) s.release('a');
    expect(s.inFlight).toBe(6);
  });
});
