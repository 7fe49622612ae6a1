// A model summary: per layer name, type, output shape, parameters, forward MFLOPs; totals.
import type { Model } from './model.js';

/** One row of the summary table. */
export interface SummaryRow {
  name: string;
  type: string;
  outShape: number[];
  params: number;
  mflops: number;
}

/** One row per layer: name, type, output shape, parameters, forward MFLOPs. */
export function summaryRows(model: Model): SummaryRow[] {
  return model.describeLayers().map((d) => ({ name: d.name, type: d.type, outShape: d.outShape, params: d.nparams, mflops: d.flops / 1e6 }));
}

/** The summary table as text, with totals. */
export function formatSummary(model: Model): string {
  const rows = summaryRows(model);
  const fmtInt = (n: number) => n.toLocaleString('en-US');
  const table = rows.map((r) => [r.name, r.type, `(${r.outShape.join(', ')})`, fmtInt(r.params), r.mflops.toFixed(2)]);
  const header = ['layer', 'type', 'output shape', 'params', 'MFLOPs'];
  const totalParams = rows.reduce((s, r) => s + r.params, 0);
  const totalFlops = rows.reduce((s, r) => s + r.mflops, 0);
  const footer = ['total', '', `input (${(model.inShape ?? []).join(', ')})`, fmtInt(totalParams), totalFlops.toFixed(2)];
  const all = [header, ...table, footer];
  const widths = header.map((_, j) => Math.max(...all.map((r) => r[j]!.length)));
  const line = (r: string[]) => r.map((c, j) => (j >= 3 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...table.map(line), rule, line(footer)].join('\n') + '\n(MFLOPs: forward pass, one example; a training step costs about 3×.)\n';
}
