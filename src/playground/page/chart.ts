// Drawing for the playground: a small SVG line chart for the live curves (epochs on x, one
// polyline per experiment) and [H, W] planes of values as canvases.
export interface Series {
  name: string;
  color: string;
  /** [epoch, value] */
  points: [number, number][];
}

/** Redraws `svg` with the series; y from the data unless yMin/yMax are given. */
export function lineChart(svg: SVGSVGElement, series: Series[], o: { xMin?: number; xMax: number; yMin?: number; yMax?: number; yLabel: string; percent?: boolean }): void {
  const W = 360, H = 230, m = { l: 44, r: 10, t: 24, b: 34 }; // the legend sits in the top margin
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const all = series.flatMap((s) => s.points.map((p) => p[1]));
  let lo = o.yMin ?? (all.length ? Math.min(...all) : 0), hi = o.yMax ?? (all.length ? Math.max(...all) : 1);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  if (o.yMin === undefined) lo = Math.max(0, lo - 0.05 * (hi - lo));
  const x0 = o.xMin ?? 1, xMax = Math.max(x0 + 1, o.xMax);
  const sx = (x: number) => m.l + ((x - x0) / (xMax - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - lo) / (hi - lo)) * (H - m.t - m.b);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = lo + (k / 4) * (hi - lo);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 4}" y="${sy(v) + 4}" text-anchor="end">${o.percent ? `${Math.round(100 * v)}%` : v.toFixed(2)}</text>`);
  }
  const step = Math.max(1, Math.ceil((xMax - x0) / 6));
  for (let e = x0; e <= xMax; e += step) parts.push(`<text x="${sx(e)}" y="${H - m.b + 14}" text-anchor="middle">${e}</text>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>`);
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#999"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#999"/>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (s.points.length > 1) parts.push(`<polyline class="series" data-name="${s.name}" fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    for (const [x, y] of s.points) parts.push(`<circle class="point" data-name="${s.name}" cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${s.name}, epoch ${x}: ${o.percent ? `${(100 * y).toFixed(1)}%` : y.toFixed(4)}</title></circle>`);
    parts.push(`<text x="${m.l + i * 90}" y="12" style="fill:${s.color}">■ ${s.name}</text>`);
  });
  svg.innerHTML = parts.join('');
}

/** Smallest and largest value. */
export function range(values: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return [lo, hi];
}

/** A [H, W] plane as a canvas: gray from `scale`'s low to high (default its own range), or red/blue around zero. */
export function planeCanvas(values: Float32Array, H: number, W: number, cls: string, diverging = false, scale = range(values)): HTMLCanvasElement {
  const c = document.createElement('canvas');
  if (cls) c.className = cls;
  c.width = W;
  c.height = H;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  const [lo, hi] = scale;
  const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  for (let p = 0; p < H * W; p++) {
    const v = values[p]!;
    let r: number, g: number, b: number;
    if (diverging) {
      // red positive, blue negative, white zero
      const a = Math.min(1, Math.abs(v) / m);
      [r, g, b] = v >= 0 ? [255, 255 * (1 - a), 255 * (1 - a)] : [255 * (1 - a), 255 * (1 - a), 255];
    } else {
      r = g = b = hi > lo ? (255 * (v - lo)) / (hi - lo) : 0;
    }
    img.data.set([r, g, b, 255], 4 * p);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}
