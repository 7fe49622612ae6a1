// Small formatting helpers for tables printed to the terminal and written to reports.
import { basename, isAbsolute, relative, resolve } from 'node:path';

export function table(header: string[], rows: string[][], rightAlign: (col: number) => boolean = () => false): string {
  const all = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...all.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) => r.map((c, j) => (rightAlign(j) ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
export const int = (n: number): string => n.toLocaleString('en-US');

/**
 * A path as a shared report may show it: relative to the working directory when inside it,
 * else only the file name (no absolute path of the machine it ran on).
 */
export function shareablePath(p: string): string {
  const abs = resolve(p);
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : basename(abs);
}
