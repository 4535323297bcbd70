// The workloads besides W1 (which lives in bench/run.mjs), and the summary over all of them.
// A workload module: { title, run(env) -> { section, text, ok }, format(section) -> string,
// headline(section) -> { figures, goals } }. `env` is built in run.mjs (options, target control,
// runOnce, inputs). Its section goes under its own key of the results file.
import * as w2 from './w2-latency.mjs';
import * as w3 from './w3-rate.mjs';
import * as w4 from './w4-memory.mjs';
import * as w5 from './w5-startup.mjs';
import * as soak from './soak.mjs';
import { formatRows } from './table.mjs';

export const WORKLOADS = { w2, w3, w4, w5, soak };

/** W1's keys, at the top level of the results file since before the other workloads existed. */
export const W1_KEYS = ['date', 'durationS', 'incomplete', 'machine', 'method', 'options', 'commands', 'medians', 'ratios', 'pairedRatios', 'warning', 'markdown', 'runs'];

/** Our own floor (a naive undici loop), and issue 4's goal: at least curl --parallel's req/s. */
const W1_GOAL = 0.85;
const W1_CURL_GOAL = 1;

function w1Headline(r) {
  const rq = r.medians?.ratelimmq;
  const pairedOf = (name) => r.pairedRatios?.[name]?.reqPerS ?? null;
  const paired = pairedOf('ratelimmq / raw undici');
  const vsCurl = pairedOf('ratelimmq / curl');
  const ofMedians = r.ratios?.['ratelimmq / raw undici']?.reqPerS ?? null;
  const goals = {};
  if (paired !== null) goals.throughput = { goal: `ratelimmq >= ${W1_GOAL}x raw undici req/s (paired)`, value: paired, met: paired >= W1_GOAL };
  if (vsCurl !== null) goals.vsCurl = { goal: `ratelimmq >= ${W1_CURL_GOAL}x curl --parallel req/s (paired)`, value: vsCurl, met: vsCurl >= W1_CURL_GOAL };
  const dispatch = r.medians?.dispatch;
  return {
    figures:
      `ratelimmq ${rq?.reqPerS ?? '-'} req/s, raw undici ${r.medians?.undici?.reqPerS ?? '-'}` +
      (dispatch ? `, raw dispatch ${dispatch.reqPerS}` : '') +
      `, curl ${r.medians?.curl?.reqPerS ?? '-'}; ratelimmq/undici ${paired ?? '-'}x (paired; ${ofMedians ?? '-'}x of medians), ratelimmq/curl ${vsCurl ?? '-'}x` +
      (pairedOf('raw dispatch / curl') !== null ? `, raw dispatch/curl ${pairedOf('raw dispatch / curl')}x` : '') +
      `; CPU/10k ratelimmq ${rq?.cpuPer10kS ?? '-'} s` +
      (dispatch ? `, raw dispatch ${dispatch.cpuPer10kS ?? '-'}` : '') +
      `, curl ${r.medians?.curl?.cpuPer10kS ?? '-'}`,
    goals: Object.keys(goals).length === 0 ? null : goals,
  };
}

/** Headline figures and goals per workload present in the results (each from its own latest run). */
export function buildSummary(result) {
  const out = {};
  if (result.medians) out.w1 = { date: result.date, title: 'W1 throughput (50k URLs, 4 hosts, c=100)', ...w1Headline(result) };
  for (const [name, mod] of Object.entries(WORKLOADS)) {
    if (result[name]) out[name] = { date: result[name].date, title: mod.title, ...mod.headline(result[name]) };
  }
  return out;
}

/** The summary as a Markdown-friendly table: workload, date, headline figures, goals met. */
export function formatSummaryTable(summary) {
  const goalText = (goals) => {
    if (!goals) return 'no goal set';
    return Object.entries(goals).map(([k, g]) => `${k} ${g.met ? 'met' : 'MISSED'}`).join(', ');
  };
  const rows = Object.entries(summary).map(([k, s]) => `| ${k} | ${s.date?.slice(0, 16).replace('T', ' ') ?? '-'} | ${s.figures} | ${goalText(s.goals)} |`);
  return ['| workload | run (UTC) | headline (medians) | goals |', '|---|---|---|---|', ...rows].join('\n');
}

