// What this machine offers the bench. Every probe is optional: a missing tool is reported and
// skipped, never an error.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';

const ok = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000, ...opts });
  return r.status === 0 ? r : null;
};

/** taskset prefixes { target, client } when taskset exists and CPUs 0 and 1 are both usable, else null. */
export function probePinning() {
  if (availableParallelism() < 2) return { prefixes: null, why: 'fewer than 2 CPUs available' };
  if (!ok('taskset', ['-c', '0', 'true']) || !ok('taskset', ['-c', '1', 'true'])) {
    return { prefixes: null, why: 'taskset not found (Debian: apt-get install util-linux) or CPUs 0/1 not allowed' };
  }
  return { prefixes: { target: ['taskset', '-c', '1'], client: ['taskset', '-c', '0'] }, why: 'target on CPU 1, clients on CPU 0' };
}

/** Path of a GNU time that understands -f and -o, or null. */
export function probeGnuTime() {
  for (const bin of ['/usr/bin/time']) {
    if (ok(bin, ['-f', '%M', '-o', '/dev/null', 'true'])) return bin;
  }
  return null;
}

/** curl's first version line, or null when curl is missing or has no --parallel (needs 7.66+). */
export function probeCurl() {
  const r = ok('curl', ['--version']);
  if (!r) return null;
  const first = r.stdout.split('\n')[0];
  const m = /^curl (\d+)\.(\d+)/.exec(first);
  if (m && (Number(m[1]) < 7 || (Number(m[1]) === 7 && Number(m[2]) < 66))) return null;
  return first;
}

/** True when `ratelimmq fetch --help` describes the fetch command (i.e. it exists in dist/). */
export function probeRatelimmqFetch(repoDir, bin = 'bin/ratelimmq.js') {
  const r = ok(process.execPath, [bin, 'fetch', '--help'], { cwd: repoDir });
  return r !== null && /Usage: ratelimmq fetch/.test(r.stdout);
}

export function machineFacts(repoDir) {
  let cpuModel = null;
  try {
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? null;
  } catch {
    // not Linux
  }
  let undiciVersion = null;
  try {
    undiciVersion = JSON.parse(readFileSync(`${repoDir}/node_modules/undici/package.json`, 'utf8')).version;
  } catch {
    // not installed
  }
  return {
    node: process.version,
    undici: undiciVersion,
    platform: `${process.platform} ${release()}`,
    cpuModel,
    cpus: availableParallelism(),
    loadavgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
