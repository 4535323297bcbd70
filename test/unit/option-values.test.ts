import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/io.js';
import { parseBytes, parseDuration, parseHeader, parseInteger, parseMethod, parseRate, parseResolve } from '../../src/option-values.js';

/** Asserts a UsageError whose message quotes the received text. */
function expectUsageError(fn: () => unknown, received: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(UsageError);
  expect((caught as Error).message).toContain(JSON.stringify(received));
}

describe('parseRate', () => {
  it.each<[string, number]>([
    ['100', 100],
    ['100/s', 100],
    ['100/sec', 100],
    ['6000/m', 100],
    ['6000/min', 100],
    ['3600/h', 1],
    ['2.5', 2.5],
    ['2.5/s', 2.5],
    ['.5', 0.5],
    ['1/m', 1 / 60],
    ['30/M', 0.5],
    [' 10 / s ', 10],
  ])('%j -> %s per second', (text, expected) => {
    expect(parseRate(text)).toBeCloseTo(expected, 12);
  });

  it.each(['0', '0/s', '0.0', '-1', 'abc', '10/x', '10/', '/s', '', '1e3', '10/s/s', 'Infinity', '1,000'])('%j is a usage error', (text) => {
    expectUsageError(() => parseRate(text), text);
  });
});

describe('parseInteger', () => {
  it.each<[string, number, number]>([
    ['1', 1, 1],
    ['42', 1, 42],
    [' 7 ', 1, 7],
    ['0', 0, 0],
    ['9007199254740991', 1, Number.MAX_SAFE_INTEGER],
  ])('%j (min %s) -> %s', (text, min, expected) => {
    expect(parseInteger(text, 'count', min)).toBe(expected);
  });

  it.each<[string, number]>([
    ['0', 1],
    ['-1', 0],
    ['1.5', 1],
    ['abc', 1],
    ['', 1],
    ['1e3', 1],
    ['9007199254740993', 1],
    ['4', 5],
  ])('%j (min %s) is a usage error naming the option', (text, min) => {
    expectUsageError(() => parseInteger(text, '--concurrency', min), text);
    expect(() => parseInteger(text, '--concurrency', min)).toThrow(/--concurrency/);
  });
});

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['250', 250],
    ['250ms', 250],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0', 0],
    ['0.5s', 500],
    [' 3 S ', 3000],
    ['10MS', 10],
  ])('%j -> %s ms', (text, expected) => {
    expect(parseDuration(text, '--timeout')).toBe(expected);
  });

  it.each(['', 'abc', '-1', '-1s', '2d', '1e3', 's', '1 2s'])('%j is a usage error', (text) => {
    expectUsageError(() => parseDuration(text, '--timeout'), text);
  });

  it('enforces min', () => {
    expect(parseDuration('1s', '--timeout', 1000)).toBe(1000);
    expectUsageError(() => parseDuration('999', '--timeout', 1000), '999');
  });
});

describe('parseBytes', () => {
  it.each<[string, number]>([
    ['1', 1],
    ['1048576', 1_048_576],
    ['64KiB', 64 * 1024],
    ['64kb', 64 * 1024],
    ['64k', 64 * 1024],
    ['64MiB', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1GiB', 1024 ** 3],
    ['1.5k', 1536],
    ['10b', 10],
    [' 2 MiB ', 2 * 1024 ** 2],
  ])('%j -> %s bytes', (text, expected) => {
    expect(parseBytes(text, '--max-body')).toBe(expected);
  });

  it.each(['0', '0.5', '', 'abc', '10x', '-1', '1TiB', 'KiB', '1e3'])('%j is a usage error', (text) => {
    expectUsageError(() => parseBytes(text, '--max-body'), text);
  });
});

describe('parseHeader', () => {
  it.each<[string, [string, string]]>([
    ['Name: value', ['name', 'value']],
    ['X-Token:abc', ['x-token', 'abc']],
    ['Referer: http://example.com:8080/a?b=c:d', ['referer', 'http://example.com:8080/a?b=c:d']],
    ['  Accept  :   text/html  ', ['accept', 'text/html']],
    ['X-Empty:', ['x-empty', '']],
    ["X-Odd!#$%&'*+.^_`|~: 1", ["x-odd!#$%&'*+.^_`|~", '1']],
    ['Authorization: Bearer a b c', ['authorization', 'Bearer a b c']],
  ])('%j', (text, expected) => {
    expect(parseHeader(text)).toEqual(expected);
  });

  it.each([
    'no colon',
    ': value',
    'Bad Name: v',
    'Bad(Name): v',
    'Näme: v',
    'X-A: one\r\nX-Injected: two',
    'X-A: one\ntwo',
    'X-A: one\rtwo',
    'X-A: nul\0',
    'X-\nA: v',
    '',
  ])('%j is a usage error', (text) => {
    expectUsageError(() => parseHeader(text), text);
  });
});

describe('parseMethod', () => {
  it.each<[string, string]>([
    ['GET', 'GET'],
    ['head', 'HEAD'],
    ['Post', 'POST'],
    ['PROPFIND', 'PROPFIND'],
  ])('%j -> %s', (text, expected) => {
    expect(parseMethod(text)).toBe(expected);
  });

  it.each(['', 'GET /', 'GE T', 'GET\r\n', 'GET:', '(GET)'])('%j is a usage error', (text) => {
    expectUsageError(() => parseMethod(text), text);
  });
});

describe('parseResolve', () => {
  it.each<[string, [string, string]]>([
    ['example.com:443:127.0.0.1', ['example.com:443', '127.0.0.1']],
    ['Example.COM:80:10.0.0.1', ['example.com:80', '10.0.0.1']],
    ['example.com:443:[::1]', ['example.com:443', '::1']],
    ['example.com:8443:[2001:db8::42]', ['example.com:8443', '2001:db8::42']],
    ['localhost:65535:127.0.0.1', ['localhost:65535', '127.0.0.1']],
    ['example.com:0443:127.0.0.1', ['example.com:443', '127.0.0.1']],
    [' example.com:1:127.0.0.1 ', ['example.com:1', '127.0.0.1']],
  ])('%j', (text, expected) => {
    expect(parseResolve(text)).toEqual(expected);
  });

  it.each([
    'example.com:0:127.0.0.1',
    'example.com:65536:127.0.0.1',
    'example.com:99999:127.0.0.1',
    'example.com:http:127.0.0.1',
    'example.com::127.0.0.1',
    'example.com:443:localhost',
    'example.com:443:other.example',
    'example.com:443:abc',
    'example.com:443:999.1.1.1',
    'example.com:443:',
    'example.com:443',
    ':443:127.0.0.1',
    '',
  ])('%j is a usage error', (text) => {
    expectUsageError(() => parseResolve(text), text);
  });
});
