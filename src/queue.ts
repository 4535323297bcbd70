/**
 * The bounded queue between the source and the scheduler: one FIFO lane per host, so the scheduler
 * can start work for any host that is ready (no head-of-line blocking), and one bound over all
 * lanes, so the reader waits while the queue is full ("await before you push").
 */

/** A FIFO with O(1) push, shift and (for retries) unshift. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Compact once the dead prefix dominates, so memory follows the live length.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}

/** A host's lane: its waiting items and whatever per-host state the scheduler keeps beside them. */
export interface Lane<T, S> {
  readonly host: string;
  readonly items: Fifo<T>;
  readonly state: S;
  /** In the round-robin ring of lanes with items. */
  active: boolean;
}

/**
 * Host lanes with a shared bound. `push` counts against the bound and waits while it is full;
 * `requeue` (a retry coming back) does not, since its item was admitted already.
 */
export class HostQueue<T, S> {
  readonly capacity: number;
  #lanes = new Map<string, Lane<T, S>>();
  #ring: Lane<T, S>[] = []; // lanes that may have items, in round-robin order
  #cursor = 0;
  #admitted = 0; // items pushed and not yet taken
  #waiters: (() => void)[] = [];
  #lowWater: number;
  #makeState: (host: string) => S;

  constructor(capacity: number, makeState: (host: string) => S) {
    this.capacity = capacity;
    this.#lowWater = capacity - Math.max(1, Math.floor(capacity / 4));
    this.#makeState = makeState;
  }

  /** Items waiting, all lanes together (requeued retries included). */
  get size(): number {
    return this.#admitted;
  }

  get laneCount(): number {
    return this.#lanes.size;
  }

  lane(host: string): Lane<T, S> {
    let lane = this.#lanes.get(host);
    if (!lane) {
      lane = { host, items: new Fifo<T>(), state: this.#makeState(host), active: false };
      this.#lanes.set(host, lane);
    }
    return lane;
  }

  peekLane(host: string): Lane<T, S> | undefined {
    return this.#lanes.get(host);
  }

  lanes(): IterableIterator<Lane<T, S>> {
    return this.#lanes.values();
  }

  /** Forgets an idle lane (no items); the caller decides that its state no longer matters. */
  forget(host: string): void {
    const lane = this.#lanes.get(host);
    if (lane && lane.items.length === 0 && !lane.active) this.#lanes.delete(host);
  }

  /** Resolves once there is room; undefined (no promise) when there is room now. */
  waitForRoom(): Promise<void> | undefined {
    if (this.#admitted < this.capacity) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Adds at the tail of its lane. Call after `waitForRoom`. */
  push(host: string, item: T): void {
    const lane = this.lane(host);
    lane.items.push(item);
    this.#admitted++;
    this.#activate(lane);
  }

  /** Puts an item back at the head of its lane (a retry: it should finish before newer work). */
  requeue(host: string, item: T): void {
    const lane = this.lane(host);
    lane.items.unshift(item);
    this.#admitted++;
    this.#activate(lane);
  }

  /** Takes the head item of a lane; frees room for the reader. */
  take(lane: Lane<T, S>): T | undefined {
    const item = lane.items.shift();
    if (item !== undefined) this.#taken(1);
    return item;
  }

  /**
   * Visits lanes with items in round-robin order, starting after the last lane served, until
   * `visit` returns true (it took an item) or every lane was seen once. Returns whether one did.
   */
  visit(visit: (lane: Lane<T, S>) => boolean): boolean {
    const ring = this.#ring;
    let seen = 0;
    while (seen < ring.length) {
      if (this.#cursor >= ring.length) this.#cursor = 0;
      const lane = ring[this.#cursor]!;
      if (lane.items.length === 0) {
        // Drop empty lanes lazily, keeping the ring's order so that no lane is offered twice in a pass.
        lane.active = false;
        ring.splice(this.#cursor, 1);
        continue;
      }
      seen++;
      this.#cursor++;
      if (visit(lane)) return true;
    }
    return false;
  }

  /** Removes every waiting item (a stop); returns them. Releases the reader too. */
  drainAll(): T[] {
    const out: T[] = [];
    for (const lane of this.#ring) {
      for (const item of lane.items.drain()) out.push(item);
      lane.active = false;
    }
    this.#ring = [];
    this.#taken(this.#admitted);
    return out;
  }

  #activate(lane: Lane<T, S>): void {
    if (!lane.active) {
      lane.active = true;
      this.#ring.push(lane);
    }
  }

  #taken(n: number): void {
    this.#admitted -= n;
    // Wake the reader only below a low-water mark, so it refills in batches: one await per
    // quarter of the queue instead of one per URL.
    if (this.#waiters.length > 0 && this.#admitted <= this.#lowWater) {
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }
}
