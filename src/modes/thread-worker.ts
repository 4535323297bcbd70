/**
 * One worker of the `threads` mode: its own dispatcher, its own event loop, fetching one request
 * at a time (the sequential loop) from a URL index shared by all workers through an Atomics
 * counter, until the list runs out or the main thread raises the stop flag.
 *
 * Messages: -> `{ type: 'ready' }` after a warm-up request; <- any message means go;
 * -> `{ type: 'done', completed, failed, checksum, latenciesMs }` (a transferred Float64Array).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fetchOne, runOneAtATime, setUpOneAtATime, targetAt } from './sequential.js';
import type { ModeSpec } from './measure.js';

/** What the main thread passes in `workerData`. */
export interface ThreadWorkerData {
  spec: ModeSpec;
  /** Int32Array over it: [0] the next URL index, [1] the stop flag. */
  control: SharedArrayBuffer;
}

/** Slots of the shared control array. */
export const NEXT_INDEX = 0;
export const STOP = 1;

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'control' in workerData) {
  const port = parentPort;
  const { spec, control } = workerData as ThreadWorkerData;
  const ctl = new Int32Array(control);
  const s = setUpOneAtATime(spec);
  const count = s.urls.length;
  const next = (): number => {
    if (Atomics.load(ctl, STOP) !== 0) return -1;
    const i = Atomics.add(ctl, NEXT_INDEX, 1);
    return i < count ? i : -1;
  };

  await fetchOne(s.dispatcher, targetAt(s.urls, 0), s.request, s.deadlines); // warm-up: connection, JIT; not counted
  const checksum0 = s.tally.checksum;
  port.once('message', () => {
    const latencies: number[] = [];
    void runOneAtATime(s, next, (ms) => latencies.push(ms)).then(async ({ completed, failed }) => {
      const latenciesMs = Float64Array.from(latencies);
      port.postMessage({ type: 'done', completed, failed, checksum: s.tally.checksum ^ checksum0, latenciesMs }, [latenciesMs.buffer]);
      await s.close();
    });
  });
  port.postMessage({ type: 'ready' });
}
