import { describe, expect, it } from 'vitest';
import { AttemptError, classifyError } from '../../src/classify.js';
import type { ErrorCode } from '../../src/result.js';

/** An Error with a `code`, like Node's and undici's. */
function coded(code: string, message = 'boom', cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  e.code = code;
  return e;
}

describe('classifyError', () => {
  it.each<[string, ErrorCode]>([
    ['RATELIMMQ_TIMEOUT', 'timeout'],
    ['RATELIMMQ_CANCELLED', 'cancelled'],
    ['RATELIMMQ_BODY_TOO_LARGE', 'body_too_large'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['ETIMEDOUT', 'timeout'],
    ['ECONNREFUSED', 'connect_refused'],
    ['ECONNRESET', 'connection_reset'],
    ['EPIPE', 'connection_reset'],
    ['ECONNABORTED', 'connection_reset'],
    ['UND_ERR_SOCKET', 'connection_reset'],
    ['UND_ERR_CLOSED', 'connection_reset'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['EAI_FAIL', 'dns'],
    ['EAI_NONAME', 'dns'],
    ['EAI_NODATA', 'dns'],
    ['EPROTO', 'tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'protocol'],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'body_too_large'],
    ['UND_ERR_ABORTED', 'cancelled'],
    ['ABORT_ERR', 'cancelled'],
    // Families by prefix.
    ['HPE_INVALID_CONSTANT', 'protocol'],
    ['HPE_HEADER_OVERFLOW', 'protocol'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
    ['CERT_HAS_EXPIRED', 'tls'],
    // Unknown codes.
    ['EHOSTUNREACH', 'network'],
    ['UND_ERR_SOMETHING_NEW', 'network'],
    ['', 'network'],
  ])('code %j -> %s', (code, expected) => {
    expect(classifyError(coded(code))).toBe(expected);
  });

  it('classifies by code, never by message text', () => {
    expect(classifyError(coded('ECONNREFUSED', 'getaddrinfo ENOTFOUND example.com'))).toBe('connect_refused');
    expect(classifyError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('network');
  });

  it.each<[string, unknown, ErrorCode]>([
    ['cause one level down', new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }), 'connect_refused'],
    ['cause two levels down', new Error('a', { cause: new Error('b', { cause: coded('ENOTFOUND') }) }), 'dns'],
    ['cause three levels down', new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: coded('ECONNRESET') }) }) }), 'connection_reset'],
    ['an unknown outer code does not hide a known inner one', coded('UND_ERR_WRAPPED', 'x', coded('ETIMEDOUT')), 'timeout'],
    ['the outer known code wins', coded('UND_ERR_HEADERS_TIMEOUT', 'x', coded('ECONNRESET')), 'timeout'],
    ['HPE_ in a cause', new Error('x', { cause: coded('HPE_INVALID_CHUNK_SIZE') }), 'protocol'],
    ['ERR_TLS_ in a cause', new Error('x', { cause: coded('ERR_TLS_CERT_ALTNAME_INVALID') }), 'tls'],
    ['a cause that is a plain object with a code', new Error('x', { cause: { code: 'EPIPE' } }), 'connection_reset'],
    ['AttemptError timeout', new AttemptError('RATELIMMQ_TIMEOUT', 'too slow'), 'timeout'],
    ['AttemptError body too large', new Error('wrapped', { cause: new AttemptError('RATELIMMQ_BODY_TOO_LARGE', 'big') }), 'body_too_large'],
    ['an error without a code', new Error('x'), 'network'],
    ['a numeric code', Object.assign(new Error('x'), { code: 42 }), 'network'],
    ['a thrown string', 'ECONNREFUSED', 'network'],
    ['null', null, 'network'],
    ['undefined', undefined, 'network'],
  ])('%s', (_name, err, expected) => {
    expect(classifyError(err)).toBe(expected);
  });

  it('a cause cycle ends (depth-bounded) as network', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(classifyError(a)).toBe('network');
  });

  it('looks at most 4 levels deep', () => {
    let e: unknown = coded('ECONNREFUSED');
    for (let i = 0; i < 4; i++) e = new Error(`wrap ${i}`, { cause: e });
    expect(classifyError(e)).toBe('network');
  });
});
