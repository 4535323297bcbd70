// The local target (fixtures/target.mjs) in its own process, so it never shares an event loop
// or, when pinning, a CPU with the client being measured.
//
// Protocol (see fixtures/target.mjs): stdin must be a pipe (the target exits when it closes);
// stdout is JSON lines: {"bases":[...]} once listening, {"stats":{...}} per "stats" line we send,
// {"times":{...}} per "times" line (only meaningful with --record-times).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { processCpuS } from './measure.mjs';

const READY_TIMEOUT_MS = 15_000;
const STATS_TIMEOUT_MS = 5_000;

/**
 * Starts the target and resolves once it listens.
 * `prefix` is the command that pins it (e.g. ['taskset', '-c', '1']), or [] for none.
 * `extraArgs`: more target flags, e.g. ['--jitter', '5', '--error-rate', '0.01', '--record-times'].
 * Returns { pid, bases, args, stats(), snapshot(), reset(), times(), stop(), exited() }; stop() is
 * idempotent and safe to call from signal handlers.
 */
export async function startTarget({ repoDir, hosts, latencyMs, prefix = [], extraArgs = [] }) {
  const args = [...prefix, process.execPath, 'fixtures/target.mjs', '--hosts', String(hosts), '--latency', String(latencyMs), ...extraArgs];
  const child = spawn(args[0], args.slice(1), { cwd: repoDir, stdio: ['pipe', 'pipe', 'inherit'] });
  // Writing "stats" after the target died must not crash the bench.
  child.stdin.on('error', () => {});

  const waiters = []; // { match(obj) -> boolean, resolve, reject }
  let exited = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let obj;
    try {
      obj = JSON.parse(line);
    } catch {
      return;
    }
    const i = waiters.findIndex((w) => w.match(obj));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(obj);
  });
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of waiters.splice(0)) w.reject(new Error(`target exited (code ${code}, signal ${signal})`));
  });
  child.on('error', (err) => {
    for (const w of waiters.splice(0)) w.reject(err);
  });

  function waitFor(match, timeoutMs, what) {
    if (exited) return Promise.reject(new Error(`target exited (code ${exited.code}) before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`target: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        match,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  const stop = () => {
    if (exited || child.pid === undefined) return;
    child.stdin.end();
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };

  try {
    const { bases } = await waitFor((o) => Array.isArray(o.bases), READY_TIMEOUT_MS, 'ready line');
    const snapshot = async () => {
      const reply = waitFor((o) => o.stats !== undefined, STATS_TIMEOUT_MS, 'stats reply');
      child.stdin.write('stats\n');
      return (await reply).stats;
    };
    return {
      pid: child.pid,
      bases,
      args: args.slice(prefix.length).join(' '),
      /** Counters across all hosts: { requests, inFlight, maxInFlight, aborted, statuses }. */
      async stats() {
        return (await snapshot()).total;
      },
      /** { total, hosts: [{ base, requests, ... }] }. */
      snapshot,
      /** CPU seconds the target has used so far, or null off Linux. */
      cpuS: () => processCpuS(child.pid),
      /** Raw arrival times per host (needs --record-times): [{ base, count, ms: [...] }]. */
      async times() {
        const reply = waitFor((o) => o.times !== undefined, STATS_TIMEOUT_MS, 'times reply');
        child.stdin.write('times\n');
        const { times } = await reply;
        if (times.error) throw new Error(`target: ${times.error}`);
        return times.hosts;
      },
      /** Zeroes the counters (except in-flight), so maxInFlight is per run. */
      async reset() {
        const reply = waitFor((o) => o.reset === true, STATS_TIMEOUT_MS, 'reset reply');
        child.stdin.write('reset\n');
        await reply;
      },
      stop,
      /** Resolves when the process has exited (after stop()). */
      exited: () => (exited ? Promise.resolve() : new Promise((r) => child.once('exit', r))),
    };
  } catch (err) {
    stop();
    throw err;
  }
}
