import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, niceStep, renderLineChart, type ChartOptions } from '../../src/modes/svg-chart.js';

const base: ChartOptions = {
  title: 'req/s vs concurrency',
  xLabel: 'concurrency',
  yLabel: 'req/s',
  series: [
    { name: 'async', points: [{ x: 1, y: 100 }, { x: 10, y: 900 }, { x: 100, y: 4000 }, { x: 1000, y: 5000 }] },
    { name: 'threads', points: [{ x: 1, y: 90 }, { x: 10, y: 800 }, { x: 100, y: 1200 }, { x: 1000, y: 1200 }] },
    { name: 'sequential', dashed: true, points: [{ x: 1, y: 80 }, { x: 1000, y: 80 }] },
  ],
};

/** The numbers of a series' path: [[x, y], ...]. */
function pathPoints(svg: string, name: string): number[][] {
  const m = new RegExp(`data-name="${name}" d="([^"]+)"`).exec(svg);
  expect(m, `a path for ${name}`).not.toBeNull();
  return m![1]!.split(/(?=[ML])/).map((seg) => seg.slice(1).trim().split(' ').map(Number));
}

describe('niceStep', () => {
  it.each([
    [5000, 1000],
    [4200, 1000],
    [900, 200],
    [12, 5],
    [1, 0.2],
    [0, 1],
  ])('max %d -> step %d', (max, step) => {
    expect(niceStep(max)).toBeCloseTo(step);
  });
});

describe('formatTick', () => {
  it.each([
    [0, '0'],
    [950, '950'],
    [1000, '1k'],
    [2500, '2.5k'],
    [12000, '12k'],
    [0.2, '0.2'],
  ])('%d -> %s', (n, text) => {
    expect(formatTick(n)).toBe(text);
  });
});

describe('renderLineChart', () => {
  const svg = renderLineChart(base);

  it('is one standalone SVG document with the title and both axis labels', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<svg/g)).toHaveLength(1);
    for (const text of ['req/s vs concurrency', '>concurrency<', '>req/s<']) expect(svg).toContain(text);
  });

  it('draws one path and one legend entry per series, the dashed one dashed', () => {
    expect(svg.match(/class="series"/g)).toHaveLength(3);
    for (const name of ['async', 'threads', 'sequential']) expect(svg).toContain(`>${name}</text>`);
    expect(/data-name="sequential"[^>]*stroke-dasharray/.test(svg)).toBe(true);
    expect(/data-name="async"[^>]*stroke-dasharray/.test(svg)).toBe(false);
  });

  it('puts x on a log scale: each decade the same width', () => {
    const xs = pathPoints(svg, 'async').map(([x]) => x!);
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0]!, 0);
    expect(gaps[0]).toBeGreaterThan(0);
  });

  it('puts y on a linear scale from 0, higher values higher up (smaller y)', () => {
    const ys = pathPoints(svg, 'async').map(([, y]) => y!);
    expect(ys).toEqual([...ys].sort((a, b) => b - a));
    const zero = /<text x="[\d.]+" y="([\d.]+)" text-anchor="end">0<\/text>/.exec(svg);
    expect(zero).not.toBeNull();
    // y = 0 sits at the bottom tick; 100 req/s is just above it.
    expect(ys[0]!).toBeLessThan(Number(zero![1]));
  });

  it('labels the x ticks with the measured values', () => {
    for (const x of ['1', '10', '100', '1k']) expect(svg).toMatch(new RegExp(`text-anchor="middle">${x}</text>`));
  });

  it('escapes text', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
    const out = renderLineChart({ ...base, title: 'x < y & z', series: [{ name: '<mode>', points: [{ x: 1, y: 1 }] }] });
    expect(out).toContain('x &lt; y &amp; z');
    expect(out).not.toContain('<mode>');
  });

  it('copes with a single x value, an empty series and no data', () => {
    const one = renderLineChart({ ...base, series: [{ name: 'a', points: [{ x: 4, y: 10 }] }, { name: 'b', points: [] }] });
    expect(one).not.toContain('NaN');
    expect(one.match(/class="series"/g)).toHaveLength(1);
    const none = renderLineChart({ ...base, series: [] });
    expect(none).not.toContain('NaN');
    expect(none).not.toContain('Infinity');
  });

  it('drops points it cannot place (x <= 0, non-finite y)', () => {
    const out = renderLineChart({ ...base, series: [{ name: 'a', points: [{ x: 0, y: 5 }, { x: 10, y: NaN }, { x: 10, y: 5 }] }] });
    expect(pathPoints(out, 'a')).toHaveLength(1);
    expect(out).not.toContain('NaN');
  });
});
