// Pure number crunching for the workloads: latency percentiles, arrival-time buckets (W3), RSS
// over time (W4, soak). Arrays in, plain objects out; no I/O, no clocks.

const round = (x, digits) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** { count, p50, p90, p99, max } in ms (0.01) of latencies in ms; null when there are none. */
export function latencySummaryMs(xs) {
  if (xs.length === 0) return null;
  const v = Float64Array.from(xs).sort();
  const at = (p) => round(percentile(v, p), 2);
  return { count: v.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

/** mean, min, max, population standard deviation and CV (stdev / mean) of numbers. */
export function spread(xs) {
  if (xs.length === 0) return { n: 0, mean: null, min: null, max: null, stdev: null, cv: null };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  const stdev = Math.sqrt(variance);
  return { n: xs.length, mean: round(mean, 2), min: Math.min(...xs), max: Math.max(...xs), stdev: round(stdev, 2), cv: mean > 0 ? round(stdev / mean, 4) : null };
}

/**
 * Counts of `timesMs` per `bucketMs` window from `originMs`, with the first and the last bucket
 * dropped (the first holds the start-up, the last is cut short by the end of the run).
 */
export function fullBuckets(timesMs, originMs, bucketMs) {
  const counts = [];
  for (const t of timesMs) {
    const k = Math.floor((t - originMs) / bucketMs);
    while (counts.length <= k) counts.push(0);
    counts[k]++;
  }
  return counts.slice(1, -1);
}

/**
 * Achieved rate and evenness of one stream of arrival times (ms, any order) against a target
 * rate: rate = (n - 1) intervals / (last - first) (n / span would overstate it by 1/n);
 * buckets from `originMs` (default: the first arrival), first and last dropped.
 */
export function arrivalStats(timesMs, targetPerS, { bucketMs = 100, originMs } = {}) {
  const t = Float64Array.from(timesMs).sort();
  const n = t.length;
  if (n < 2) return { n, spanS: null, achievedPerS: null, errorPct: null, buckets: spread([]) };
  const spanMs = t[n - 1] - t[0];
  const achievedPerS = ((n - 1) * 1000) / spanMs;
  const buckets = fullBuckets(t, originMs ?? t[0], bucketMs);
  return {
    n,
    spanS: round(spanMs / 1000, 3),
    achievedPerS: round(achievedPerS, 2),
    errorPct: round(((achievedPerS - targetPerS) / targetPerS) * 100, 3),
    expectedPerBucket: (targetPerS * bucketMs) / 1000,
    buckets: spread(buckets),
    // Buckets more than 10% away from the expected count (shows where unevenness sits).
    bucketsOff10Pct: buckets.filter((c) => Math.abs(c - (targetPerS * bucketMs) / 1000) > (targetPerS * bucketMs) / 10_000).length,
    // Bursts the buckets cannot show (the first bucket is dropped): the densest 10 ms anywhere,
    // against what the rate allows in 10 ms with burst 1.
    maxIn10ms: { ...maxInWindow(t, 10), allowed: Math.ceil((targetPerS * 10) / 1000) + 1 },
    firstGapsMs: Array.from(t.subarray(1, 11), (x, i) => round(x - t[i], 2)),
  };
}

/**
 * The most arrivals in any window of `windowMs` (sliding), and when it began (ms after the first
 * arrival). A rate limit of r/s with burst b allows about r * windowMs / 1000 + b.
 */
export function maxInWindow(sortedMs, windowMs) {
  let best = 0;
  let at = null;
  for (let lo = 0, hi = 0; hi < sortedMs.length; hi++) {
    while (sortedMs[hi] - sortedMs[lo] >= windowMs) lo++;
    if (hi - lo + 1 > best) {
      best = hi - lo + 1;
      at = sortedMs[lo] - sortedMs[0];
    }
  }
  return { count: best, atMs: at === null ? null : round(at, 1) };
}

/**
 * RSS samples [{ tMs, kb }] over a run of `durationMs`: overall peak, the peak of the first and of
 * the second half by time, and their ratio (second / first; <= 1.10 reads as "no growth").
 */
export function rssHalves(samples, durationMs) {
  const mb = (kb) => round(kb / 1024, 1);
  const half = durationMs / 2;
  const peak = (xs) => (xs.length ? Math.max(...xs.map((s) => s.kb)) : null);
  const first = peak(samples.filter((s) => s.tMs < half));
  const second = peak(samples.filter((s) => s.tMs >= half));
  return {
    samples: samples.length,
    peakMb: mb(peak(samples)),
    firstHalfPeakMb: first === null ? null : mb(first),
    secondHalfPeakMb: second === null ? null : mb(second),
    secondOverFirst: first && second ? round(second / first, 3) : null,
  };
}

/** Least-squares slope of RSS in MB per minute over the samples with fromMs <= tMs (null if < 3). */
export function rssSlopeMbPerMin(samples, fromMs = 0) {
  const s = samples.filter((x) => x.tMs >= fromMs);
  if (s.length < 3) return null;
  const xs = s.map((x) => x.tMs / 60_000);
  const ys = s.map((x) => x.kb / 1024);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den > 0 ? round(num / den, 2) : null;
}

/** Peak RSS (MB) in each of `parts` equal slices of the run, by time. */
export function rssPeaksBySlice(samples, durationMs, parts = 4) {
  return Array.from({ length: parts }, (_, i) => {
    const inSlice = samples.filter((s) => s.tMs >= (i * durationMs) / parts && s.tMs < ((i + 1) * durationMs) / parts);
    return inSlice.length ? round(Math.max(...inSlice.map((s) => s.kb)) / 1024, 1) : null;
  });
}
