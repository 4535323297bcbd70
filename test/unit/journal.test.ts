import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalWriter, LineSet, loadJournal, MAX_RECORD_BYTES } from '../../src/journal.js';
import { resultLine, type ErrorCode, type Result } from '../../src/result.js';

function result(line: number, error: ErrorCode | null = null): Result {
  return { line, url: `http://127.0.0.1/${line}`, host: '127.0.0.1', status: error ? null : 200, ok: !error, bytes: 2, attempts: 1, ms: 1.25, wait_ms: 0, error };
}

async function tempFile(content = ''): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'ratelimmq-journal-')), 'journal.ndjson');
  await writeFile(path, content);
  return path;
}

const doneLines = (s: { done: LineSet }, upTo: number): number[] => Array.from({ length: upTo }, (_, i) => i + 1).filter((l) => s.done.has(l));

describe('LineSet', () => {
  it('grows to hold any line number and keeps what it held', () => {
    const set = new LineSet();
    const lines = [1, 31, 32, 33, 1023, 32_768, 1_000_000, 5_000_001];
    for (const l of lines) expect(set.add(l)).toBe(true);
    expect(set.size).toBe(lines.length);
    for (const l of lines) expect(set.has(l)).toBe(true);
    for (const l of [2, 30, 34, 999_999, 1_000_001, 5_000_000, 5_000_002, 100_000_000]) expect(set.has(l)).toBe(false);
  });

  it('counts a line once', () => {
    const set = new LineSet();
    expect(set.add(7)).toBe(true);
    expect(set.add(7)).toBe(false);
    expect(set.size).toBe(1);
  });
});

describe('loadJournal', () => {
  it('reads result lines and marks their input lines completed', async () => {
    const path = await tempFile([1, 2, 5].map((l) => resultLine(result(l))).join(''));
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 2, 5]);
    expect(s).toMatchObject({ records: 3, cancelled: 0, duplicates: 0, invalid: 0, torn: false });
    expect(s.done.size).toBe(3);
  });

  it('counts every final result as completed except cancelled', async () => {
    const errors: Array<ErrorCode | null> = [null, 'timeout', 'invalid_url', 'connect_refused', 'cancelled'];
    const path = await tempFile(errors.map((e, i) => resultLine(result(i + 1, e))).join(''));
    const s = await loadJournal(path);
    expect(doneLines(s, 5)).toEqual([1, 2, 3, 4]);
    expect(s.cancelled).toBe(1);
  });

  it('a line cancelled in one run and completed in the next is completed', async () => {
    const path = await tempFile(resultLine(result(3, 'cancelled')) + resultLine(result(3)));
    const s = await loadJournal(path);
    expect(s.done.has(3)).toBe(true);
    expect(s).toMatchObject({ records: 2, cancelled: 1, duplicates: 0 });
  });

  it('keys by line number: duplicate URLs on two lines are two entries, one line twice is one', async () => {
    const same = { ...result(1), url: 'http://127.0.0.1/same' };
    const path = await tempFile(resultLine(same) + resultLine({ ...same, line: 2 }) + resultLine(same));
    const s = await loadJournal(path);
    expect(doneLines(s, 3)).toEqual([1, 2]);
    expect(s).toMatchObject({ records: 3, duplicates: 1 });
  });

  it.each([
    ['no trailing newline', resultLine(result(9)).trimEnd()],
    ['cut mid-record', resultLine(result(9)).slice(0, 20)],
  ])('ignores a torn last line (%s)', async (_name, tail) => {
    const path = await tempFile(resultLine(result(1)) + resultLine(result(2)) + tail);
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 2]);
    expect(s).toMatchObject({ torn: true, invalid: 0, records: 2 });
  });

  it('skips invalid lines anywhere, and keeps the valid ones around them', async () => {
    const bad = ['', 'not json', '{"line":', '[1,2]', 'null', '42', '{"url":"x"}', '{"line":0,"error":null}', '{"line":-3,"error":null}', '{"line":1.5,"error":null}', '{"line":"4","error":null}', '{"line":4,"error":7}', `{"line":${2 ** 40},"error":null}`];
    const path = await tempFile(resultLine(result(1)) + bad.map((b) => b + '\n').join('') + resultLine(result(2)));
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 2]);
    expect(s).toMatchObject({ invalid: bad.length, records: 2, torn: false });
  });

  it('skips an over-long line without keeping it, even across read chunks', async () => {
    const huge = '{"line":3,"url":"' + 'x'.repeat(MAX_RECORD_BYTES + 100_000) + '","error":null}\n';
    const path = await tempFile(resultLine(result(1)) + huge + resultLine(result(2)));
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 2]);
    expect(s.invalid).toBe(1);
  });

  it('reads a record split across read chunks', async () => {
    const long = { ...result(7), url: 'http://127.0.0.1/' + 'y'.repeat(200_000) };
    const path = await tempFile(resultLine(result(1)) + resultLine(long));
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 7]);
  });

  it('rejects a missing file', async () => {
    await expect(loadJournal(join(tmpdir(), 'ratelimmq-no-such-journal', 'j'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('JournalWriter', () => {
  const noError = (err: unknown): never => {
    throw err;
  };

  it('writes resultLine per result, batched once per event-loop turn', async () => {
    const path = await tempFile();
    const w = new JournalWriter(path, { onError: noError });
    w.write(result(1));
    w.write(result(2, 'timeout'));
    expect(readFileSync(path, 'utf8')).toBe(''); // still in the batch (sync read: no turn passes)
    await new Promise((r) => setImmediate(r));
    expect(await readFile(path, 'utf8')).toBe(resultLine(result(1)) + resultLine(result(2, 'timeout')));
    w.write(result(3));
    w.close();
    expect((await readFile(path, 'utf8')).split('\n')).toHaveLength(4);
  });

  it('round-trips through loadJournal, appending to an existing journal', async () => {
    const path = await tempFile(resultLine(result(1)));
    const w = new JournalWriter(path, { onError: noError });
    for (const l of [2, 3, 4]) w.write(result(l, l === 3 ? 'cancelled' : null));
    w.close();
    const s = await loadJournal(path);
    expect(doneLines(s, 10)).toEqual([1, 2, 4]);
    expect(s.cancelled).toBe(1);
  });

  it('cuts a torn last line off before appending, so the first new record stays whole', async () => {
    const path = await tempFile(resultLine(result(1)) + resultLine(result(2)).slice(0, 25));
    const w = new JournalWriter(path, { onError: noError });
    w.write(result(3));
    w.close();
    expect(await readFile(path, 'utf8')).toBe(resultLine(result(1)) + resultLine(result(3)));
    const s = await loadJournal(path);
    expect(s).toMatchObject({ torn: false, invalid: 0 });
    expect(doneLines(s, 10)).toEqual([1, 3]);
  });

  it('a file that is one torn record is emptied', async () => {
    const path = await tempFile('{"line":1,"u');
    new JournalWriter(path, { onError: noError }).close();
    expect(await readFile(path, 'utf8')).toBe('');
  });

  it('refuses a file whose tail is far too long to be a torn record', async () => {
    const path = await tempFile('x'.repeat(MAX_RECORD_BYTES + 200_000));
    expect(() => new JournalWriter(path, { onError: noError })).toThrow(/not a ratelimmq journal/);
  });

  it('creates a missing file, and throws when the path cannot be opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ratelimmq-journal-'));
    new JournalWriter(join(dir, 'new.ndjson'), { onError: noError }).close();
    expect(await readFile(join(dir, 'new.ndjson'), 'utf8')).toBe('');
    expect(() => new JournalWriter(join(dir, 'missing', 'j'), { onError: noError })).toThrow(/ENOENT/);
  });

  it.skipIf(!existsSync('/dev/full'))('reports a write error (ENOSPC) once through onError, never from write', async () => {
    const errors: NodeJS.ErrnoException[] = [];
    const w = new JournalWriter('/dev/full', { onError: (err) => errors.push(err) });
    w.write(result(1));
    w.flush();
    for (let l = 2; l < 2000; l++) w.write(result(l)); // crosses the batch size: flushes inside write
    await new Promise((r) => setImmediate(r));
    w.close();
    expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
  });

  it('appends after lines another writer added since (O_APPEND)', async () => {
    const path = await tempFile();
    const w = new JournalWriter(path, { onError: noError });
    await appendFile(path, resultLine(result(1)));
    w.write(result(2));
    w.close();
    expect(await readFile(path, 'utf8')).toBe(resultLine(result(1)) + resultLine(result(2)));
  });
});
