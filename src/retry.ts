/**
 * The retry policy: which outcomes are retried, after how long, and how long a host pauses.
 * Pure: time and randomness are arguments.
 */
import type { ErrorCode } from './result.js';

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  /** Backoff base: the first retry waits up to this long. */
  retryBaseMs: number;
  /** Backoff cap; a Retry-After longer than this gives up on the URL. */
  retryMaxMs: number;
}

/** Statuses worth another try: the server said "not now", not "no". */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** Transport errors worth another try. DNS "not found", TLS, malformed HTTP and size limits are final. */
export const RETRY_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['timeout', 'connect_refused', 'connection_reset', 'network']);

export interface AttemptOutcome {
  status: number | null;
  error: ErrorCode | null;
  /** The raw Retry-After header, if any. */
  retryAfter: string | null;
}

export interface RetryDecision {
  retry: boolean;
  /** Wait before the next attempt (when retry). */
  delayMs: number;
  /** Pause every attempt to this host for this long (0 = no pause). */
  pauseHostMs: number;
}

const NO_RETRY: RetryDecision = { retry: false, delayMs: 0, pauseHostMs: 0 };

/** Full-jitter exponential backoff: random(0, min(max, base * 2^(attempt-1))). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return random() * ceiling;
}

/**
 * Retry-After as milliseconds from now: delta-seconds or an HTTP date. Null when absent or
 * unusable (garbage, negative); a date in the past means 0.
 */
export function parseRetryAfter(value: string | null, nowEpochMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  // An IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") or one of the obsolete HTTP date forms; V8's
  // Date.parse alone would also accept garbage such as "in 5".
  if (!/^[a-z]{3,9},? +\d{1,2}[ -][a-z]{3}[ -]\d{2,4} +\d{2}:\d{2}:\d{2} +gmt$|^[a-z]{3} +[a-z]{3} +\d{1,2} +\d{2}:\d{2}:\d{2} +\d{4}$/i.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowEpochMs);
}

/**
 * What to do after attempt number `attempt` (1-based) ended with `outcome`.
 * A Retry-After (on 429/503) pauses the host, at most for retryMax; asking for longer than
 * retryMax ends this URL with its last status.
 */
export function decideRetry(
  policy: RetryPolicy,
  attempt: number,
  outcome: AttemptOutcome,
  nowEpochMs: number,
  random: () => number,
): RetryDecision {
  const byStatus = outcome.error === null && outcome.status !== null && RETRY_STATUSES.has(outcome.status);
  const byError = outcome.error !== null && RETRY_ERRORS.has(outcome.error);
  if (!byStatus && !byError) return NO_RETRY;

  const honoursRetryAfter = outcome.status === 429 || outcome.status === 503;
  const retryAfterMs = honoursRetryAfter ? parseRetryAfter(outcome.retryAfter, nowEpochMs) : null;
  const pauseHostMs = retryAfterMs === null ? 0 : Math.min(retryAfterMs, policy.retryMaxMs);
  if (attempt > policy.retries) return { retry: false, delayMs: 0, pauseHostMs };
  if (retryAfterMs !== null && retryAfterMs > policy.retryMaxMs) return { retry: false, delayMs: 0, pauseHostMs };
  const delayMs = Math.max(backoffMs(policy, attempt, random), retryAfterMs ?? 0);
  return { retry: true, delayMs, pauseHostMs };
}
