/**
 * The scheduler decides when each queued attempt starts: a global cap and per-host caps on
 * requests in flight, a global and per-host token buckets, host pauses (Retry-After), and a global
 * pause. It picks among hosts that can start now, so a saturated or throttled host never holds up
 * the others, and it never holds a slot while waiting: a waiting item sits in its lane.
 *
 * It is event-driven, not a pool of sleeping workers: `pump` runs after anything that may free
 * capacity (an item arrives, an attempt ends, a timer fires, a limit changes) and starts as much
 * as the limits allow. One timer covers the earliest moment a blocked host becomes ready.
 */
import type { Clock } from './clock.js';
import { HostQueue, type Lane } from './queue.js';
import { cutRate, growRate, nextGapEwma } from './adaptive.js';
import { TokenBucket } from './token-bucket.js';

/**
 * A start up to this late (ms) after its token became available keeps the rate schedule, caught up
 * at twice the rate, so late timers and short stalls (GC, a cold JIT, a busy machine) lose no
 * capacity; a later one (an idle host, a long stall) restarts the schedule rather than bursting.
 */
const CATCH_UP_MS = 250;

export interface SchedulerOptions {
  /** Max attempts in flight overall. */
  concurrency: number;
  /** Max attempts in flight per host. */
  perHost: number;
  /** Starts per second overall; Infinity = unlimited. */
  ratePerSec: number;
  /** Starts per second for each host; Infinity = unlimited. */
  perHostRatePerSec: number;
  /** Token-bucket size for both rate limits. */
  burst: number;
  /** Items waiting (not started) before the reader has to wait. */
  queueSize: number;
  /** AIMD per-host rates on 429/503 (see adaptive.ts). */
  adaptive?: boolean;
  /**
   * Slow start: the global cap begins here and grows by one per finished attempt (doubling every
   * round trip, as TCP's window does) up to `concurrency`. Undefined = start at the full cap.
   */
  slowStart?: number;
  clock: Clock;
}

interface HostState {
  inFlight: number;
  /** Intended start of this host's next attempt under its rate (the schedule), for latency correction. */
  next: number;
  /** Items of this host waiting for their retry (holding no slot). */
  retrying: number;
  /** Per-host cap set live (SET CONCURRENCY n host); undefined = the default. */
  cap: number | undefined;
  /** Per-host rate set live; undefined = the default. */
  ratePerSec: number | undefined;
  bucket: TokenBucket | null;
  pausedUntil: number;
  /** Adaptive (AIMD) state: when the rate was last cut, and the smoothed gap between starts. */
  lastCutMs: number;
  lastStartMs: number;
  gapEwmaMs: number;
}

export interface HostSnapshot {
  host: string;
  in_flight: number;
  queued: number;
  retrying: number;
}

/** Starts attempts under limits. `T` is the caller's work item. */
export class Scheduler<T extends { host: string; dueMs?: number }> {
  readonly #o: SchedulerOptions;
  readonly #clock: Clock;
  readonly #queue: HostQueue<T, HostState>;
  readonly #retries = new Map<T, () => void>(); // item -> cancel its backoff timer
  readonly #start: (item: T, intendedMs: number) => void;
  #globalBucket: TokenBucket;
  #globalNext = -Infinity; // intended start of the next attempt under the global rate
  #intended = 0; // the intended start of the item #take returned last
  #ramp: number; // the slow-start cap; Infinity once it reached the concurrency
  #inFlight = 0;
  #paused = false;
  #stopped = false;
  #pumping = false;
  #again = false;
  #timerAt = Infinity;
  #cancelTimer: (() => void) | null = null;
  /** Extra gate (e.g. output backpressure); when it says no, call `pump()` once it says yes. */
  canStart: () => boolean = () => true;

  /**
   * `start(item, intendedMs)` launches an attempt. `intendedMs` is when it should have started had
   * every limit been met on time: the rate schedule (start i at t0 + i/rate, kept while work is
   * waiting) or the item's `dueMs` (when it was queued or its backoff ended); NaN when no rate
   * applies (then it is the actual start). Latency from there is corrected for coordinated
   * omission: a stalled client or server cannot hide.
   */
  constructor(options: SchedulerOptions, start: (item: T, intendedMs: number) => void) {
    this.#o = { ...options };
    this.#clock = options.clock;
    this.#start = start;
    this.#ramp = options.slowStart ?? Infinity;
    this.#globalBucket = new TokenBucket(options.ratePerSec, options.burst, this.#clock.now(), CATCH_UP_MS);
    this.#queue = new HostQueue<T, HostState>(options.queueSize, () => ({
      inFlight: 0,
      next: -Infinity,
      retrying: 0,
      cap: undefined,
      ratePerSec: undefined,
      bucket: null,
      pausedUntil: 0,
      lastCutMs: -Infinity,
      lastStartMs: NaN,
      gapEwmaMs: NaN,
    }));
  }

  get inFlight(): number {
    return this.#inFlight;
  }
  get queued(): number {
    return this.#queue.size;
  }
  get retryWaiting(): number {
    return this.#retries.size;
  }
  /** The global limits in force now (they change with SET RATE / SET CONCURRENCY). */
  get limits(): { concurrency: number; ratePerSec: number } {
    return { concurrency: this.#o.concurrency, ratePerSec: this.#o.ratePerSec };
  }
  get paused(): boolean {
    return this.#paused;
  }
  /** Nothing queued, waiting for a retry, or in flight. */
  get idle(): boolean {
    return this.#inFlight === 0 && this.#queue.size === 0 && this.#retries.size === 0;
  }

  /** The reader awaits this before `submit` when it returns a promise (the queue is full). */
  waitForRoom(): Promise<void> | undefined {
    return this.#queue.waitForRoom();
  }

  /** Queues a new item at the tail of its host's lane. */
  submit(item: T): void {
    this.#queue.push(item.host, item);
    this.pump();
  }

  /** An attempt ended (success, failure or before a retry): frees its slots. */
  release(host: string): void {
    this.#inFlight--;
    if (this.#ramp !== Infinity && ++this.#ramp >= this.#o.concurrency) this.#ramp = Infinity;
    const lane = this.#queue.peekLane(host);
    if (lane) {
      lane.state.inFlight--;
      this.#maybeForget(lane);
    }
    this.pump();
  }

  /** Puts an item back after `delayMs`, holding no slot meanwhile. Call after `release`. */
  retryAfter(item: T, delayMs: number): void {
    const state = this.#queue.lane(item.host).state;
    state.retrying++;
    const cancel = this.#clock.setTimer(() => {
      this.#retries.delete(item);
      state.retrying--;
      if (this.#stopped) return;
      this.#queue.requeue(item.host, item);
      this.pump();
    }, delayMs);
    this.#retries.set(item, cancel);
  }

  /** No attempt for `host` starts before `untilMs` (clock time): Retry-After pauses the whole host. */
  pauseHost(host: string, untilMs: number): void {
    const state = this.#queue.lane(host).state;
    state.pausedUntil = Math.max(state.pausedUntil, untilMs);
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.pump();
  }

  /** Changes the global rate, or one host's rate, live. */
  setRate(perSec: number, host?: string): void {
    const now = this.#clock.now();
    if (host === undefined) {
      this.#o.ratePerSec = perSec;
      this.#globalBucket.setRate(perSec, now);
    } else {
      const state = this.#queue.lane(host).state;
      state.ratePerSec = perSec;
      if (state.bucket) state.bucket.setRate(perSec, now);
      else if (Number.isFinite(perSec)) state.bucket = new TokenBucket(perSec, this.#o.burst, now, CATCH_UP_MS);
    }
    this.pump();
  }

  /**
   * Adaptive politeness: an attempt to `host` that started at `startedMs` was throttled (429/503)
   * or answered well. Only throttles of attempts started after the last cut count, so one burst of
   * 429s to requests already in flight halves the rate once, not once per request.
   */
  adapt(host: string, throttled: boolean, startedMs: number): void {
    const lane = this.#queue.peekLane(host);
    if (!lane) return;
    const s = lane.state;
    const current = s.bucket?.ratePerSec ?? Infinity;
    if (throttled) {
      if (startedMs < s.lastCutMs) return;
      s.lastCutMs = this.#clock.now();
      this.setRate(cutRate(current, s.gapEwmaMs > 0 ? 1000 / s.gapEwmaMs : Infinity), host);
    } else if (Number.isFinite(current)) {
      const next = growRate(current, this.#o.perHostRatePerSec);
      if (next !== current) this.setRate(next, host);
    }
  }

  /** Changes the global cap, or one host's cap, live. */
  setConcurrency(n: number, host?: string): void {
    if (host === undefined) this.#o.concurrency = n;
    else this.#queue.lane(host).state.cap = n;
    this.pump();
  }

  /** Stops for good: returns every item queued or waiting for a retry; in-flight ones end by themselves. */
  stop(): T[] {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    const out = this.#queue.drainAll();
    for (const [item, cancel] of this.#retries) {
      cancel();
      this.#queue.lane(item.host).state.retrying--;
      out.push(item);
    }
    this.#retries.clear();
    return out;
  }

  /** Busiest hosts first, for STATS. */
  hosts(limit: number): HostSnapshot[] {
    const all: HostSnapshot[] = [];
    for (const lane of this.#queue.lanes()) {
      const s = lane.state;
      if (s.inFlight + lane.items.length + s.retrying > 0) {
        all.push({ host: lane.host, in_flight: s.inFlight, queued: lane.items.length, retrying: s.retrying });
      }
    }
    all.sort((a, b) => b.in_flight + b.queued - (a.in_flight + a.queued));
    return all.slice(0, limit);
  }

  /**
   * Starts whatever the limits allow now. Cheap to call often. Re-entrant calls (an attempt that
   * ends synchronously inside `start`) only ask the running loop for another pass.
   */
  pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        this.#pumpOnce();
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    if (this.#stopped || this.#paused) return;
    const now = this.#clock.now();
    let wakeAt = Infinity;
    const cap = Math.min(this.#o.concurrency, this.#ramp);
    while (this.#inFlight < cap && this.#queue.size > 0 && this.canStart()) {
      const globalDelay = this.#globalBucket.delayMs(now);
      if (globalDelay > 0) {
        this.#globalBucket.expectTake();
        wakeAt = now + globalDelay;
        break;
      }
      let started: T | undefined;
      const found = this.#queue.visit((lane) => {
        const ready = this.#readyAt(lane, now);
        if (ready > now) {
          if (ready < wakeAt) wakeAt = ready;
          return false;
        }
        started = this.#take(lane, now);
        return true;
      });
      if (!found) break; // every lane with items is blocked; wakeAt says until when (or a release will pump)
      this.#start(started!, this.#intended);
    }
    this.#armTimer(wakeAt);
  }

  /** When the lane can start its head item: now or earlier if ready, Infinity if only a release can help. */
  #readyAt(lane: Lane<T, HostState>, now: number): number {
    const s = lane.state;
    if (s.inFlight >= (s.cap ?? this.#o.perHost)) return Infinity;
    if (s.pausedUntil > now) return s.pausedUntil;
    const bucket = this.#bucketOf(s, now);
    const delay = bucket ? bucket.delayMs(now) : 0;
    if (delay > 0) bucket!.expectTake();
    return now + delay;
  }

  #take(lane: Lane<T, HostState>, now: number): T {
    const s = lane.state;
    const item = this.#queue.take(lane)!;
    // The schedule: max(when the item was due, the next slot of each rate that applies).
    // The schedule, for latency corrected for coordinated omission. Without a rate there is none
    // (NaN: the intended start is the actual one).
    const globalRate = this.#globalBucket.ratePerSec;
    if (s.bucket === null && !Number.isFinite(globalRate)) this.#intended = NaN;
    else {
      let intended = item.dueMs ?? now;
      if (s.bucket) intended = Math.max(intended, s.next);
      if (Number.isFinite(globalRate)) intended = Math.max(intended, this.#globalNext);
      // Later than the catch-up window, the buckets restart their schedule, and so does this one:
      // this start counts as late, the ones after it do not inherit its delay.
      const base = now - intended > CATCH_UP_MS ? now : intended;
      if (s.bucket) s.next = base + 1000 / s.bucket.ratePerSec;
      if (Number.isFinite(globalRate)) this.#globalNext = base + 1000 / globalRate;
      this.#intended = Math.min(intended, now); // a burst may start ahead of the schedule: never "early"
    }

    this.#globalBucket.take(now);
    s.bucket?.take(now);
    // Work still waits: the next tokens are awaited, so a late wake-up keeps the schedule.
    if (this.#queue.size > 0) this.#globalBucket.expectTake();
    if (lane.items.length > 0) s.bucket?.expectTake();
    if (this.#o.adaptive) {
      s.gapEwmaMs = nextGapEwma(s.gapEwmaMs, now - s.lastStartMs);
      s.lastStartMs = now;
    }
    s.inFlight++;
    this.#inFlight++;
    return item;
  }

  #bucketOf(s: HostState, now: number): TokenBucket | null {
    if (!s.bucket) {
      const rate = s.ratePerSec ?? this.#o.perHostRatePerSec;
      if (Number.isFinite(rate)) s.bucket = new TokenBucket(rate, this.#o.burst, now, CATCH_UP_MS);
    }
    return s.bucket;
  }

  #armTimer(at: number): void {
    if (at === Infinity || at >= this.#timerAt) return;
    this.#cancelTimer?.();
    this.#timerAt = at;
    this.#cancelTimer = this.#clock.setTimer(() => {
      this.#timerAt = Infinity;
      this.#cancelTimer = null;
      this.pump();
    }, at - this.#clock.now());
  }

  /** Drops an idle lane whose state no longer matters, so memory does not grow with the number of hosts. */
  #maybeForget(lane: Lane<T, HostState>): void {
    const s = lane.state;
    if (s.inFlight > 0 || s.retrying > 0 || lane.items.length > 0 || lane.active) return;
    if (s.cap !== undefined || s.ratePerSec !== undefined) return;
    const now = this.#clock.now();
    if (s.pausedUntil > now || (s.bucket && s.bucket.delayMs(now) > 0)) return;
    this.#queue.forget(lane.host);
  }
}
