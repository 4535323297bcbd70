/**
 * Where work comes from: URL lines read lazily from a stream (a file or stdin), with bounded memory
 * whatever the input holds (a 100 MB line without a newline costs at most MAX_LINE_BYTES).
 */

/** Lines longer than this are `invalid_url` without being kept in memory. */
export const MAX_LINE_BYTES = 64 * 1024;
/** How much of an over-long line is kept for the result's `url` field. */
const OVERLONG_PREFIX_CHARS = 256;

/** One input line that holds a URL candidate (blank and comment lines are never produced). */
export interface SourceLine {
  /** 1-based physical line number in the input. */
  line: number;
  /** Trimmed text; for an over-long line, a prefix of it. */
  text: string;
  /** The line was over MAX_LINE_BYTES. */
  overlong: boolean;
}

/**
 * Splits a byte stream into URL lines: trims whitespace (so CRLF works), strips a UTF-8 BOM,
 * skips blank lines and lines starting with `#`. Yields one array per chunk to keep the per-line
 * cost to a slice, not a promise.
 */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<SourceLine[]> {
  let lineNo = 0;
  let pending: Buffer[] = []; // parts of the current line not yet terminated
  let pendingBytes = 0;
  let overlong = false;
  let prefix = ''; // of an over-long line: its first non-blank text, which says comment or not
  let first = true;

  const keepPrefix = (part: Buffer): void => {
    if (prefix === '') prefix = part.toString('utf8', 0, Math.min(part.length, MAX_LINE_BYTES)).trimStart().slice(0, OVERLONG_PREFIX_CHARS);
  };

  const emit = (out: SourceLine[], text: string, isOverlong: boolean): void => {
    lineNo++;
    if (first) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const t = text.trim();
    if (t === '' || t.charCodeAt(0) === 0x23 /* # */) return; // blank or comment, however long
    out.push(isOverlong ? { line: lineNo, text: t.slice(0, OVERLONG_PREFIX_CHARS), overlong: true } : { line: lineNo, text: t, overlong: false });
  };

  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    const out: SourceLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (nl === -1) {
        // No line end in the rest of the chunk: keep it, unless the line is already too long.
        if (overlong) keepPrefix(chunk.subarray(start, end));
        else if (end > start) {
          pending.push(chunk.subarray(start, end));
          pendingBytes += end - start;
          if (pendingBytes > MAX_LINE_BYTES) {
            overlong = true;
            keepPrefix(Buffer.concat(pending));
            pending = [];
            pendingBytes = 0;
          }
        }
        break;
      }
      if (overlong) {
        keepPrefix(chunk.subarray(start, end));
        emit(out, prefix, true);
      } else if (pendingBytes > 0) {
        pending.push(chunk.subarray(start, end));
        const total = pendingBytes + end - start;
        const text = Buffer.concat(pending, total).toString('utf8');
        emit(out, text, total > MAX_LINE_BYTES);
      } else {
        emit(out, chunk.toString('utf8', start, end), end - start > MAX_LINE_BYTES);
      }
      pending = [];
      pendingBytes = 0;
      overlong = false;
      prefix = '';
      start = nl + 1;
    }
    if (out.length > 0) yield out;
  }
  // The last line may lack its newline.
  if (overlong || pendingBytes > 0) {
    const out: SourceLine[] = [];
    emit(out, overlong ? prefix : Buffer.concat(pending).toString('utf8'), overlong);
    if (out.length > 0) yield out;
  }
}
