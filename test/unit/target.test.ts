import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/target.js';

const src = (text: string, line = 1, overlong = false) => ({ line, text, overlong });

describe('parseTarget', () => {
  it.each<[string, { host: string; origin: string; path: string }]>([
    ['http://example.com', { host: 'example.com', origin: 'http://example.com', path: '/' }],
    ['https://example.com/', { host: 'example.com', origin: 'https://example.com', path: '/' }],
    ['http://Example.COM/Path/Keeps/Case', { host: 'example.com', origin: 'http://example.com', path: '/Path/Keeps/Case' }],
    ['HTTPS://EXAMPLE.COM/a', { host: 'example.com', origin: 'https://example.com', path: '/a' }],
    ['http://example.com:8080/a/b?x=1&y=2', { host: 'example.com', origin: 'http://example.com:8080', path: '/a/b?x=1&y=2' }],
    ['https://example.com:8443/', { host: 'example.com', origin: 'https://example.com:8443', path: '/' }],
    ['http://example.com:80/a', { host: 'example.com', origin: 'http://example.com', path: '/a' }],
    ['https://example.com:443/a', { host: 'example.com', origin: 'https://example.com', path: '/a' }],
    ['http://example.com/a?q=1#fragment', { host: 'example.com', origin: 'http://example.com', path: '/a?q=1' }],
    ['http://user:pw@example.com/a', { host: 'example.com', origin: 'http://example.com', path: '/a' }],
    ['http://127.0.0.1:3000/x', { host: '127.0.0.1', origin: 'http://127.0.0.1:3000', path: '/x' }],
    ['http://[::1]:3000/x', { host: '[::1]', origin: 'http://[::1]:3000', path: '/x' }],
  ])('accepts %s', (text, expected) => {
    expect(parseTarget(src(text, 7))).toEqual({ line: 7, url: text, ...expected });
  });

  it('keeps the url as written while keying by the lowercased host', () => {
    const t = parseTarget(src('HTTP://Mixed.Example.COM:8080/P?Q=1'));
    expect(t?.url).toBe('HTTP://Mixed.Example.COM:8080/P?Q=1');
    expect(t?.host).toBe('mixed.example.com');
  });

  it('the same host on different ports shares the host key but not the origin', () => {
    const a = parseTarget(src('http://example.com:8080/'))!;
    const b = parseTarget(src('http://example.com:9090/'))!;
    expect(a.host).toBe(b.host);
    expect(a.origin).not.toBe(b.origin);
  });

  it.each([
    'ftp://example.com/file',
    'mailto:someone@example.com',
    'file:///etc/passwd',
    'ws://example.com/',
    'javascript:alert(1)',
    'data:text/plain,hi',
    '/relative/path',
    'relative/path',
    'example.com/path',
    '//example.com/path',
    '?q=1',
    'http://',
    'https://',
    'http://exa mple.com/',
    'http://[::1/',
    'http://example.com:99999/',
    'garbage',
    '',
    '::::',
  ])('rejects %j', (text) => {
    expect(parseTarget(src(text))).toBeNull();
  });

  it('rejects an over-long line even when its prefix looks like a URL', () => {
    expect(parseTarget(src('http://example.com/', 3, true))).toBeNull();
  });
});
