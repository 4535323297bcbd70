/**
 * The `async` mode: the real pipeline, unchanged. A `Runner` reads the URL lines, its scheduler
 * keeps up to `concurrency` attempts in flight (and `perHost` per host) on one event loop, and each
 * attempt goes through the same dispatcher as the other undici modes. For `--work` the dispatcher is
 * wrapped (`withBodyWork`) so each body is worked on, on the event loop, before its attempt ends;
 * the Runner itself never sees a body. No retries, so each URL is one request.
 *
 * The time box is the Runner's own stop path: at the deadline `stop('shutdown')` cancels what is
 * queued and lets the requests in flight finish.
 */
import { Readable } from 'node:stream';
import { systemClock } from '../clock.js';
import { createDispatcher } from '../dispatcher.js';
import { Deadlines } from '../deadlines.js';
import type { Result } from '../result.js';
import { Runner } from '../runner.js';
import { bodyWork, LatencyHistogram, WorkTally, type ModeCounts, type ModeSpec, type PreparedMode } from './measure.js';
import { fetchOne, requestSpec, targetAt, withBodyWork } from './sequential.js';

/** URL lines in chunks of a thousand. */
function urlLines(urls: readonly string[]): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < urls.length; i += 1000) yield urls.slice(i, i + 1000).join('\n') + '\n';
    })(),
  );
}

export async function prepareAsync(spec: ModeSpec): Promise<PreparedMode> {
  const tally = new WorkTally();
  const base = createDispatcher({ timeoutMs: spec.timeoutMs, http2: false, resolve: new Map() });
  const dispatcher = withBodyWork(base, bodyWork(spec.work, tally));
  const request = requestSpec(spec);
  const warmUp = new Deadlines(spec.timeoutMs, systemClock);
  await fetchOne(dispatcher, targetAt(spec.urls, 0), request, warmUp); // warm-up: not counted
  warmUp.close();
  return {
    async go(): Promise<ModeCounts> {
      const latency = new LatencyHistogram();
      const checksum0 = tally.checksum;
      let completed = 0;
      let failed = 0;
      const counter = {
        write(r: Result): void {
          if (r.error === null && r.status !== null) completed++;
          else if (r.error !== 'cancelled') failed++; // cancelled = never started before the time box
        },
      };
      // Latency from the attempt's actual start (as the other modes measure it), not the corrected one.
      const recorder = {
        recordStart(): void {},
        recordAttempt(_host: string, latencyMs: number | null): void {
          if (latencyMs !== null) latency.record(latencyMs);
        },
      };
      const runner = new Runner({
        input: urlLines(spec.urls),
        scheduler: {
          concurrency: spec.concurrency,
          perHost: spec.perHost,
          ratePerSec: Infinity,
          perHostRatePerSec: Infinity,
          burst: 1,
          queueSize: Math.max(1000, spec.concurrency),
        },
        retry: { retries: 0, retryBaseMs: 100, retryMaxMs: 10_000 },
        request,
        graceMs: spec.timeoutMs,
        dispatcher,
        clock: systemClock,
        wallNow: Date.now,
        random: Math.random,
        sinks: [counter],
        attempts: recorder,
      });
      const timer = setTimeout(() => runner.stop('shutdown'), spec.maxTimeMs);
      try {
        await runner.run();
      } finally {
        clearTimeout(timer);
      }
      return { completed, failed, latency, checksum: tally.checksum ^ checksum0, threads: 1 };
    },
    close: () => base.close(),
  };
}
