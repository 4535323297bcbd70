import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, readLines, type SourceLine } from '../../src/source.js';

/** Feeds the chunks as an async iterable (the shape of a file or stdin stream). */
async function* feed(chunks: Iterable<Buffer | string>): AsyncGenerator<Buffer | string> {
  for (const c of chunks) yield c;
}

async function collect(chunks: Iterable<Buffer | string>): Promise<SourceLine[]> {
  const out: SourceLine[] = [];
  for await (const batch of readLines(feed(chunks))) out.push(...batch);
  return out;
}

/** Compact form: [line, text] for ordinary lines, [line, text, 'overlong'] for over-long ones. */
type Row = [number, string] | [number, string, 'overlong'];
function rows(lines: SourceLine[]): Row[] {
  return lines.map((l) => (l.overlong ? [l.line, l.text, 'overlong'] : [l.line, l.text]));
}

/** Splits the UTF-8 bytes of `s` at the given byte offsets. */
function splitBytes(s: string, ...at: number[]): Buffer[] {
  const b = Buffer.from(s, 'utf8');
  const cuts = [0, ...at, b.length];
  return cuts.slice(1).map((end, i) => b.subarray(cuts[i]!, end));
}

/** Every byte in its own chunk: the worst case for boundary handling. */
function byteByByte(s: string): Buffer[] {
  return [...Buffer.from(s, 'utf8')].map((byte) => Buffer.from([byte]));
}

const x = (n: number): string => 'x'.repeat(n);

describe('readLines', () => {
  it.each<[string, (Buffer | string)[], Row[]]>([
    ['empty input', [], []],
    ['empty chunks only', ['', Buffer.alloc(0)], []],
    ['two lines', ['http://a.test/\nhttp://b.test/\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['string chunks work like buffers', ['http://a.test/\n', 'http://b.test/\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['boundary in the middle of a line', ['http://exa', 'mple.test/p\nhttp://b', '.test/\n'], [[1, 'http://example.test/p'], [2, 'http://b.test/']]],
    ['line spread over many chunks', ['ht', 'tp', ':/', '/a', '.t', 'est', '/\n'], [[1, 'http://a.test/']]],
    ['every byte its own chunk', byteByByte('http://a.test/\n\nhttp://b.test/\n'), [[1, 'http://a.test/'], [3, 'http://b.test/']]],
    ['boundary right after the newline', ['http://a.test/\n', 'http://b.test/'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['boundary right before the newline', ['http://a.test/', '\nhttp://b.test/\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    // 'é' is C3 A9: cut between its two bytes.
    ['boundary inside a 2-byte char', splitBytes('http://a.test/é\n', 'http://a.test/'.length + 1), [[1, 'http://a.test/é']]],
    // '😀' is F0 9F 98 80: one byte per chunk.
    ['4-byte char over four chunks', splitBytes('http://a.test/😀\n', 15, 16, 17), [[1, 'http://a.test/😀']]],
    ['multi-byte chars byte by byte', byteByByte('http://ü.test/日本\n'), [[1, 'http://ü.test/日本']]],
    ['CRLF', ['http://a.test/\r\nhttp://b.test/\r\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['CRLF split between chunks', ['http://a.test/\r', '\nhttp://b.test/\r\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['a lone CR is not a line end', ['http://a.test/\rhttp://b.test/\n'], [[1, 'http://a.test/\rhttp://b.test/']]],
    ['UTF-8 BOM stripped', ['\uFEFFhttp://a.test/\nhttp://b.test/\n'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['UTF-8 BOM split across chunks', [Buffer.from([0xef]), Buffer.from([0xbb, 0xbf]), 'http://a.test/\n'], [[1, 'http://a.test/']]],
    ['BOM before a comment', ['\uFEFF# urls\nhttp://a.test/\n'], [[2, 'http://a.test/']]],
    ['BOM on an otherwise empty first line', ['\uFEFF\nhttp://a.test/\n'], [[2, 'http://a.test/']]],
    [
      'blank lines and comments skipped but counted',
      ['\n# comment\n   \nhttp://a.test/\n\t\n  # indented comment\r\n\r\nhttp://b.test/\n'],
      [[4, 'http://a.test/'], [8, 'http://b.test/']],
    ],
    ['surrounding whitespace trimmed', ['  \thttp://a.test/ \t \n'], [[1, 'http://a.test/']]],
    ['a # inside a line is kept', ['http://a.test/#frag\n'], [[1, 'http://a.test/#frag']]],
    ['last line without newline', ['http://a.test/\nhttp://b.test/'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['last line without newline over two chunks', ['http://a.test/\nhttp://b', '.test/'], [[1, 'http://a.test/'], [2, 'http://b.test/']]],
    ['last line a comment without newline', ['http://a.test/\n# end'], [[1, 'http://a.test/']]],
    ['last line blank without newline', ['http://a.test/\n   '], [[1, 'http://a.test/']]],
    ['NUL bytes are kept in the line', [Buffer.from('http://a.test/\0x\n')], [[1, 'http://a.test/\0x']]],
    ['invalid UTF-8 gives replacement chars', [Buffer.from([0x68, 0xff, 0xfe, 0x69, 0x0a])], [[1, 'h\uFFFD\uFFFDi']]],
    ['a truncated multi-byte char at the end', [Buffer.from([0x61, 0xe6, 0x97])], [[1, 'a\uFFFD']]],
  ])('%s', async (_name, chunks, expected) => {
    expect(rows(await collect(chunks))).toEqual(expected);
  });

  it('yields one batch per chunk that completes lines, none for chunks that do not', async () => {
    const batches: number[][] = [];
    for await (const batch of readLines(feed(['a\nb\n', 'c', 'd\n', '# only a comment\n', 'e']))) batches.push(batch.map((l) => l.line));
    expect(batches).toEqual([[1, 2], [3], [5]]);
  });

  it('does not throw on arbitrary binary input, and every line number is unique and increasing', async () => {
    // A fixed pseudo-random byte soup with plenty of newlines, cut into uneven chunks.
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const bytes = Buffer.from(Array.from({ length: 20_000 }, () => (rnd() < 0.05 ? 10 : Math.floor(rnd() * 256))));
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 700);
      chunks.push(bytes.subarray(i, i + n));
      i += n;
    }
    const lines = await collect(chunks);
    const newlines = bytes.filter((b) => b === 10).length;
    expect(lines.length).toBeGreaterThan(0);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.line).toBeGreaterThan(lines[i - 1]!.line);
    expect(lines.at(-1)!.line).toBeLessThanOrEqual(newlines + 1);
    // Same result whatever the chunking.
    expect(rows(await collect([bytes]))).toEqual(rows(lines));
  });
});

describe('readLines: over-long lines', () => {
  it('a line of exactly MAX_LINE_BYTES is kept whole', async () => {
    const lines = await collect([`${x(MAX_LINE_BYTES)}\nhttp://b.test/\n`]);
    expect(lines.map((l) => [l.line, l.text.length, l.overlong])).toEqual([
      [1, MAX_LINE_BYTES, false],
      [2, 'http://b.test/'.length, false],
    ]);
  });

  it.each<[string, (Buffer | string)[]]>([
    ['in one chunk', [`http://a.test/${x(MAX_LINE_BYTES)}\nhttp://b.test/\n`]],
    ['newline in a later chunk', [`http://a.test/${x(MAX_LINE_BYTES)}`, '\nhttp://b.test/\n']],
    ['built from 1000-byte chunks', ['http://a.test/', ...Array.from({ length: 70 }, () => x(1000)), '\nhttp://b.test/\n']],
    ['just over the limit across two chunks', [`http://a.test/${x(MAX_LINE_BYTES - 20)}`, `${x(7)}\nhttp://b.test/\n`]],
  ])('marked overlong with a bounded prefix, and the next line is intact: %s', async (_name, chunks) => {
    const lines = await collect(chunks);
    expect(lines).toHaveLength(2);
    const [long, next] = lines as [SourceLine, SourceLine];
    expect(long.line).toBe(1);
    expect(long.overlong).toBe(true);
    expect(long.text.startsWith('http://a.test/xxx')).toBe(true);
    expect(long.text.length).toBeLessThanOrEqual(256);
    expect(next).toEqual({ line: 2, text: 'http://b.test/', overlong: false });
  });

  it('an over-long line of multi-byte chars keeps a bounded, valid prefix', async () => {
    const lines = await collect([`${'é'.repeat(MAX_LINE_BYTES)}\n`]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.overlong).toBe(true);
    expect(lines[0]!.text.length).toBeLessThanOrEqual(256);
    expect(lines[0]!.text).toMatch(/^é+$/);
  });

  it('back-to-back over-long lines are reported separately with their own numbers', async () => {
    const lines = await collect([`${x(MAX_LINE_BYTES + 1)}\n\n${x(MAX_LINE_BYTES + 1)}\nok\n`]);
    expect(lines.map((l) => [l.line, l.overlong])).toEqual([
      [1, true],
      [3, true],
      [4, false],
    ]);
  });

  it('a huge line over many chunks without any newline yields exactly one overlong line at the end', async () => {
    // 128 MiB in total, 1 MiB per chunk: reading must not keep it (the prefix stays tiny).
    const mib = Buffer.alloc(1024 * 1024, 0x61);
    const chunks = Array.from({ length: 128 }, () => mib);
    const lines = await collect(chunks);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.line).toBe(1);
    expect(lines[0]!.overlong).toBe(true);
    expect(lines[0]!.text).toBe('a'.repeat(256));
  });

  it('after a huge line without newline, the following lines are read normally', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const lines = await collect([...Array.from({ length: 10 }, () => chunk), 'aaa\n# c\nhttp://b.test/']);
    expect(rows(lines)).toEqual([
      [1, 'a'.repeat(256), 'overlong'],
      [3, 'http://b.test/'],
    ]);
  });

  // BUG (src/source.ts emit, line 41): an over-long line is pushed before the comment check, so a
  // `#` comment longer than 64 KiB is produced as a line (and becomes an invalid_url result), while
  // SourceLine's doc says "blank and comment lines are never produced". The prefix is kept, so the
  // `#` check could be applied to it.
  it('an over-long # comment line is still a comment (not produced)', async () => {
    const lines = await collect([`# ${x(MAX_LINE_BYTES + 10)}\nhttp://b.test/\n`]);
    expect(rows(lines)).toEqual([[2, 'http://b.test/']]);
  });
});
