/**
 * The `threads` mode: N `worker_threads`, each running the sequential loop (one request at a time)
 * on its share of the URLs, taken from one shared Atomics counter so a slow thread never leaves
 * work stranded. N = min(concurrency, maxThreads): one thread per request in flight, capped because
 * a thread costs an isolate (about 10 MB) and a few ms to start, and past the core count more
 * threads only add scheduling. Startup and a warm-up request per thread happen before the timed
 * window; CPU is process-wide, so it includes every worker.
 */
import { Worker } from 'node:worker_threads';
import { LatencyHistogram, type ModeCounts, type ModeSpec, type PreparedMode } from './measure.js';
import { NEXT_INDEX, STOP, type ThreadWorkerData } from './thread-worker.js';

interface DoneMessage {
  type: 'done';
  completed: number;
  failed: number;
  checksum: number;
  latenciesMs: Float64Array;
}

/** Worker threads used for a given concurrency. */
export function threadCount(spec: Pick<ModeSpec, 'concurrency' | 'maxThreads'>): number {
  return Math.max(1, Math.min(spec.concurrency, spec.maxThreads));
}

/** Resolves with the worker's next message; rejects if it fails or exits first. */
function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`worker exited with code ${code}`));
    w.once('error', reject);
    w.once('exit', onExit);
    w.once('message', (m: T) => {
      w.off('error', reject);
      w.off('exit', onExit);
      resolve(m);
    });
  });
}

export async function prepareThreads(spec: ModeSpec): Promise<PreparedMode> {
  const n = threadCount(spec);
  const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const ctl = new Int32Array(control);
  const data: ThreadWorkerData = { spec, control };
  const workers = Array.from({ length: n }, () => new Worker(new URL('./thread-worker.js', import.meta.url), { workerData: data }));
  const close = async (): Promise<void> => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    await Promise.all(workers.map((w) => nextMessage<{ type: 'ready' }>(w)));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async go(): Promise<ModeCounts> {
      const done = workers.map((w) => nextMessage<DoneMessage>(w));
      const timer = setTimeout(() => Atomics.store(ctl, STOP, 1), spec.maxTimeMs);
      Atomics.store(ctl, NEXT_INDEX, 0);
      for (const w of workers) w.postMessage('go');
      let results: DoneMessage[];
      try {
        results = await Promise.all(done);
      } finally {
        clearTimeout(timer);
      }
      const latency = new LatencyHistogram();
      let completed = 0;
      let failed = 0;
      let checksum = 0;
      for (const r of results) {
        for (const ms of r.latenciesMs) latency.record(ms);
        completed += r.completed;
        failed += r.failed;
        checksum ^= r.checksum;
      }
      return { completed, failed, latency, checksum, threads: n };
    },
    close,
  };
}
