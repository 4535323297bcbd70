/**
 * `ratelimmq demo`: the whole pipeline against an embedded local target on 127.0.0.1-4 (four
 * distinct hosts) with some latency, a few 500s and an occasional 429 with Retry-After. No
 * internet needed. Every fetch option works here too.
 */
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { resolveFetchConfig, type RawFetchOptions } from '../config.js';
import type { Io } from '../io.js';
import { parseInteger, parseDuration } from '../option-values.js';
import { addFetchOptions } from './fetch.js';

/** URL lines in chunks of a thousand, generated as they are read. */
function urlLines(urlFor: (i: number) => string, count: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i += 1000) {
        let chunk = '';
        for (let j = i; j < Math.min(count, i + 1000); j++) chunk += urlFor(j) + '\n';
        yield chunk;
      }
    })(),
  );
}

export function demoCommand(io: Io, done: (code: number) => void): Command {
  const cmd = new Command('demo')
    .description('Fetch generated URLs from an embedded local target (127.0.0.1-4): latency, some 500s, an occasional 429 with Retry-After')
    .option('--urls <n>', 'how many URLs to fetch', '5000')
    .option('--latency <ms>', 'target latency in ms (with +-50% jitter)', '20')
    .option('--error-rate <fraction>', 'share of requests answered 500', '0.02')
    .option('--throttle-rate <fraction>', 'share of requests answered 429 with Retry-After: 1', '0.002');
  addFetchOptions(cmd).action(async (opts: RawFetchOptions) => {
    const urls = parseInteger(String(opts.urls), '--urls');
    const latencyMs = parseDuration(String(opts.latency), '--latency');
    const errorRate = Number(opts.errorRate);
    const throttleRate = Number(opts.throttleRate);
    // Results only when asked for with -o: thousands of NDJSON lines would drown the report.
    const cfg = resolveFetchConfig('-', { ...opts, results: typeof opts.output === 'string' }, io.env);
    const [{ startTargets }, { runFetch }] = await Promise.all([import('../target-server.js'), import('./fetch-run.js')]);
    const targets = await startTargets({ latencyMs, latencyJitterMs: latencyMs / 2, errorRate, throttleRate, retryAfterSec: 1 });
    try {
      io.stderr.write(
        `demo: ${targets.hosts.length} local targets (${targets.hosts.map((h) => h.address).join(', ')}), ` +
          `latency ${latencyMs}+-${latencyMs / 2} ms, ${errorRate * 100}% 500s, ${throttleRate * 100}% 429s; fetching ${urls} URLs\n`,
      );
      done(await runFetch(cfg, io, urlLines((i) => targets.urlFor(i), urls)));
    } finally {
      await targets.close();
    }
  });
  return cmd;
}
