// Runs one client process and measures it: wall time (spawn to exit, as seen by the bench),
// CPU seconds of the process and its descendants, peak RSS. Every child runs in its own process
// group so a timeout (or Ctrl-C of the bench) can end it and anything it started, by pid.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const STDOUT_CAP_BYTES = 32 * 1024 * 1024;
const STDERR_TAIL_BYTES = 4096;
const KILL_GRACE_MS = 3_000;
const RSS_POLL_MS = 25;

const active = new Set(); // pids (= process group ids) of running clients

/** Ends every running client's process group. For exit and signal paths. */
export function killAllClients(signal = 'SIGKILL') {
  for (const pid of active) killGroup(pid, signal);
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
}

let clockTicks;
/** Clock ticks per second for /proc stat fields (getconf CLK_TCK; 100 on every Linux we know). */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds (user+sys) of this process's waited-for children so far (cutime+cstime), or null
 * off Linux. The delta around one client run is that client plus every descendant it waited for.
 */
export function reapedChildrenCpuS() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); cutime is field 16, cstime field 17.
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** CPU seconds (user+sys) a live process has used so far, from /proc/<pid>/stat, or null. */
export function processCpuS(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** VmHWM (peak resident set) of a live process in KB, or null. */
function peakRssKb(pid) {
  return statusKb(pid, 'VmHWM');
}

/** A `Vm*:` line of /proc/<pid>/status in KB (VmRSS: resident now, VmHWM: peak), or null. */
export function statusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Spawns argv and resolves when it exits (never rejects for the child's own failures).
 * Options: cwd, env, timeoutMs, pollRss (sample /proc/<pid>/status VmHWM while it runs; only
 * meaningful when argv execs straight into the measured program, e.g. via taskset);
 * input (an iterable or async iterable of strings piped into the child's stdin with backpressure:
 * the next chunk is produced only when the pipe has room; default: stdin is /dev/null);
 * rssSampleMs (sample VmRSS every so many ms into `rssSamples`: [{ tMs since spawn, kb }]).
 * Resolves { wallS, code, signal, timedOut, spawnError, stdout, stderrTail, cpuS, polledPeakRssKb,
 * rssSamples, inputError }.
 */
export function runMeasured(argv, { cwd, env, timeoutMs, pollRss = false, input = null, rssSampleMs = 0 }) {
  return new Promise((resolve) => {
    const cpuBefore = reapedChildrenCpuS();
    const startNs = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let inputError = null;
    if (input && child.stdin) {
      // A child that exits early (or is killed) breaks the pipe: that ends the feeding, nothing more.
      pipeline(Readable.from(input, { objectMode: false }), child.stdin).catch((err) => {
        inputError = err.code ?? err.message;
      });
    }
    const rssSamples = [];
    const sampler = rssSampleMs > 0 && child.pid !== undefined
      ? setInterval(() => {
          const kb = statusKb(child.pid, 'VmRSS');
          if (kb !== null) rssSamples.push({ tMs: Math.round(Number(process.hrtime.bigint() - startNs) / 1e6), kb });
        }, rssSampleMs)
      : null;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError = null;
    let polledPeakRssKb = null;
    child.stdout.setEncoding('utf8').on('data', (s) => {
      if (stdout.length < STDOUT_CAP_BYTES) stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s) => {
      stderr = (stderr + s).slice(-STDERR_TAIL_BYTES);
    });
    if (child.pid !== undefined) active.add(child.pid);

    const poll = pollRss && child.pid !== undefined
      ? setInterval(() => {
          const kb = peakRssKb(child.pid);
          if (kb !== null) polledPeakRssKb = Math.max(polledPeakRssKb ?? 0, kb);
        }, RSS_POLL_MS)
      : null;
    let hardKill = null;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      hardKill = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);

    child.on('error', (err) => {
      spawnError = err.message;
    });
    // 'close' (not 'exit'): all output has been read by then.
    child.on('close', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - startNs) / 1e9;
      clearTimeout(timer);
      clearTimeout(hardKill);
      clearInterval(poll);
      clearInterval(sampler);
      active.delete(child.pid);
      // Anything the client left behind in its group goes too (normally nothing).
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      const cpuAfter = reapedChildrenCpuS();
      const cpuS = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      resolve({ wallS, code, signal, timedOut, spawnError, stdout, stderrTail: stderr, cpuS, polledPeakRssKb, rssSamples, inputError });
    });
  });
}
