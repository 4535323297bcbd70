import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, resultLine, roundMs, type Result } from '../../src/result.js';

const FIELDS = ['line', 'url', 'host', 'status', 'ok', 'bytes', 'attempts', 'ms', 'wait_ms', 'error'];

function result(over: Partial<Result> = {}): Result {
  return { line: 1, url: 'http://a.test/', host: 'a.test', status: 200, ok: true, bytes: 12, attempts: 1, ms: 3.14159, wait_ms: 0.04, error: null, ...over };
}

describe('resultLine', () => {
  it.each<[string, Partial<Result>]>([
    ['ok', {}],
    ['http error', { status: 503, ok: false, attempts: 4 }],
    ['transport error', { status: null, ok: false, bytes: 0, error: 'timeout' }],
    ['invalid url', { host: '', status: null, ok: false, bytes: 0, attempts: 0, ms: 0, wait_ms: 0, error: 'invalid_url' }],
    ['quotes and backslashes in the url', { url: 'http://a.test/"x"\\y?q="1"' }],
    ['control chars in the url', { url: 'http://a.test/\n\r\t\u0000\u001f' }],
    ['unicode in the url', { url: 'http://bücher.test/日本/😀' }],
    ['line separators in the url', { url: 'http://a.test/\u2028\u2029' }],
    ['lone surrogate in the url (a cut over-long prefix)', { url: 'http://a.test/\ud83d' }],
    ['a url that looks like JSON', { url: '","ok":true,"x":"' }],
    ['large numbers', { line: 123_456_789, bytes: 2 ** 40, ms: 86_400_000.04 }],
  ])('%s: one valid JSON line with exactly the public fields, round-tripping', (_name, over) => {
    const r = result(over);
    const line = resultLine(r);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(FIELDS);
    expect(parsed).toEqual({ ...r, ms: roundMs(r.ms), wait_ms: roundMs(r.wait_ms) });
  });

  it.each(ERROR_CODES)('error code %s is written as a string', (code) => {
    expect(JSON.parse(resultLine(result({ ok: false, error: code }))).error).toBe(code);
  });

  it('writes null for no status and no error', () => {
    const line = resultLine(result({ status: null, error: null }));
    expect(line).toContain('"status":null');
    expect(line).toContain('"error":null');
  });

  it('escapes a quote in the url (the raw text cannot close the string)', () => {
    expect(resultLine(result({ url: 'http://a.test/"' }))).toContain('"url":"http://a.test/\\""');
  });
});

describe('resultLine on any text (property)', () => {
  it('url and host round-trip through JSON.parse, whatever their characters', () => {
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', 'a', '/', '😀'), maxLength: 20 }));
    fc.assert(
      fc.property(text, text, (url, host) => {
        const parsed = JSON.parse(resultLine(result({ url, host }))) as Result;
        expect(parsed.url).toBe(url);
        expect(parsed.host).toBe(host);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('roundMs', () => {
  it.each<[number, number]>([
    [0, 0],
    [3.14159, 3.1],
    [3.15, 3.2],
    [0.04, 0],
    [0.05, 0.1],
    [1234.5678, 1234.6],
    [10, 10],
  ])('%s -> %s', (ms, expected) => {
    expect(roundMs(ms)).toBe(expected);
  });
});
