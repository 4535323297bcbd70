// What our own pipeline costs per URL, without undici and without a network: the real Runner,
// scheduler, Metrics and NDJSON writer (into a sink that discards), over a fake dispatcher that
// answers every request with 200 and a 64-byte body on the next turn of the event loop. W1 compares
// the whole client against undici's floor; this isolates the part that is ours. Build first.
//
//   node bench/pipeline-micro.mjs [--urls 50000] [--reps 5] [--no-results]
//
// Prints one line per repetition and the median CPU µs per URL (the first repetition runs cold).
import { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { systemClock } from '../dist/clock.js';
import { Metrics } from '../dist/metrics.js';
import { NdjsonWriter } from '../dist/ndjson-writer.js';
import { Runner } from '../dist/runner.js';

const { values } = parseArgs({ options: { urls: { type: 'string', default: '50000' }, reps: { type: 'string', default: '5' }, 'no-results': { type: 'boolean', default: false } } });
const urls = Number(values.urls);
const reps = Number(values.reps);

const body = Buffer.alloc(64);
let pending = [];
const dispatcher = {
  dispatch(_opts, handler) {
    if (pending.length === 0) setImmediate(answer);
    pending.push(handler);
    return true;
  },
};
function answer() {
  const handlers = pending;
  pending = [];
  for (const h of handlers) {
    h.onConnect(() => {});
    h.onHeaders(200, [], () => {}, 'OK');
    h.onData(body);
    h.onComplete([]);
  }
}

function input() {
  return Readable.from(
    (function* () {
      for (let i = 0; i < urls; i += 1000) {
        let chunk = '';
        for (let j = i; j < Math.min(urls, i + 1000); j++) chunk += `http://127.0.0.${(j % 4) + 1}:8080/item/${j}\n`;
        yield chunk;
      }
    })(),
  );
}

const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });
const perUrl = [];
for (let rep = 1; rep <= reps; rep++) {
  const metrics = new Metrics({ clock: systemClock });
  let runner;
  const writer = values['no-results'] ? null : new NdjsonWriter(discard, { onDrain: () => runner.scheduler.pump(), onError: () => {} });
  runner = new Runner({
    input: input(),
    scheduler: { concurrency: 100, perHost: 100, ratePerSec: Infinity, perHostRatePerSec: Infinity, burst: 1, queueSize: 1000 },
    retry: { retries: 2, retryBaseMs: 100, retryMaxMs: 10_000 },
    request: { method: 'GET', headers: { 'user-agent': 'ratelimmq-bench' }, timeoutMs: 30_000, maxBodyBytes: 1e9, maxRedirects: 5 },
    graceMs: 1000,
    dispatcher,
    clock: systemClock,
    wallNow: Date.now,
    random: Math.random,
    sinks: writer ? [metrics, writer] : [metrics],
    attempts: metrics,
    canStart: writer ? () => !writer.blocked : undefined,
  });
  const cpu0 = process.cpuUsage();
  const summary = await runner.run();
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / summary.total;
  if (rep > 1) perUrl.push(us);
  process.stdout.write(`rep ${rep}: ${summary.total} URLs, ${us.toFixed(2)} CPU µs per URL${rep === 1 ? ' (cold)' : ''}\n`);
}
perUrl.sort((a, b) => a - b);
if (perUrl.length > 0) process.stdout.write(`median (warm reps): ${perUrl[perUrl.length >> 1].toFixed(2)} CPU µs per URL${values['no-results'] ? ', --no-results' : ''}\n`);
