import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/token-bucket.js';
import { runCli, startRecordingServer, writeUrlFile, type RecordingServer } from '../helpers/servers.js';

/**
 * A server that allows only ALLOWED requests per second (its own token bucket) and answers 429
 * (no Retry-After) beyond that. Under --adaptive the client should find the rate and see few 429s.
 */
const ALLOWED_PER_SEC = 100;

describe('--adaptive (AIMD per host)', () => {
  let server: RecordingServer;
  let urls: string;

  beforeAll(async () => {
    const bucket = new TokenBucket(ALLOWED_PER_SEC, 5, performance.now());
    server = await startRecordingServer((_req, res) => {
      res.statusCode = bucket.tryTake(performance.now()) ? 200 : 429;
      res.end('x');
    });
    urls = await writeUrlFile(Array.from({ length: 150 }, (_, i) => server.url(`/p/${i}`)));
  });
  afterAll(() => server.close());

  async function throttles(extra: string[]): Promise<{ throttled: number; ok: number }> {
    const r = await runCli(['fetch', urls, '-c', '10', '--retries', '8', '--retry-base', '5', '--retry-max', '200', '--no-results', '--report', 'json', ...extra], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stderr) as { ok: number; attempt_status: Record<string, number>; hosts: Record<string, { throttled: number }> };
    expect(report.hosts['127.0.0.1']!.throttled).toBe(report.attempt_status['429'] ?? 0);
    return { throttled: report.attempt_status['429'] ?? 0, ok: report.ok };
  }

  it('ends with few 429s where a fixed client gets many', async () => {
    const fixed = await throttles([]);
    const adaptive = await throttles(['--adaptive']);
    expect(adaptive.ok).toBe(150);
    expect(fixed.throttled).toBeGreaterThan(100);
    expect(adaptive.throttled).toBeLessThan(fixed.throttled / 3);
  });
});
