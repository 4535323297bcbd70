/**
 * The progress line on stderr (cli-progress). It only reads live numbers on a timer; the pipeline
 * never waits for it. Loaded lazily: most runs in pipelines and CI never show it.
 */
export interface ProgressNumbers {
  done: number;
  failed: number;
  inFlight: number;
  /** Requests per second lately. */
  rps: number;
  /** Fraction of the input consumed (0..1) when its size is known, else null. */
  fraction: number | null;
}

export interface Progress {
  stop(): void;
}

export async function startProgress(stream: NodeJS.WritableStream, read: () => ProgressNumbers, color: boolean): Promise<Progress> {
  const { SingleBar } = (await import('cli-progress')).default;
  const first = read();
  const known = first.fraction !== null;
  const tail = '{done} done | {rps} req/s | {inflight} in flight | {failed} failed';
  const bar = new SingleBar({
    stream,
    format: known ? `{bar} {percentage}% | ${tail} | ETA {eta_formatted}` : tail,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
    barCompleteChar: color ? '\u2588' : '#',
    barIncompleteChar: color ? '\u2591' : '-',
    // --progress on a pipe or file: one line per update instead of nothing.
    noTTYOutput: true,
    notTTYSchedule: 2000,
  });
  const payload = (n: ProgressNumbers) => ({ done: n.done, rps: Math.round(n.rps), inflight: n.inFlight, failed: n.failed });
  bar.start(1000, 0, payload(first));
  const timer = setInterval(() => {
    const n = read();
    bar.update(Math.round((n.fraction ?? 0) * 1000), payload(n));
  }, 200);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const n = read();
      bar.update(Math.round((n.fraction ?? 0) * 1000), payload(n));
      bar.stop();
    },
  };
}
