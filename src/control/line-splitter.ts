/**
 * Bounded line framing for the control port: bytes in (any chunking), lines out, pulled one at a
 * time so the server can stop between lines when its socket is backed up.
 *
 * Invariants:
 * - A line is at most `maxLineBytes` bytes counting its terminator (`\n`, or `\r\n`: the `\r` is
 *   a byte of the line). A longer one yields exactly one `too-long` frame, as soon as the limit is
 *   crossed, and the rest of it (up to and including its `\n`) is discarded.
 * - Memory held is at most `maxLineBytes` for the partial line plus the pushed, not yet pulled
 *   chunks; the caller bounds the latter by not reading while frames are pending.
 * - Bytes are not decoded: binary garbage is just a line like any other.
 */

/** The smallest line limit; a smaller setting is raised to it so every command still fits. */
export const MIN_LINE_BYTES = 32;

/** One framed line (terminator removed) or the report of one oversized line. */
export type Frame = { kind: 'line'; line: Buffer } | { kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  readonly maxLineBytes: number;
  #chunks: Buffer[] = []; // pushed, not yet scanned; the first from #offset
  #offset = 0;
  #partial: Buffer[] = []; // copies, so a big chunk is never kept alive by a short line
  #partialBytes = 0;
  #discarding = false; // inside an oversized line, until its `\n`

  constructor(maxLineBytes: number) {
    this.maxLineBytes = Math.max(MIN_LINE_BYTES, Math.floor(maxLineBytes) || 0);
  }

  /** Queues bytes; pull the frames they complete with `next()`. */
  push(chunk: Buffer): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  /** Whether pushed bytes remain unscanned (frames may still come out of them). */
  get pending(): boolean {
    return this.#chunks.length > 0;
  }

  /** The next complete frame, or undefined once the pushed bytes hold no more. */
  next(): Frame | undefined {
    for (;;) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) return undefined;
      const lf = chunk.indexOf(LF, this.#offset);
      const end = lf === -1 ? chunk.length : lf + 1;
      const piece = chunk.subarray(this.#offset, end);
      this.#advance(chunk, end);

      if (this.#discarding) {
        if (lf !== -1) this.#discarding = false;
        continue;
      }
      const bytes = this.#partialBytes + piece.length;
      // Without its `\n` yet, a line already at the limit can only end up over it.
      if (lf === -1 ? bytes >= this.maxLineBytes : bytes > this.maxLineBytes) {
        this.#resetPartial();
        this.#discarding = lf === -1;
        return { kind: 'too-long' };
      }
      if (lf === -1) {
        this.#partial.push(Buffer.from(piece));
        this.#partialBytes = bytes;
        continue;
      }
      const whole = this.#partial.length === 0 ? piece : Buffer.concat([...this.#partial, piece]);
      this.#resetPartial();
      const cut = whole.length >= 2 && whole[whole.length - 2] === CR ? 2 : 1;
      return { kind: 'line', line: whole.subarray(0, whole.length - cut) };
    }
  }

  #advance(chunk: Buffer, end: number): void {
    if (end < chunk.length) {
      this.#offset = end;
    } else {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }

  #resetPartial(): void {
    this.#partial = [];
    this.#partialBytes = 0;
  }
}
