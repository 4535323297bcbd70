// Aggregation and rendering of the bench runs. Pure: records in, numbers and strings out.

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const round = (x, digits) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Medians over a tool's valid runs: req/s, wall s, CPU s per 10k requests, peak RSS MB. */
export function toolMedians(runs) {
  const valid = runs.filter((r) => r.valid);
  return {
    runs: runs.length,
    validRuns: valid.length,
    reqPerS: round(median(valid.map((r) => r.reqPerS)), 0),
    minReqPerS: valid.length ? round(Math.min(...valid.map((r) => r.reqPerS)), 0) : null,
    maxReqPerS: valid.length ? round(Math.max(...valid.map((r) => r.reqPerS)), 0) : null,
    wallS: round(median(valid.map((r) => r.wallS)), 3),
    cpuPer10kS: round(median(valid.map((r) => r.cpuPer10kS)), 3),
    peakRssMb: round(median(valid.map((r) => r.peakRssMb)), 1),
    cpuShare: round(median(valid.map((r) => r.cpuShare)), 2),
  };
}

/** a / b for the metrics that have both, rounded to 0.01 ("x times"). */
export function ratio(a, b) {
  if (!a || !b) return null;
  const r = (k) => (a[k] && b[k] ? round(a[k] / b[k], 2) : null);
  return { reqPerS: r('reqPerS'), cpuPer10kS: r('cpuPer10kS'), peakRssMb: r('peakRssMb') };
}

/** Median over repetitions of (run of a) / (run of b) within the same repetition; both valid. */
export function pairedRatio(runs, a, b) {
  const reps = [...new Set(runs.map((r) => r.rep))];
  const pairs = reps
    .map((rep) => [runs.find((r) => r.rep === rep && r.tool === a), runs.find((r) => r.rep === rep && r.tool === b)])
    .filter(([x, y]) => x?.valid && y?.valid);
  if (pairs.length === 0) return null;
  const med = (k) => {
    const m = median(pairs.map(([x, y]) => (x[k] && y[k] ? x[k] / y[k] : null)));
    return m === null ? null : round(m, 2);
  };
  return { reqPerS: med('reqPerS'), cpuPer10kS: med('cpuPer10kS'), peakRssMb: med('peakRssMb') };
}

const fmt = (x, digits = 0) => (x === null || x === undefined ? '-' : x.toFixed(digits));

/** The medians table as aligned text. */
export function formatTable(medians, labels) {
  const header = ['tool', 'valid runs', 'req/s (median)', 'req/s min..max', 'wall s', 'CPU s / 10k req', 'peak RSS MB', 'CPU share'];
  const rows = Object.entries(medians).map(([name, m]) => [
    labels[name] ?? name, `${m.validRuns}/${m.runs}`, fmt(m.reqPerS), `${fmt(m.minReqPerS)}..${fmt(m.maxReqPerS)}`,
    fmt(m.wallS, 2), fmt(m.cpuPer10kS, 3), fmt(m.peakRssMb, 1), fmt(m.cpuShare, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * A warning when a node client got well under one CPU while it ran (CPU share = client CPU s /
 * wall s): it was waiting for other processes, so req/s is noisy and CPU per request is the
 * steadier comparison. Null when the runs look clean.
 */
export function noiseWarning(medians) {
  const low = Object.entries(medians).filter(([name, m]) => name !== 'curl' && m.cpuShare !== null && m.cpuShare < 0.85);
  if (low.length === 0) return null;
  return (
    `note: ${low.map(([n, m]) => `${n} CPU share ${m.cpuShare}`).join(', ')} (< 0.85): the clients waited for the CPU, ` +
    'likely other processes on a shared machine; req/s is noisy here, compare CPU s / 10k req (and the per-repetition ratios).'
  );
}

/** One line per ratio, e.g. "ratelimmq / raw undici: req/s 0.91x, CPU/10k 1.30x, RSS 1.50x". */
export function formatRatios(ratios) {
  return Object.entries(ratios)
    .filter(([, r]) => r)
    .map(([name, r]) => `${name}: req/s ${fmt(r.reqPerS, 2)}x, CPU per 10k req ${fmt(r.cpuPer10kS, 2)}x, peak RSS ${fmt(r.peakRssMb, 2)}x`)
    .join('\n');
}

export const MARKDOWN_HEADER =
  '| date | node | CPU | URLs × hosts, concurrency | raw undici req/s | ratelimmq req/s | ratelimmq / undici | curl --parallel req/s | ratelimmq CPU s / 10k req | ratelimmq peak RSS MB |\n' +
  '|---|---|---|---|---:|---:|---:|---:|---:|---:|';

/** One README table row (see MARKDOWN_HEADER). */
export function markdownRow({ date, node, cpu, pinned, options, medians, ratios }) {
  const m = (name, k, d = 0) => fmt(medians[name]?.[k] ?? null, d);
  const cores = pinned ? ', pinned' : '';
  return `| ${date.slice(0, 10)} | ${node} | ${cpu}${cores} | ${options.urls} × ${options.hosts}, c=${options.concurrency} | ${m('undici', 'reqPerS')} | ${m('ratelimmq', 'reqPerS')} | ${fmt(ratios['ratelimmq / raw undici']?.reqPerS ?? null, 2)} | ${m('curl', 'reqPerS')} | ${m('ratelimmq', 'cpuPer10kS', 3)} | ${m('ratelimmq', 'peakRssMb', 1)} |`;
}
