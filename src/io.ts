/** The outside world as the CLI sees it; tests pass their own. */
export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Subscribes to SIGINT/SIGTERM; returns the unsubscribe function. */
  onSignal(signal: 'SIGINT' | 'SIGTERM', fn: () => void): () => void;
}

/** The real process streams and signals. */
export function processIo(): Io {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onSignal(signal, fn) {
      process.on(signal, fn);
      return () => process.off(signal, fn);
    },
  };
}

/** A usage error: cli.ts prints its message as one line and exits 2, before any request is sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}
