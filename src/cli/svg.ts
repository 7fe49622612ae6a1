// A minimal SVG line chart (no dependency): axes with ticks, one polyline per series with an
// optional shaded band (e.g. min–max over seeds), horizontal reference lines, legend.

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
  /** A shaded band around the line: [x, low, high] per point. */
  band?: [number, number, number][];
}

/** A horizontal line across the plot with a label (e.g. chance level). */
export interface ReferenceLine {
  y: number;
  label: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  yMin?: number;
  yMax?: number;
  references?: ReferenceLine[];
  /** Extra legend lines after the series (e.g. what the bands mean). */
  notes?: string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || 1;
  const step0 = span / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 640, H = o.height ?? 360;
  const m = { l: 60, r: 160, t: 36, b: 46 };
  const pts = [
    ...o.series.flatMap((s) => s.points),
    ...o.series.flatMap((s) => (s.band ?? []).flatMap(([x, lo, hi]) => [[x, lo], [x, hi]] as [number, number][])),
    ...(o.references ?? []).map((r) => [0, r.y] as [number, number]),
  ].filter(([, y]) => Number.isFinite(y));
  const xs = pts.map(([x]) => x), ys = pts.map(([, y]) => y);
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let y0 = o.yMin ?? Math.min(...ys, 0), y1 = o.yMax ?? Math.max(...ys, 1e-6);
  if (y1 <= y0) y1 = y0 + 1;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(x0, x1).filter((v) => Number.isInteger(v))) {
    parts.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="black"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  const refs = o.references ?? [];
  for (const r of refs) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(r.y).toFixed(1)}" y2="${sy(r.y).toFixed(1)}" stroke="#777" stroke-width="1" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${(sy(r.y) - 4).toFixed(1)}" text-anchor="end" fill="#555">${esc(r.label)}</text>`);
  }
  for (const s of o.series) {
    const band = (s.band ?? []).filter(([, lo, hi]) => Number.isFinite(lo) && Number.isFinite(hi));
    if (band.length < 2) continue;
    const upper = band.map(([x, , hi]) => `${sx(x).toFixed(1)},${sy(hi).toFixed(1)}`);
    const lower = band.slice().reverse().map(([x, lo]) => `${sx(x).toFixed(1)},${sy(lo).toFixed(1)}`);
    parts.push(`<polygon class="band" fill="${s.color}" fill-opacity="0.18" stroke="none" points="${[...upper, ...lower].join(' ')}"/>`);
  }
  o.series.forEach((s, i) => {
    const p = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (p) parts.push(`<polyline class="series" data-name="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${p}"/>`);
    const ly = m.t + 14 + i * 18;
    parts.push(`<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${W - m.r + 42}" y="${ly}">${esc(s.name)}</text>`);
  });
  (o.notes ?? []).forEach((note, j) => {
    parts.push(`<text x="${W - m.r + 12}" y="${m.t + 14 + (o.series.length + j) * 18 + 6}" fill="#555" font-size="11">${esc(note)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
