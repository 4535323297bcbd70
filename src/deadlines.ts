/**
 * Per-attempt timeouts without a timer per attempt. Every attempt of a run has the same timeout,
 * so deadlines arrive in the order attempts start: a FIFO (doubly linked, O(1) add and remove)
 * and one timer for its head replace a setTimeout/clearTimeout pair per request.
 */
import type { Clock } from './clock.js';

/** An entry; `expire` runs when its deadline passes before `remove`. */
export interface Deadline {
  at: number;
  expire: () => void;
  prev: Deadline | null;
  next: Deadline | null;
  /** Still in the list. */
  live: boolean;
}

export class Deadlines {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #head: Deadline | null = null;
  #tail: Deadline | null = null;
  #cancelTimer: (() => void) | null = null;
  #timerAt = Infinity;

  constructor(timeoutMs: number, clock: Clock) {
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
  }

  /** Calls `expire` once, `timeoutMs` from now, unless removed first. */
  add(expire: () => void): Deadline {
    const d: Deadline = { at: this.#clock.now() + this.#timeoutMs, expire, prev: this.#tail, next: null, live: true };
    if (this.#tail) this.#tail.next = d;
    else this.#head = d;
    this.#tail = d;
    if (this.#timerAt === Infinity) this.#arm(d.at);
    return d;
  }

  remove(d: Deadline): void {
    if (!d.live) return;
    d.live = false;
    if (d.prev) d.prev.next = d.next;
    else this.#head = d.next;
    if (d.next) d.next.prev = d.prev;
    else this.#tail = d.prev;
    d.prev = d.next = null;
    // The timer stays armed for the old head; it re-arms for the new one when it fires.
  }

  #arm(at: number): void {
    this.#timerAt = at;
    this.#cancelTimer = this.#clock.setTimer(() => this.#fire(), at - this.#clock.now());
  }

  #fire(): void {
    this.#timerAt = Infinity;
    this.#cancelTimer = null;
    const now = this.#clock.now();
    while (this.#head && this.#head.at <= now) {
      const d = this.#head;
      this.remove(d);
      d.expire();
    }
    if (this.#head) this.#arm(this.#head.at);
  }

  /** Stops the timer (the run is over). */
  close(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#timerAt = Infinity;
  }
}
