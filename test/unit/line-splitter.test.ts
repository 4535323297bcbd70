import { describe, expect, it } from 'vitest';
import { LineSplitter, MIN_LINE_BYTES } from '../../src/control/line-splitter.js';

/** Feeds chunks, pulling after each; frames as 'text' or '!too-long'. */
function split(maxLineBytes: number, chunks: (string | Buffer)[]): string[] {
  const splitter = new LineSplitter(maxLineBytes);
  const out: string[] = [];
  for (const chunk of chunks) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    for (let f = splitter.next(); f; f = splitter.next()) out.push(f.kind === 'line' ? f.line.toString('latin1') : '!too-long');
  }
  return out;
}

const x = (n: number): string => 'x'.repeat(n);

describe('LineSplitter', () => {
  it.each<[string, number, (string | Buffer)[], string[]]>([
    ['one line', 64, ['PING\n'], ['PING']],
    ['crlf', 64, ['PING\r\n'], ['PING']],
    ['several in one chunk', 64, ['A\nB\r\nC\n'], ['A', 'B', 'C']],
    ['empty lines', 64, ['\n\r\n'], ['', '']],
    ['split across chunks', 64, ['PI', 'N', 'G\nHE', 'LP\n'], ['PING', 'HELP']],
    ['crlf split between chunks', 64, ['PING\r', '\n'], ['PING']],
    ['no terminator yet', 64, ['PING'], []],
    ['lone cr is not a terminator', 64, ['A\rB\n'], ['A\rB']],
    ['empty chunks', 64, ['', 'A', '', '\n'], ['A']],
    // The limit counts the terminator: 32 bytes with \n is fine, 33 is not.
    ['exactly the limit', 32, [`${x(31)}\n`], [x(31)]],
    ['one over the limit', 32, [`${x(32)}\nPING\n`], ['!too-long', 'PING']],
    ['crlf counts both bytes', 32, [`${x(30)}\r\n${x(31)}\r\nOK\n`], [x(30), '!too-long', 'OK']],
    ['reported once, rest discarded', 32, [x(40), x(40), x(40), '\nPING\n'], ['!too-long', 'PING']],
    ['reported as soon as the limit is reached', 32, [x(32)], ['!too-long']],
    ['oversized built from small chunks', 32, [...Array.from({ length: 20 }, () => 'abc'), '\nPING\n'], ['!too-long', 'PING']],
    ['back to back oversized lines', 32, [`${x(50)}\n${x(50)}\nA\n`], ['!too-long', '!too-long', 'A']],
    ['limit below the minimum is raised', 1, [`${x(31)}\n`], [x(31)]],
    ['binary garbage', 64, [Buffer.from([0, 0xff, 0xfe, 0x0a, 0x80, 0x0d, 0x0a])], ['\u0000\u00ff\u00fe', '\u0080']],
  ])('%s', (_name, max, chunks, expected) => {
    expect(split(max, chunks)).toEqual(expected);
  });

  it('never holds more than the limit of a line however much arrives without a newline', () => {
    const splitter = new LineSplitter(64);
    for (let i = 0; i < 1000; i++) {
      splitter.push(Buffer.alloc(1024, 0x41));
      const frames = [];
      for (let f = splitter.next(); f; f = splitter.next()) frames.push(f);
      expect(frames).toEqual(i === 0 ? [{ kind: 'too-long' }] : []);
      expect(splitter.pending).toBe(false);
    }
    splitter.push(Buffer.from('\nPING\n'));
    expect(splitter.next()).toEqual({ kind: 'line', line: Buffer.from('PING') });
  });

  it('lets the caller stop between lines and continue later', () => {
    const splitter = new LineSplitter(64);
    splitter.push(Buffer.from('A\nB\nC'));
    expect(splitter.next()).toEqual({ kind: 'line', line: Buffer.from('A') });
    expect(splitter.pending).toBe(true);
    splitter.push(Buffer.from('\n'));
    expect([splitter.next(), splitter.next(), splitter.next()]).toEqual([
      { kind: 'line', line: Buffer.from('B') },
      { kind: 'line', line: Buffer.from('C') },
      undefined,
    ]);
  });

  it('exports the minimum', () => {
    expect(new LineSplitter(0).maxLineBytes).toBe(MIN_LINE_BYTES);
    expect(new LineSplitter(4096).maxLineBytes).toBe(4096);
  });
});
