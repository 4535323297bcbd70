// Bench options: declared once with defaults, read from flags, then BENCH_* env vars, then defaults.
// `parseOptions` is pure; a bad value throws a TypeError naming the option and quoting the value.
import { parseArgs } from 'node:util';

export const TOOL_NAMES = ['undici', 'dispatch', 'ratelimmq', 'curl'];
export const WORKLOAD_NAMES = ['w1', 'w2', 'w3', 'w4', 'w5', 'soak'];
/** The soak takes ~2.5 min on its own, so it runs only when asked for. */
export const DEFAULT_WORKLOADS = ['w1', 'w2', 'w3', 'w4', 'w5'];

/** Option -> { type, default, env, min, doc }. Counts are integers >= min; lists take `choices`. */
const SPEC = {
  workloads: { type: 'list', choices: WORKLOAD_NAMES, default: DEFAULT_WORKLOADS.join(','), env: 'BENCH_WORKLOADS', doc: `comma list of ${WORKLOAD_NAMES.join(', ')}` },
  runs: { type: 'int', default: 5, min: 1, env: 'BENCH_RUNS', doc: 'W1: measured repetitions per tool (alternating)' },
  urls: { type: 'int', default: 50_000, min: 1, env: 'BENCH_URLS', doc: 'W1: distinct URLs per run' },
  concurrency: { type: 'int', default: 100, min: 1, env: 'BENCH_CONCURRENCY', doc: 'W1: requests in flight per client' },
  hosts: { type: 'int', default: 4, min: 1, env: 'BENCH_HOSTS', doc: 'W1: loopback hosts of the target' },
  warmup: { type: 'int', default: 5_000, min: 0, env: 'BENCH_WARMUP', doc: 'W1: URLs of one unrecorded warm-up run per tool (0: none)' },
  'timeout-s': { type: 'int', default: 120, min: 1, env: 'BENCH_TIMEOUT_S', doc: 'a client run is killed after this many seconds (W4: 4x, soak: see --soak-max-minutes)' },
  'max-minutes': { type: 'int', default: 15, min: 1, env: 'BENCH_MAX_MINUTES', doc: 'W1: no new run starts after this many minutes' },
  tools: { type: 'list', choices: TOOL_NAMES, default: TOOL_NAMES.join(','), env: 'BENCH_TOOLS', doc: `W1 and W2: comma list of ${TOOL_NAMES.join(', ')}` },
  'w2-runs': { type: 'int', default: 3, min: 1, env: 'BENCH_W2_RUNS', doc: 'W2 latency-bound: runs per variant' },
  'w2-urls': { type: 'int', default: 20_000, min: 1, env: 'BENCH_W2_URLS', doc: 'W2: URLs per run (4 hosts, 50 ms, c=200)' },
  'w3-runs': { type: 'int', default: 3, min: 1, env: 'BENCH_W3_RUNS', doc: 'W3 rate accuracy: runs per case' },
  'w3-urls': { type: 'int', default: 10_000, min: 1, env: 'BENCH_W3_URLS', doc: 'W3: URLs per run (--rate 1000 / --per-host-rate 250 over 4 hosts)' },
  'w4-runs': { type: 'int', default: 3, min: 1, env: 'BENCH_W4_RUNS', doc: 'W4 memory: runs' },
  'w4-urls': { type: 'int', default: 1_000_000, min: 1, env: 'BENCH_W4_URLS', doc: 'W4: URLs piped on stdin per run' },
  'w5-runs': { type: 'int', default: 15, min: 1, env: 'BENCH_W5_RUNS', doc: 'W5 start-up: runs per command (interleaved)' },
  'soak-urls': { type: 'int', default: 1_000_000, min: 1, env: 'BENCH_SOAK_URLS', doc: 'soak: URLs piped on stdin (16 hosts)' },
  'soak-per-host-rate': { type: 'int', default: 500, min: 1, env: 'BENCH_SOAK_PER_HOST_RATE', doc: 'soak: --per-host-rate (x 16 hosts)' },
  'soak-max-minutes': { type: 'int', default: 6, min: 1, env: 'BENCH_SOAK_MAX_MINUTES', doc: 'soak: the client is killed after this many minutes' },
  'ratelimmq-args': { type: 'string', default: '', env: 'BENCH_RATELIMMQ_ARGS', doc: 'extra args for ratelimmq, split on spaces; use the = form: --ratelimmq-args="--no-results"' },
  'ratelimmq-bin': { type: 'string', default: 'bin/ratelimmq.js', env: 'BENCH_RATELIMMQ_BIN', doc: 'the ratelimmq entry point (another checkout, for A/B runs)' },
  out: { type: 'string', default: null, env: 'BENCH_OUT', doc: 'results JSON (default bench/results/latest.json, quick.json with --quick)' },
  'profile-dir': { type: 'string', default: null, env: 'BENCH_PROFILE_DIR', doc: 'with --profile: where .cpuprofile files go (default: a new temp dir)' },
};
const FLAGS = {
  quick: 'smoke check: every workload smaller and fewer runs, results/quick.json (explicit flags still win)',
  'no-pin': 'do not pin with taskset even when it exists',
  profile: 'instead of the comparison: one --cpu-prof run each of ratelimmq and raw undici, then a self-time summary',
  help: 'this text',
};
const QUICK = {
  urls: 5_000, runs: 2, warmup: 500, 'w2-runs': 1, 'w2-urls': 4_000, 'w3-runs': 1, 'w3-urls': 2_000,
  'w4-runs': 1, 'w4-urls': 100_000, 'w5-runs': 5, 'soak-urls': 100_000,
};

export function usage() {
  const rows = [
    ...Object.entries(SPEC).map(([k, s]) => `  --${k} <${s.type === 'int' ? 'n' : 'value'}>`.padEnd(30) + `${s.doc} (default ${s.default === null ? 'see text' : s.default === '' ? 'none' : s.default}; env ${s.env})`),
    ...Object.entries(FLAGS).map(([k, doc]) => `  --${k}`.padEnd(30) + doc),
  ];
  return `usage: node bench/run.mjs [options]   (npm run bench -- [options])\n${rows.join('\n')}\n`;
}

function toValue(name, raw) {
  const s = SPEC[name];
  if (s.type === 'int') {
    const n = Number(raw);
    if (!/^\s*\d+\s*$/.test(String(raw)) || !Number.isSafeInteger(n) || n < s.min) {
      throw new TypeError(`--${name} must be an integer >= ${s.min}, got ${JSON.stringify(raw)}`);
    }
    return n;
  }
  if (s.type === 'list') {
    const list = String(raw).split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
    const bad = list.filter((t) => !s.choices.includes(t));
    if (list.length === 0 || bad.length > 0) throw new TypeError(`--${name} takes a comma list of ${s.choices.join(', ')}, got ${JSON.stringify(raw)}`);
    return [...new Set(list)];
  }
  return raw;
}

/** argv (without node and script) and env -> resolved options. */
export function parseOptions(argv, env = {}) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(Object.keys(SPEC).map((k) => [k, { type: 'string' }])),
      ...Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'boolean' }])),
    },
  });
  const quick = values.quick === true;
  const opts = { quick, pin: values['no-pin'] !== true, profile: values.profile === true, help: values.help === true };
  for (const [name, s] of Object.entries(SPEC)) {
    const raw = values[name] ?? env[s.env] ?? (quick && name in QUICK ? QUICK[name] : s.default);
    opts[name] = raw === null ? null : toValue(name, raw);
  }
  return opts;
}
