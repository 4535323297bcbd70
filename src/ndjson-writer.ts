/**
 * The NDJSON result sink: lines are batched into one write per 20 ms (or per 64 KiB), and the
 * writer reports backpressure so the scheduler stops starting work while the output is behind.
 */
import type { Result, ResultSink } from './result.js';
import { resultLine } from './result.js';

const FLUSH_BYTES = 64 * 1024;
/** Results wait at most this long for their batch: few large writes, still prompt in a pipeline. */
const FLUSH_MS = 20;

export class NdjsonWriter implements ResultSink {
  #out: NodeJS.WritableStream;
  #buf = '';
  #timer: NodeJS.Timeout | null = null;
  #blocked = false;
  #failed: NodeJS.ErrnoException | null = null;
  #onDrain: () => void;

  /**
   * `onDrain` is called when a blocked output can take more; `onError` once if the output fails
   * (EPIPE: the reader went away).
   */
  constructor(out: NodeJS.WritableStream, hooks: { onDrain: () => void; onError: (err: NodeJS.ErrnoException) => void }) {
    this.#out = out;
    this.#onDrain = hooks.onDrain;
    out.on('drain', () => {
      this.#blocked = false;
      this.#onDrain();
    });
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#failed) return;
      this.#failed = err;
      this.#buf = '';
      hooks.onError(err);
    });
  }

  /** The output is behind: starting more work would only grow memory. */
  get blocked(): boolean {
    return this.#blocked;
  }

  write(result: Result): void {
    if (this.#failed) return;
    this.#buf += resultLine(result);
    if (this.#buf.length >= FLUSH_BYTES) this.flush();
    else if (this.#timer === null) this.#timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#buf === '' || this.#failed) return;
    const chunk = this.#buf;
    this.#buf = '';
    if (!this.#out.write(chunk)) this.#blocked = true;
  }

  /** Flushes and waits until the stream has taken everything (and, when `end`, closes it). */
  async close(end: boolean): Promise<void> {
    this.flush();
    if (this.#failed) return;
    const out = this.#out;
    await new Promise<void>((resolve) => {
      if (end) {
        out.end(() => resolve());
        out.once('error', () => resolve());
      } else if (this.#blocked) {
        out.once('drain', () => resolve());
        out.once('error', () => resolve());
      } else resolve();
    });
  }
}
