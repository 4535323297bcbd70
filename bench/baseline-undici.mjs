// The raw-undici baseline: the least a Node fetcher can do for the same job. Reads the URL file
// fully, then `concurrency` async workers pull the next URL from a shared index and do
// `await request(url, { dispatcher })` + `await body.dump()`, nothing else.
//
//   node bench/baseline-undici.mjs <url-file> [--concurrency 100]
//
// stdout, one JSON line at the end: {"urls":N,"ok":N,"failed":N,"statuses":{...},"errors":{...},"durationS":S}
// (ok = 2xx answers). Exit code 0 when every URL got a 2xx, 1 otherwise, 2 on usage errors.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string', default: '100' } },
});
const concurrency = Number(values.concurrency);
if (positionals.length !== 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node bench/baseline-undici.mjs <url-file> [--concurrency N>=1]\n');
  process.exit(2);
}

const urls = readFileSync(positionals[0], 'utf8').split('\n').filter((line) => line.length > 0);
// Keep-alive on; up to `concurrency` connections per origin, which is the most any one origin
// can need, so undici never queues a request behind another.
const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });

const statuses = {};
const errors = {};
let next = 0;
let ok = 0;
let failed = 0;

async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    try {
      const { statusCode, body } = await request(url, { dispatcher });
      await body.dump();
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

process.stdout.write(`${JSON.stringify({ urls: urls.length, ok, failed, statuses, errors, durationS })}\n`);
process.exitCode = ok === urls.length ? 0 : 1;
