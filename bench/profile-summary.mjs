// Aggregates V8 .cpuprofile files (from `node --cpu-prof`) by function self time.
//
//   node bench/profile-summary.mjs <file.cpuprofile | dir> [--top 10] [--inclusive] [--callers NAME]
//
// A directory means every .cpuprofile in it (one per process/thread), summed. Prints the top
// functions by self time and the self time per area (ratelimmq's dist/, undici, other packages,
// node internals, GC, idle). --inclusive adds the top functions by total (self + callees) time;
// --callers NAME shows whose calls NAME's self time came from (3 frames up), e.g. for a native
// like writeLatin1String. The functions are also exported for bench/run.mjs --profile.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Paths of the .cpuprofile files at `path` (a file, or every one in a directory). */
export function profileFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => join(path, f));
}

/** Where a script URL lives, shortened for display: "dist/runner.js", "undici/lib/...", "node:internal/...". */
export function shortLocation(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  const bench = url.lastIndexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url.replace(/^file:\/\//, '');
}

/** The area a frame belongs to, for the per-area totals. */
export function areaOf(functionName, url) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (native/unattributed)';
    return 'native (no script)';
  }
  if (url.startsWith('node:')) return 'node internals';
  const loc = shortLocation(url);
  if (loc.startsWith('dist/')) return 'ratelimmq (dist/)';
  if (loc.startsWith('undici/')) return 'undici';
  if (url.includes('/node_modules/')) return `pkg:${loc.split('/')[0]}`;
  if (loc.startsWith('bench/')) return 'bench';
  return 'other';
}

/**
 * Self time in microseconds per function (keyed by name + location + line), summed over profiles.
 * A sample's duration is the gap to the next sample (the last sample gets the mean gap).
 * Returns { totalUs, functions: [{ name, location, area, selfUs }] sorted by selfUs desc }.
 */
export function aggregate(profiles) {
  const byKey = new Map();
  let totalUs = 0;
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const { samples = [], timeDeltas = [] } = p;
    const meanGap = samples.length > 0 ? (p.endTime - p.startTime) / samples.length : 0;
    for (let i = 0; i < samples.length; i++) {
      const gap = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : meanGap;
      const { functionName, url, lineNumber } = nodes.get(samples[i]).callFrame;
      const name = functionName || '(anonymous)';
      const location = url ? `${shortLocation(url)}:${lineNumber + 1}` : '';
      const key = `${name}\u0000${location}`;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { name, location, area: areaOf(functionName, url), selfUs: 0 }));
      entry.selfUs += Math.max(0, gap);
      totalUs += Math.max(0, gap);
    }
  }
  const functions = [...byKey.values()].sort((a, b) => b.selfUs - a.selfUs);
  return { totalUs, functions };
}

const frameLabel = ({ functionName, url, lineNumber }) =>
  `${functionName || '(anonymous)'}${url ? ` ${shortLocation(url)}:${lineNumber + 1}` : ''}`;

/**
 * Walks every sample's stack. `visit(stackNodes, gapUs)` gets the sampled node first, root last.
 * Same sample-duration rule as `aggregate`.
 */
function forEachSample(profiles, visit) {
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
    const { samples = [], timeDeltas = [] } = p;
    const meanGap = samples.length > 0 ? (p.endTime - p.startTime) / samples.length : 0;
    for (let i = 0; i < samples.length; i++) {
      const stack = [];
      for (let n = nodes.get(samples[i]); n; n = parent.get(n.id)) stack.push(n);
      visit(stack, Math.max(0, i + 1 < timeDeltas.length ? timeDeltas[i + 1] : meanGap));
    }
  }
}

/** Total (inclusive) time per function, counted once per sample even when recursive: [{ label, us }]. */
export function inclusive(profiles) {
  const m = new Map();
  forEachSample(profiles, (stack, gap) => {
    const seen = new Set(stack.map((n) => frameLabel(n.callFrame)));
    for (const label of seen) m.set(label, (m.get(label) ?? 0) + gap);
  });
  return [...m].map(([label, us]) => ({ label, us })).sort((a, b) => b.us - a.us);
}

/** Self time of functions named `name`, by the chain of up to `depth` callers: [{ chain, us }]. */
export function callers(profiles, name, depth = 3) {
  const m = new Map();
  forEachSample(profiles, (stack, gap) => {
    if ((stack[0].callFrame.functionName || '(anonymous)') !== name) return;
    const chain = stack.slice(1, depth + 1).map((n) => frameLabel(n.callFrame)).join(' <- ');
    m.set(chain, (m.get(chain) ?? 0) + gap);
  });
  return [...m].map(([chain, us]) => ({ chain, us })).sort((a, b) => b.us - a.us);
}

/** Self time per area, largest first: [{ area, selfUs }]. */
export function byArea({ functions }) {
  const m = new Map();
  for (const f of functions) m.set(f.area, (m.get(f.area) ?? 0) + f.selfUs);
  return [...m].map(([area, selfUs]) => ({ area, selfUs })).sort((a, b) => b.selfUs - a.selfUs);
}

/** Reads and aggregates every profile at `path`. */
export function summarise(path) {
  const files = profileFiles(path);
  const agg = aggregate(files.map((f) => JSON.parse(readFileSync(f, 'utf8'))));
  return { files, ...agg, areas: byArea(agg) };
}

/** The summary as text (top `top` functions, then areas). Busy % excludes (idle). */
export function formatSummary(summary, top = 10) {
  const idleUs = summary.areas.find((a) => a.area === 'idle')?.selfUs ?? 0;
  const busyUs = summary.totalUs - idleUs;
  const pct = (us) => `${((100 * us) / (busyUs || 1)).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [
    `${summary.files.length} profile(s); sampled ${(summary.totalUs / 1e6).toFixed(2)} s, busy ${(busyUs / 1e6).toFixed(2)} s (% below are of busy time)`,
    `top ${top} by self time (idle excluded):`,
  ];
  for (const f of summary.functions.filter((f) => f.area !== 'idle').slice(0, top)) {
    lines.push(`  ${ms(f.selfUs)} ${pct(f.selfUs)}  ${f.name}  ${f.location}`);
  }
  lines.push('self time by area:');
  for (const a of summary.areas.filter((a) => a.area !== 'idle')) lines.push(`  ${ms(a.selfUs)} ${pct(a.selfUs)}  ${a.area}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  const args = process.argv.slice(2);
  const take = (flag) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args.splice(at, 2)[1] : undefined;
  };
  const top = Number(take('--top') ?? 10);
  const callersOf = take('--callers');
  const inclAt = args.indexOf('--inclusive');
  const withInclusive = inclAt >= 0 && args.splice(inclAt, 1).length > 0;
  if (args.length !== 1 || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile | dir> [--top N] [--inclusive] [--callers NAME]\n');
    process.exit(2);
  }
  const summary = summarise(args[0]);
  const out = [formatSummary(summary, top)];
  const profiles = summary.files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  if (withInclusive) {
    out.push(`top ${top} by total time (self + callees):`);
    for (const f of inclusive(profiles).filter((f) => !f.label.startsWith('(root)')).slice(0, top)) out.push(`  ${ms(f.us)}  ${f.label}`);
  }
  if (callersOf) {
    out.push(`self time of ${callersOf} by caller chain:`);
    for (const c of callers(profiles, callersOf).slice(0, top)) out.push(`  ${ms(c.us)}  ${c.chain}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
