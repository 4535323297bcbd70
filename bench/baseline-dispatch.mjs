// The floor under every undici client: undici's low-level `dispatch` with a handler that only
// counts, over the same URL list. No result records, no histograms, no limits, no timeouts: what
// undici itself costs per request here, so that W1 can tell our pipeline's cost from undici's.
// Reads the URL file fully; `concurrency` chains, each starting the next URL when one ends.
//
//   node bench/baseline-dispatch.mjs <url-file> [--concurrency 100]
//
// stdout, one JSON line at the end: {"urls":N,"ok":N,"failed":N,"statuses":{...},"errors":{...},"durationS":S}
// (ok = 2xx answers). Exit code 0 when every URL got a 2xx, 1 otherwise, 2 on usage errors.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { concurrency: { type: 'string', default: '100' } } });
const concurrency = Number(values.concurrency);
if (positionals.length !== 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node bench/baseline-dispatch.mjs <url-file> [--concurrency N>=1]\n');
  process.exit(2);
}

const urls = readFileSync(positionals[0], 'utf8').split('\n').filter((line) => line.length > 0);
// As ratelimmq's dispatcher: a connection per request in flight, keep-alive.
const dispatcher = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000 });
const statuses = {};
const errors = {};
let next = 0;
let ended = 0;
let ok = 0;
let failed = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));

function start() {
  if (next >= urls.length) return;
  const url = new URL(urls[next++]);
  let status = 0;
  dispatcher.dispatch(
    { origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: null },
    {
      onConnect() {},
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 200 && status < 300) ok++;
        else failed++;
        end();
      },
      onError(err) {
        const code = err?.code ?? 'UNKNOWN';
        errors[code] = (errors[code] ?? 0) + 1;
        failed++;
        end();
      },
    },
  );
}

function end() {
  if (++ended === urls.length) finish();
  else start();
}

const startedNs = process.hrtime.bigint();
for (let i = 0; i < Math.min(concurrency, urls.length); i++) start();
if (urls.length > 0) await finished;
const durationS = Number(process.hrtime.bigint() - startedNs) / 1e9;
await dispatcher.close();
process.stdout.write(`${JSON.stringify({ urls: urls.length, ok, failed, statuses, errors, durationS })}\n`);
process.exitCode = ok === urls.length ? 0 : 1;
