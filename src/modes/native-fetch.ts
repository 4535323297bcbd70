/**
 * The `fetch` mode: Node's built-in `fetch()` (the WHATWG API over Node's bundled undici, with its
 * global dispatcher: keep-alive, no per-origin connection cap), as a user would write it:
 * `concurrency` async loops, each awaiting one `fetch` and reading its body stream to the end
 * before taking the next URL. No scheduler, no per-host caps.
 */
import { bodyWork, indexSource, LatencyHistogram, WorkTally, type ModeCounts, type ModeSpec, type PreparedMode } from './measure.js';

export async function prepareFetch(spec: ModeSpec): Promise<PreparedMode> {
  const tally = new WorkTally();
  const makeWork = bodyWork(spec.work, tally);
  const headers = { 'user-agent': spec.userAgent };

  /** One request to the last body byte (and its work); false when it failed. */
  const fetchOne = async (url: string): Promise<boolean> => {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(spec.timeoutMs) });
      const work = makeWork?.() ?? null;
      if (res.body !== null) for await (const chunk of res.body) work?.update(chunk);
      work?.finish();
      return true;
    } catch {
      return false;
    }
  };

  await fetchOne(spec.urls[0]!); // warm-up: loads fetch's internals, opens a connection; not counted
  return {
    async go(): Promise<ModeCounts> {
      const latency = new LatencyHistogram();
      const checksum0 = tally.checksum;
      const next = indexSource(spec.urls.length, performance.now() + spec.maxTimeMs);
      let completed = 0;
      let failed = 0;
      const loop = async (): Promise<void> => {
        for (let i = next(); i >= 0; i = next()) {
          const t0 = performance.now();
          if (await fetchOne(spec.urls[i]!)) {
            latency.record(performance.now() - t0);
            completed++;
          } else failed++;
        }
      };
      await Promise.all(Array.from({ length: spec.concurrency }, loop));
      return { completed, failed, latency, checksum: tally.checksum ^ checksum0, threads: 1 };
    },
    close: async () => undefined,
  };
}
