/**
 * The journal: crash-safe progress for `--journal` and `--resume`.
 *
 * Format: an append-only file of result lines, exactly the NDJSON of `resultLine(result)`, one per
 * completed result, each ending in '\n'. `line` (the 1-based input position) is the key, so
 * duplicate URLs in the input are distinct entries. A line is completed when the journal holds a
 * record for it whose `error` is not "cancelled" (a cancelled URL was never done). Records are
 * appended in batches with synchronous writes, so a SIGKILL loses at most the batch not yet
 * written and at worst leaves one torn last line (no '\n'): the loader ignores it and any line
 * that is not a valid record, and a writer reopening the file cuts the torn tail off before it
 * appends, so a resumed run can keep appending to the journal it resumed from.
 */
import { closeSync, createReadStream, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { Result, ResultSink } from './result.js';
import { resultLine } from './result.js';

/** A batch is written at once when it reaches this size, else at the end of the event-loop turn. */
const FLUSH_BYTES = 64 * 1024;
/** Longer journal lines are not records (a result line is at most ~400 KiB); skipped unbuffered. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Line numbers above this are not records: keeps a corrupt entry from allocating a huge bitset. */
export const MAX_LINE_NUMBER = 2 ** 30;

/** A set of positive line numbers as a growable bitset: 1 bit per line up to the highest one. */
export class LineSet {
  #words = new Uint32Array(1024);
  #size = 0;

  /** Number of distinct lines in the set. */
  get size(): number {
    return this.#size;
  }

  has(line: number): boolean {
    const w = line >>> 5;
    return w < this.#words.length && (this.#words[w]! & (1 << (line & 31))) !== 0;
  }

  /** Adds `line` (an integer in 1..MAX_LINE_NUMBER); returns false if it was already there. */
  add(line: number): boolean {
    const w = line >>> 5;
    if (w >= this.#words.length) {
      let n = this.#words.length * 2;
      while (n <= w) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.#words);
      this.#words = grown;
    }
    const bit = 1 << (line & 31);
    if ((this.#words[w]! & bit) !== 0) return false;
    this.#words[w]! |= bit;
    this.#size++;
    return true;
  }
}

/** What a journal says about a previous run. */
export interface JournalState {
  /** Input lines completed (any final result but "cancelled"). */
  done: LineSet;
  /** Valid records read, cancelled and repeated ones included. */
  records: number;
  /** Records with error "cancelled": not completed. */
  cancelled: number;
  /** Completed records for a line already completed (not expected; ignored). */
  duplicates: number;
  /** Terminated lines that are not valid records (blank, bad JSON, bad `line`, over-long). */
  invalid: number;
  /** The file ended with an unterminated line, which was ignored. */
  torn: boolean;
}

/** Reads a journal streaming (bounded memory per line). Rejects if the file cannot be read. */
export async function loadJournal(path: string): Promise<JournalState> {
  const state: JournalState = { done: new LineSet(), records: 0, cancelled: 0, duplicates: 0, invalid: 0, torn: false };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; start = nl + 1, nl = chunk.indexOf(10, start)) {
      if (overlong || pendingBytes + (nl - start) > MAX_RECORD_BYTES) state.invalid++;
      else if (pendingBytes === 0) addRecord(state, chunk.toString('utf8', start, nl));
      else addRecord(state, Buffer.concat([...pending, chunk.subarray(start, nl)]).toString('utf8'));
      pending = [];
      pendingBytes = 0;
      overlong = false;
    }
    if (start < chunk.length && !overlong) {
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_RECORD_BYTES) {
        overlong = true;
        pending = [];
      } else pending.push(chunk.subarray(start));
    }
  }
  state.torn = pendingBytes > 0;
  return state;
}

function addRecord(state: JournalState, text: string): void {
  let rec: unknown;
  try {
    rec = JSON.parse(text);
  } catch {
    state.invalid++;
    return;
  }
  const { line, error } = (rec ?? {}) as { line?: unknown; error?: unknown };
  const validLine = typeof line === 'number' && Number.isInteger(line) && line >= 1 && line <= MAX_LINE_NUMBER;
  if (typeof rec !== 'object' || !validLine || (error !== null && typeof error !== 'string')) {
    state.invalid++;
    return;
  }
  state.records++;
  if (error === 'cancelled') state.cancelled++;
  else if (!state.done.add(line)) state.duplicates++;
}

/**
 * Appends every result to the journal. Lines are batched and written with `writeSync` once per
 * event-loop turn (or per FLUSH_BYTES), so what was written survives the process being killed;
 * `close()` also fsyncs, for power loss. A write error is reported once through `onError` (never
 * thrown from `write`), after which results are dropped.
 */
export class JournalWriter implements ResultSink {
  #fd: number | null;
  #buf = '';
  #scheduled = false;
  #failed = false;
  readonly #onError: (err: NodeJS.ErrnoException) => void;

  /** Opens (or creates) `path` for appending, cutting off a torn last line. Throws if it cannot. */
  constructor(path: string, hooks: { onError: (err: NodeJS.ErrnoException) => void }) {
    this.#onError = hooks.onError;
    const fd = openSync(path, 'a+');
    try {
      cutTornTail(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.#fd = fd;
  }

  write(result: Result): void {
    if (this.#failed || this.#fd === null) return;
    this.#buf += resultLine(result);
    if (this.#buf.length >= FLUSH_BYTES) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the pending batch now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#buf === '' || this.#failed || this.#fd === null) return;
    const data = Buffer.from(this.#buf);
    this.#buf = '';
    try {
      for (let off = 0; off < data.length; ) off += writeSync(this.#fd, data, off);
    } catch (err) {
      this.#fail(err as NodeJS.ErrnoException);
    }
  }

  /** Flushes, fsyncs (when the file supports it) and closes. Idempotent. */
  close(): void {
    this.flush();
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      if (!this.#failed) fsyncSync(fd);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOTSUP') this.#fail(err as NodeJS.ErrnoException); // a device or pipe cannot fsync
    }
    closeSync(fd);
  }

  #fail(err: NodeJS.ErrnoException): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#buf = '';
    this.#onError(err);
  }
}

/**
 * Truncates a regular file after its last '\n': the torn line a kill may leave would otherwise
 * swallow the first appended record. A tail longer than MAX_RECORD_BYTES is not a torn record,
 * so the file is not a journal: that throws rather than cutting anyone's data.
 */
function cutTornTail(fd: number): void {
  const st = fstatSync(fd);
  if (!st.isFile() || st.size === 0) return;
  const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
  let end = st.size;
  while (end > 0 && st.size - end <= MAX_RECORD_BYTES) {
    const len = Math.min(buf.length, end);
    readSync(fd, buf, 0, len, end - len);
    const nl = buf.lastIndexOf(10, len - 1);
    if (nl !== -1) {
      const keep = end - len + nl + 1;
      if (keep < st.size) ftruncateSync(fd, keep);
      return;
    }
    end -= len;
  }
  if (end === 0) ftruncateSync(fd, 0); // the whole file is one torn record
  else throw Object.assign(new Error('not a ratelimmq journal (no line end near the end of the file)'), { code: 'EJOURNAL' });
}
