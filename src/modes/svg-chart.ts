/**
 * A tiny dependency-free SVG line chart: x on a log scale (concurrency), y linear from 0 (req/s),
 * one line per series, a legend and axis labels. Pure: options in, SVG text out.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** Drawn dashed (e.g. a reference that does not depend on x). */
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  /** A smaller second line under the title. */
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** Pixels; defaults 840 x 440. */
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const MARGIN = { left: 72, right: 200, top: 64, bottom: 56 };

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round step (1, 2 or 5 times a power of ten) that cuts [0, max] into about `count` parts. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** 950 -> "950", 12000 -> "12k", 2500 -> "2.5k". */
export function formatTick(n: number): string {
  if (Math.abs(n) >= 1000) return `${Number((n / 1000).toFixed(1))}k`;
  return String(Number(n.toFixed(2)));
}

const fmt = (n: number): string => n.toFixed(1);

/** Renders the chart as a standalone SVG document. */
export function renderLineChart(o: ChartOptions): string {
  const width = o.width ?? 840;
  const height = o.height ?? 440;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const series = o.series.map((s) => ({ ...s, points: s.points.filter((p) => p.x > 0 && Number.isFinite(p.x) && Number.isFinite(p.y)) }));
  const all = series.flatMap((s) => s.points);
  const xs = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);

  let lo = xs.length ? Math.log10(xs[0]!) : 0;
  let hi = xs.length ? Math.log10(xs[xs.length - 1]!) : 1;
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const yStep = niceStep(Math.max(0, ...all.map((p) => p.y)));
  const yMax = Math.max(yStep, Math.ceil(Math.max(0, ...all.map((p) => p.y)) / yStep) * yStep);
  const px = (x: number): number => MARGIN.left + ((Math.log10(x) - lo) / (hi - lo)) * plotW;
  const py = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.subtitle) out.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555555">${escapeXml(o.subtitle)}</text>`);

  // Grid and y ticks.
  for (let y = 0; y <= yMax + yStep / 1e6; y += yStep) {
    out.push(`<line x1="${MARGIN.left}" y1="${fmt(py(y))}" x2="${MARGIN.left + plotW}" y2="${fmt(py(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${fmt(py(y) + 4)}" text-anchor="end">${formatTick(y)}</text>`);
  }
  // x ticks at the measured x values.
  for (const x of xs) {
    out.push(`<line x1="${fmt(px(x))}" y1="${MARGIN.top}" x2="${fmt(px(x))}" y2="${MARGIN.top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${fmt(px(x))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${formatTick(x)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);

  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 0) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${fmt(px(p.x))} ${fmt(py(p.y))}`).join(' ');
      out.push(`<path class="series" data-name="${escapeXml(s.name)}" d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const p of pts) out.push(`<circle cx="${fmt(px(p.x))}" cy="${fmt(py(p.y))}" r="3" fill="${color}"/>`);
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
