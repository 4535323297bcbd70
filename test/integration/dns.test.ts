import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createDispatcher } from '../../src/dispatcher.js';
import { Metrics } from '../../src/metrics.js';
import type { Result } from '../../src/result.js';
import { Runner } from '../../src/runner.js';

/** A lookup that fails the way the resolver does, without sending a real DNS query. */
function failingLookup(code: 'ENOTFOUND' | 'EAI_AGAIN') {
  return ((hostname: string, _options: unknown, cb: (err: NodeJS.ErrnoException) => void) => {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, syscall: 'getaddrinfo' });
    process.nextTick(() => cb(err));
  }) as never;
}

async function fetchWith(code: 'ENOTFOUND' | 'EAI_AGAIN'): Promise<Result[]> {
  const results: Result[] = [];
  const metrics = new Metrics({ clock: systemClock });
  const dispatcher = createDispatcher({ timeoutMs: 2000, http2: false, resolve: new Map(), lookup: failingLookup(code) });
  const runner = new Runner({
    input: Readable.from(['http://no-such-host.test/a\nhttp://no-such-host.test/b\n']),
    scheduler: { concurrency: 4, perHost: 4, ratePerSec: Infinity, perHostRatePerSec: Infinity, burst: 1, queueSize: 10 },
    retry: { retries: 3, retryBaseMs: 1, retryMaxMs: 5 },
    request: { method: 'GET', headers: {}, timeoutMs: 2000, maxBodyBytes: 1024, maxRedirects: 0 },
    graceMs: 0,
    dispatcher,
    clock: systemClock,
    wallNow: Date.now,
    random: Math.random,
    sinks: [metrics, { write: (r) => results.push(r) }],
    attempts: metrics,
  });
  await runner.run();
  await dispatcher.destroy();
  return results;
}

describe('DNS failures (injected lookup, no real query)', () => {
  it.each(['ENOTFOUND', 'EAI_AGAIN'] as const)('%s is classified as dns and not retried', async (code) => {
    const results = await fetchWith(code);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r).toMatchObject({ status: null, ok: false, error: 'dns', attempts: 1 });
  });
});
