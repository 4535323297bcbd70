// Aligned text tables for the workload printouts. Pure.

const cell = (v) => (v === null || v === undefined ? '-' : typeof v === 'number' ? String(v) : v);

/** Header and rows (arrays of values) as aligned text: first column left, the rest right. */
export function formatRows(header, rows) {
  const cells = rows.map((r) => r.map(cell));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (cs) => cs.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
