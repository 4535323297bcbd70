// The raw-undici baseline: the least a Node fetcher can do for the same job. Reads the URL file
// fully, then `concurrency` async workers pull the next URL from a shared index and do
// `await request(url, { dispatcher })` + `await body.dump()`, nothing else.
//
//   node bench/baseline-undici.mjs <url-file> [--concurrency 100] [--latency]
//
// stdout, one JSON line at the end: {"urls":N,"ok":N,"failed":N,"statuses":{...},"errors":{...},"durationS":S}
// (ok = 2xx answers). Exit code 0 when every URL got a 2xx, 1 otherwise, 2 on usage errors.
// --latency (off by default, so the W1 loop stays minimal) also times each request, from just
// before request() to the end of body.dump(), and adds "latencyMs":{"count","p50","p90","p99","max"}.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string', default: '100' }, latency: { type: 'boolean', default: false } },
});
const concurrency = Number(values.concurrency);
if (positionals.length !== 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node bench/baseline-undici.mjs <url-file> [--concurrency N>=1] [--latency]\n');
  process.exit(2);
}

const urls = readFileSync(positionals[0], 'utf8').split('\n').filter((line) => line.length > 0);
// Keep-alive on; up to `concurrency` connections per origin, which is the most any one origin
// can need, so undici never queues a request behind another.
const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });

const latencies = values.latency ? new Float64Array(urls.length) : null;
let timed = 0;
const statuses = {};
const errors = {};
let next = 0;
let ok = 0;
let failed = 0;

async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    const t0 = latencies ? performance.now() : 0;
    try {
      const { statusCode, body } = await request(url, { dispatcher });
      await body.dump();
      if (latencies) latencies[timed++] = performance.now() - t0;
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) ok++;
      else failed++;
    } catch (err) {
      const code = err?.code ?? 'UNKNOWN';
      errors[code] = (errors[code] ?? 0) + 1;
      failed++;
    }
  }
}

const startedNs = process.hrtime.bigint();
await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
const durationS = Number(process.hrtime.bigint() - startedNs) / 1e9;
await dispatcher.close();

/** Nearest-rank percentiles of the timed requests, in ms (0.01). */
function latencySummary(xs) {
  const v = xs.sort();
  const at = (p) => Math.round(v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] * 100) / 100;
  return v.length === 0 ? null : { count: v.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}
const latencyMs = latencies ? latencySummary(latencies.subarray(0, timed)) : undefined;
process.stdout.write(`${JSON.stringify({ urls: urls.length, ok, failed, statuses, errors, durationS, latencyMs })}\n`);
process.exitCode = ok === urls.length ? 0 : 1;
