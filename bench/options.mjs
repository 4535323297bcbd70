// Bench options: declared once with defaults, read from flags, then BENCH_* env vars, then defaults.
// `parseOptions` is pure; a bad value throws a TypeError naming the option and quoting the value.
import { parseArgs } from 'node:util';

export const TOOL_NAMES = ['undici', 'ratelimmq', 'curl'];

/** Option -> { type, default, env, min, doc }. Counts are integers >= min. */
const SPEC = {
  runs: { type: 'int', default: 5, min: 1, env: 'BENCH_RUNS', doc: 'measured repetitions per tool (alternating)' },
  urls: { type: 'int', default: 50_000, min: 1, env: 'BENCH_URLS', doc: 'distinct URLs per run' },
  concurrency: { type: 'int', default: 100, min: 1, env: 'BENCH_CONCURRENCY', doc: 'requests in flight per client' },
  hosts: { type: 'int', default: 4, min: 1, env: 'BENCH_HOSTS', doc: 'loopback hosts of the target' },
  warmup: { type: 'int', default: 5_000, min: 0, env: 'BENCH_WARMUP', doc: 'URLs of one unrecorded warm-up run per tool (0: none)' },
  'timeout-s': { type: 'int', default: 120, min: 1, env: 'BENCH_TIMEOUT_S', doc: 'a client run is killed after this many seconds' },
  'max-minutes': { type: 'int', default: 15, min: 1, env: 'BENCH_MAX_MINUTES', doc: 'no new run starts after this many minutes' },
  tools: { type: 'list', default: TOOL_NAMES.join(','), env: 'BENCH_TOOLS', doc: `comma list of ${TOOL_NAMES.join(', ')}` },
  'ratelimmq-args': { type: 'string', default: '', env: 'BENCH_RATELIMMQ_ARGS', doc: 'extra args for ratelimmq, split on spaces; use the = form: --ratelimmq-args="--no-results"' },
  'ratelimmq-bin': { type: 'string', default: 'bin/ratelimmq.js', env: 'BENCH_RATELIMMQ_BIN', doc: 'the ratelimmq entry point (another checkout, for A/B runs)' },
  out: { type: 'string', default: null, env: 'BENCH_OUT', doc: 'results JSON (default bench/results/latest.json, quick.json with --quick)' },
  'profile-dir': { type: 'string', default: null, env: 'BENCH_PROFILE_DIR', doc: 'with --profile: where .cpuprofile files go (default: a new temp dir)' },
};
const FLAGS = {
  quick: 'smoke check: 5,000 URLs, 2 runs, 500-URL warm-up (explicit flags still win)',
  'no-pin': 'do not pin with taskset even when it exists',
  profile: 'instead of the comparison: one --cpu-prof run each of ratelimmq and raw undici, then a self-time summary',
  help: 'this text',
};
const QUICK = { urls: 5_000, runs: 2, warmup: 500 };

export function usage() {
  const rows = [
    ...Object.entries(SPEC).map(([k, s]) => `  --${k} <${s.type === 'int' ? 'n' : 'value'}>`.padEnd(28) + `${s.doc} (default ${s.default === null ? 'see text' : s.default === '' ? 'none' : s.default}; env ${s.env})`),
    ...Object.entries(FLAGS).map(([k, doc]) => `  --${k}`.padEnd(28) + doc),
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
    const list = String(raw).split(',').map((t) => t.trim()).filter(Boolean);
    const bad = list.filter((t) => !TOOL_NAMES.includes(t));
    if (list.length === 0 || bad.length > 0) throw new TypeError(`--${name} takes a comma list of ${TOOL_NAMES.join(', ')}, got ${JSON.stringify(raw)}`);
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
