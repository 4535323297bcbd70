/**
 * Maps a transport error to a stable ErrorCode, by `code` (never by message text), looking through
 * `cause` since undici and Node wrap errors.
 */
import type { ErrorCode } from './result.js';

const BY_CODE: Record<string, ErrorCode> = {
  RATELIMMQ_TIMEOUT: 'timeout',
  RATELIMMQ_CANCELLED: 'cancelled',
  RATELIMMQ_BODY_TOO_LARGE: 'body_too_large',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'connect_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  ECONNABORTED: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NONAME: 'dns',
  EAI_NODATA: 'dns',
  EPROTO: 'tls',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'protocol',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'body_too_large',
  UND_ERR_ABORTED: 'cancelled',
  ABORT_ERR: 'cancelled',
};

/** An error we raise ourselves, with a code the classifier knows. */
export class AttemptError extends Error {
  constructor(readonly code: 'RATELIMMQ_TIMEOUT' | 'RATELIMMQ_CANCELLED' | 'RATELIMMQ_BODY_TOO_LARGE', message: string) {
    super(message);
  }
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function classifyError(err: unknown): ErrorCode {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    // undici 7 raises malformed-HTTP errors without a code; their name is stable.
    if ((e as { name?: unknown }).name === 'HTTPParserError') return 'protocol';
    const code = codeOf(e);
    if (code === undefined) continue;
    const known = BY_CODE[code];
    if (known) return known;
    if (code.startsWith('HPE_')) return 'protocol';
    if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.startsWith('CERT_')) return 'tls';
  }
  return 'network';
}
