/**
 * Property tests (fast-check) for everything that parses outside input: the line reader, URL lines,
 * option values, `--fail-on` rules and control-port commands. Each must either produce a value that
 * keeps its documented invariants or throw a UsageError (the parsers that are documented to never
 * throw must never throw). fast-check prints a shrunk counterexample and a seed to replay it.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, parseCommand, type ControlCommand } from '../../src/control/protocol.js';
import { UsageError } from '../../src/io.js';
import { parseBytes, parseDuration, parseHeader, parseRate, parseResolve } from '../../src/option-values.js';
import { MAX_LINE_BYTES, readLines, type SourceLine } from '../../src/source.js';
import { parseTarget } from '../../src/target.js';
import { parseFailOn } from '../../src/thresholds.js';

const RUNS = { numRuns: 300 };
/** How much of an over-long line the reader keeps (src/source.ts OVERLONG_PREFIX_CHARS). */
const OVERLONG_PREFIX_CHARS = 256;

// ---- Arbitraries ------------------------------------------------------------------------------

/** Any string: every UTF-16 code unit, lone surrogates included. */
const anyString = fc.string({ unit: 'binary', maxLength: 200 });
/** Digits, sometimes far beyond what a double holds. */
const digits = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 6 }),
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 400 }),
);
const number = fc.oneof(digits, fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`), digits.map((d) => `.${d}`), fc.constantFrom('-1', '1e3', 'NaN', 'Infinity', '0x10', ''));
const space = fc.constantFrom('', ' ', '\t', '  ');
/** `<space><number><space><unit><space>`: near misses and hits of the option syntaxes. */
const numberWithUnit = (units: string[]): fc.Arbitrary<string> =>
  fc.tuple(space, number, space, fc.constantFrom(...units), space).map((p) => p.join(''));

/** Bytes that matter to the line reader, and any other byte. */
const interestingByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0x0a, 0x0d, 0x20, 0x09, 0x23, 0x00, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xf0, 0x68) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
/** A piece of input: a few bytes, or (rarely) a run long enough to make a line over-long. */
const segment = fc.oneof(
  { weight: 12, arbitrary: fc.array(interestingByte, { maxLength: 40 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.tuple(interestingByte, fc.integer({ min: MAX_LINE_BYTES - 2, max: 2 * MAX_LINE_BYTES })).map(([b, n]) => Buffer.alloc(n, b)) },
);
/** A whole input and the offsets at which the stream cuts it into chunks. */
const chunkedInput = fc
  .tuple(fc.array(segment, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }))
  .map(([segments, cuts]) => {
    const whole = Buffer.concat(segments);
    const at = [...new Set(cuts.map((c) => (whole.length === 0 ? 0 : c % whole.length)))].sort((a, b) => a - b);
    const chunks = [0, ...at].map((start, i) => whole.subarray(start, [...at, whole.length][i]));
    return { whole, chunks };
  });

async function* feed(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

async function collect(chunks: Buffer[]): Promise<SourceLine[]> {
  const out: SourceLine[] = [];
  for await (const batch of readLines(feed(chunks))) out.push(...batch);
  return out;
}

/** The README's input rules, applied to the whole input at once: the reference for readLines. */
function model(whole: Buffer): Array<{ line: number; text: string; overlong: boolean; startsBlankOrComment: boolean }> {
  const parts: Buffer[] = [];
  for (let start = 0; start <= whole.length; ) {
    const nl = whole.indexOf(0x0a, start);
    parts.push(whole.subarray(start, nl === -1 ? whole.length : nl));
    if (nl === -1) break;
    start = nl + 1;
  }
  if (parts.length > 0 && parts.at(-1)!.length === 0) parts.pop(); // a final newline ends the last line
  return parts.map((bytes, i) => {
    let text = bytes.toString('utf8');
    if (i === 0 && text.startsWith('\uFEFF')) text = text.slice(1);
    return { line: i + 1, text: text.trim(), overlong: bytes.length > MAX_LINE_BYTES, startsBlankOrComment: /^[\s#]/.test(text) };
  });
}

/** Runs `parse`; anything thrown must be a UsageError. Returns the value, or undefined when it threw. */
function valueOrUsageError<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).not.toBe('');
    return undefined;
  }
}

// ---- The line reader ----------------------------------------------------------------------------

describe('readLines over arbitrary bytes, arbitrarily chunked', () => {
  it('never throws; line numbers strictly increase; lines are trimmed URL candidates; over-long ones are bounded', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedInput, async ({ whole, chunks }) => {
        const lines = await collect(chunks);
        const newlines = whole.filter((b) => b === 0x0a).length;
        let previous = 0;
        for (const l of lines) {
          expect(l.line).toBeGreaterThan(previous);
          expect(l.line).toBeLessThanOrEqual(newlines + 1);
          previous = l.line;
          if (l.overlong) {
            // A prefix of the trimmed line: no leading blanks, bounded.
            expect(l.text).toBe(l.text.trimStart());
            expect(l.text.length).toBeLessThanOrEqual(OVERLONG_PREFIX_CHARS);
          } else {
            expect(l.text).toBe(l.text.trim());
            expect(l.text).not.toBe('');
            expect(l.text.startsWith('#')).toBe(false);
            expect(l.text.length).toBeLessThanOrEqual(MAX_LINE_BYTES); // a byte decodes to at most one UTF-16 unit
          }
        }
      }),
      RUNS,
    );
  });

  it('agrees with the README rules applied to the whole input, however it is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedInput, async ({ whole, chunks }) => {
        const got = await collect(chunks);
        const want = model(whole);
        // Ordinary lines: exactly the non-blank, non-comment ones, with their text.
        const isCandidate = (l: { text: string }): boolean => l.text !== '' && !l.text.startsWith('#');
        const ordinary = want.filter((l) => !l.overlong && isCandidate(l));
        expect(got.filter((l) => !l.overlong)).toEqual(ordinary.map((l) => ({ line: l.line, text: l.text, overlong: false })));
        // Over-long lines: a record only for an over-long URL candidate, and one for every such line
        // that starts with its text (leading blanks: see the it.fails below).
        const overlongCandidates = new Set(want.filter((l) => l.overlong && isCandidate(l)).map((l) => l.line));
        const gotOverlong = new Set(got.filter((x) => x.overlong).map((x) => x.line));
        for (const line of gotOverlong) expect(overlongCandidates.has(line)).toBe(true);
        for (const l of want.filter((x) => x.overlong && !x.startsBlankOrComment)) expect(gotOverlong.has(l.line)).toBe(true);
      }),
      RUNS,
    );
  });

  // BUG: an over-long URL line with more than 1 KiB of leading blanks gets NO result when the
  // line spans chunks (any file over 64 KiB, any pipe): README promises one result per URL line.
  // src/source.ts keeps only the first 1024 bytes (`prefix`) of a line that outgrows
  // MAX_LINE_BYTES across chunks, and `emit` now drops lines whose trimmed text is blank or starts
  // with `#` "however long": the all-blank prefix reads as a blank line. When the whole line sits
  // in one chunk, emit trims the whole text instead and the record appears, so the same input gives
  // different results depending on read sizes. The blank/comment test should look at the first
  // non-blank byte of the line, not at a fixed-size prefix.
  it('an over-long URL line after 2000 blanks still gets its record, however it is chunked', async () => {
    const whole = Buffer.from(`${' '.repeat(2000)}http://a.test/${'x'.repeat(2 * MAX_LINE_BYTES)}\nhttp://b.test/\n`);
    const want = [{ line: 1, overlong: true }, { line: 2, overlong: false }];
    const strip = (lines: SourceLine[]): Array<{ line: number; overlong: boolean }> => lines.map(({ line, overlong }) => ({ line, overlong }));
    expect(strip(await collect([whole]))).toEqual(want);
    const chunks: Buffer[] = [];
    for (let at = 0; at < whole.length; at += 16 * 1024) chunks.push(whole.subarray(at, at + 16 * 1024)); // a pipe's reads
    expect(strip(await collect(chunks))).toEqual(want);
  });
});

// ---- URL lines ----------------------------------------------------------------------------------

describe('parseTarget', () => {
  const urlish = fc.oneof(
    anyString,
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.tuple(fc.constantFrom('http://', 'https://', 'HTTP://', 'ftp://', 'javascript:', 'http:/', 'http:', '//', '\0http://'), anyString).map(([a, b]) => a + b),
  );

  it('never throws; a target is an http(s) URL with a lowercased host and a path', () => {
    fc.assert(
      fc.property(urlish, fc.integer({ min: 1, max: 1e9 }), (text, line) => {
        const t = parseTarget({ line, text, overlong: false });
        if (t === null) return;
        expect(t.line).toBe(line);
        expect(t.url).toBe(text);
        expect(t.host).not.toBe('');
        expect(t.host).toBe(t.host.toLowerCase());
        expect(t.origin).toMatch(/^https?:\/\/[^/]+$/);
        expect(t.path.startsWith('/')).toBe(true);
        expect(new URL(t.origin + t.path).hostname).toBe(t.host);
      }),
      RUNS,
    );
  });

  it('an over-long line is never a target', () => {
    fc.assert(
      fc.property(urlish, (text) => {
        expect(parseTarget({ line: 1, text, overlong: true })).toBeNull();
      }),
      RUNS,
    );
  });
});

// ---- Option values ------------------------------------------------------------------------------

describe('option values: a valid value or a UsageError, nothing else', () => {
  it('parseRate: a positive number of starts per second', () => {
    const input = fc.oneof(anyString, numberWithUnit(['', '/s', '/m', '/h', '/sec', '/min', '/d', '/S', '/ s', 'per s']));
    fc.assert(
      fc.property(input, (text) => {
        const n = valueOrUsageError(() => parseRate(text));
        if (n !== undefined) expect(n).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('parseDuration: finite milliseconds >= min', () => {
    const input = fc.oneof(anyString, numberWithUnit(['', 'ms', 's', 'm', 'h', 'MS', 'us', 'd']));
    fc.assert(
      fc.property(input, fc.nat(10_000), (text, min) => {
        const ms = valueOrUsageError(() => parseDuration(text, '--timeout', min));
        if (ms !== undefined) {
          expect(Number.isFinite(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(min);
        }
      }),
      RUNS,
    );
  });

  it('parseBytes: a whole number of bytes >= 1', () => {
    const input = fc.oneof(anyString, numberWithUnit(['', 'b', 'k', 'KiB', 'kb', 'MiB', 'm', 'g', 'GiB', 'TiB', 'x']));
    fc.assert(
      fc.property(input, (text) => {
        const n = valueOrUsageError(() => parseBytes(text, '--max-body'));
        if (n !== undefined) {
          expect(n).toBeGreaterThanOrEqual(1);
          expect(Math.floor(n)).toBe(n);
        }
      }),
      RUNS,
    );
  });

  // BUG (minor): digits beyond the double range become Infinity instead of a UsageError:
  // `--rate 1000…0` (400 digits) is "unlimited", `--max-body 1000…0` turns the limit off and
  // `--fail-on "failed>1000…0"` compares with Infinity. parseDuration rejects the same input
  // (it checks Number.isFinite); parseRate and parseBytes in src/option-values.ts and parseRule
  // in src/thresholds.ts do not.
  it('numbers beyond the double range are a UsageError, as parseDuration already does', () => {
    const huge = `1${'0'.repeat(400)}`;
    expect(() => parseDuration(huge, '--timeout')).toThrow(UsageError);
    expect(() => parseRate(huge)).toThrow(UsageError);
    expect(() => parseBytes(huge, '--max-body')).toThrow(UsageError);
    expect(() => parseFailOn(`failed>${huge}`)).toThrow(UsageError);
  });

  const headerText = fc.oneof(
    anyString,
    fc.tuple(fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/), anyString), fc.constantFrom(':', ': ', ' : ', '::'), anyString).map((p) => p.join('')),
  );

  it('parseHeader: a lowercased token name and a trimmed value without CR, LF or NUL', () => {
    fc.assert(
      fc.property(headerText, (text) => {
        const h = valueOrUsageError(() => parseHeader(text));
        if (h === undefined) return;
        const [name, value] = h;
        expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9a-z-]+$/);
        expect(value).toBe(value.trim());
        expect(value).not.toMatch(/[\r\n\0]/);
      }),
      RUNS,
    );
  });

  // BUG: parseHeader accepts values HTTP (and undici) cannot send, e.g. `-H "X-Name: 日本"` or a
  // control character: the run starts, then every attempt throws InvalidArgumentError inside
  // undici's dispatch, classified as `network` and RETRIED, and no request is ever sent, where the
  // README promises a usage error (exit 2, "nothing sent"). src/option-values.ts parseHeader only
  // rejects CR, LF and NUL; a field value is [\t\x20-\x7e\x80-\xff]* (undici's headerCharRegex).
  // Related, same symptom: names undici refuses (keep-alive, transfer-encoding, upgrade,
  // connection other than close/keep-alive, expect).
  it('parseHeader: an accepted value is a valid HTTP field value', () => {
    fc.assert(
      fc.property(headerText, (text) => {
        const h = valueOrUsageError(() => parseHeader(text));
        if (h !== undefined) expect(h[1]).toMatch(/^[\t\x20-\x7e\x80-\xff]*$/);
      }),
      RUNS,
    );
  });

  const resolveText = fc.oneof(
    anyString,
    fc
      .tuple(
        fc.oneof(fc.domain(), fc.mixedCase(fc.domain()), anyString),
        fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), digits),
        fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV6().map((a) => `[${a}]`), anyString),
      )
      .map(([h, p, a]) => `${h}:${p}:${a}`),
  );

  it('parseResolve: "host:port" with a lowercased host and a port in 1..65535, and an IP address', () => {
    fc.assert(
      fc.property(resolveText, (text) => {
        const r = valueOrUsageError(() => parseResolve(text));
        if (r === undefined) return;
        const [key, address] = r;
        const m = /^([^:\s]+):(\d+)$/.exec(key);
        expect(m).not.toBeNull();
        expect(m![1]).toBe(m![1]!.toLowerCase());
        expect(Number(m![2])).toBeGreaterThanOrEqual(1);
        expect(Number(m![2])).toBeLessThanOrEqual(65535);
        expect(isIP(address)).not.toBe(0);
      }),
      RUNS,
    );
  });

  // BUG: a pin for a non-ASCII (or percent-encoded) name never applies, so that name is looked up
  // in DNS, which --resolve exists to prevent. parseResolve keys the pin by the name as typed,
  // lowercased ("bücher.test:80"); src/dispatcher.ts looks pins up by `new URL(origin).hostname`,
  // which is IDNA-encoded ("xn--bcher-kva.test:80"). The key should go through the same URL
  // normalisation as the origin.
  it('parseResolve keys a pin the way the dispatcher looks it up (URL hostname)', () => {
    for (const name of ['bücher.test', 'ÉCOLE.test', 'a%2Eb.test']) {
      const [key] = parseResolve(`${name}:80:127.0.0.1`);
      expect(key).toBe(`${new URL(`http://${name}:80/`).hostname}:80`);
    }
  });
});

// ---- --fail-on ----------------------------------------------------------------------------------

const METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max', 'error-rate', 'rps', 'urls-per-s', 'failed', 'ok', 'invalid', 'total', 'retries', 'attempts'];

describe('parseFailOn', () => {
  const metricName = fc.oneof(fc.constantFrom(...METRICS, 'p99.9', 'errors', 'urls/s', 'error_rate', 'P99', 'latency', '__proto__', 'constructor'), anyString);
  const rule = fc
    .tuple(space, metricName, space, fc.constantFrom('>', '>=', '<', '<=', '=', '==', '!=', '=>', '<>', ''), space, number, fc.constantFrom('', 'ms', 's', 'us', 'µs', '%', '/s', 'm', 'MS'), space)
    .map((p) => p.join(''));
  const rules = fc.oneof(anyString, fc.array(rule, { minLength: 1, maxLength: 4 }).map((r) => r.join(',')));

  it('UsageError, or one rule per comma-separated part with a known metric, operator and number', () => {
    fc.assert(
      fc.property(rules, (text) => {
        const parsed = valueOrUsageError(() => parseFailOn(text));
        if (parsed === undefined) return;
        expect(parsed).toHaveLength(text.split(',').length);
        for (const r of parsed) {
          expect(METRICS).toContain(r.metric);
          expect(['>', '>=', '<', '<=', '=', '!=']).toContain(r.op);
          expect(typeof r.value).toBe('number');
          expect(r.value).toBeGreaterThanOrEqual(0);
          expect(r.text).not.toMatch(/\s/);
        }
      }),
      RUNS,
    );
  });
});

// ---- Control port -------------------------------------------------------------------------------

describe('parseCommand', () => {
  const KINDS: ReadonlyArray<ControlCommand['kind']> = ['ping', 'shutdown', 'help', 'stats', 'pause', 'resume', 'auth', 'set-rate', 'set-concurrency', 'unknown', 'invalid'];
  const word = fc.oneof(
    fc.constantFrom(...COMMAND_NAMES, 'rate', 'RATE', 'concurrency', 'off', 'unlimited', '0', '1', '10/s', '6000/m', '2.5', '-1', 'example.com', '[::1]:80', 'Host:8080', '__proto__'),
    anyString,
  );
  const line = fc.oneof(
    anyString,
    fc.tuple(fc.array(word, { minLength: 1, maxLength: 5 }), fc.constantFrom(' ', '\t', '  ', ' \t ')).map(([w, sep]) => w.join(sep)),
  );

  it('never throws and returns a known kind with sound fields', () => {
    fc.assert(
      fc.property(line, (text) => {
        const cmd = parseCommand(text);
        expect(KINDS).toContain(cmd.kind);
        if (cmd.kind === 'set-rate') expect(cmd.perSec).toBeGreaterThan(0);
        if (cmd.kind === 'set-concurrency') {
          expect(Number.isSafeInteger(cmd.n)).toBe(true);
          expect(cmd.n).toBeGreaterThanOrEqual(1);
        }
        if ((cmd.kind === 'set-rate' || cmd.kind === 'set-concurrency') && cmd.host !== undefined) {
          expect(cmd.host).toBe(cmd.host.toLowerCase());
          expect(cmd.host).not.toMatch(/\s/);
        }
        if (cmd.kind === 'auth') expect(cmd.secret).toBe(cmd.secret.trim());
      }),
      RUNS,
    );
  });
});
