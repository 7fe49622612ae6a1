// The benchmark harness: what a benchmark is, how it is timed, and how results are printed.
//
// A benchmark is one file under bench/ exporting a `Benchmark`, registered in bench/run.ts.
// `run` does its own timing (with `measure`) and returns rows: one per (our value, peer
// value) pair, so a workload with two peers gives two rows. Units are free ("GFLOP/s",
// "img/s", "MB"); the ratio column is ours / peer.

export interface Row {
  /** Workload label, starting with its id from docs/perf-baseline.md, e.g. "W1 gemm 1024³ f32". */
  workload: string;
  unit: string;
  /** Our value (null: not measured, see note). */
  ours: number | null;
  /** Peer implementation, e.g. "tfjs-cpu 4.22.0". */
  peer: string;
  peerValue: number | null;
  /** How this row was measured, when it is not plain "median of N after warm-up". */
  note?: string;
}

export interface Benchmark {
  /** Selector on the command line: `npm run bench -- <name>`. */
  name: string;
  /** Workload id(s) in perf-baseline.md, also accepted as selectors (case-insensitive). */
  ids: string[];
  /** One line: what it measures. */
  title: string;
  /** Too slow (or too heavy on the disk) for the default run: runs only when named on the command line. */
  optIn?: boolean;
  run(log: (msg: string) => void): Promise<Row[]>;
}

export interface Timing {
  /** Median seconds per run. */
  median: number;
  samples: number[];
  /** CPU seconds this process used over the timed runs ÷ their wall seconds: well under 1 means another process took the core. */
  cpuShare: number;
}

/**
 * Times `fn`: `warmup` untimed calls (JIT, buffer allocation), then `runs` timed calls;
 * returns the median. Medians rather than means: the machine is shared and noisy.
 */
export function measure(fn: () => void, opts: { warmup?: number; runs?: number } = {}): Timing {
  const { warmup = 1, runs = 5 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = samples.reduce((a, b) => a + b, 0);
  return { median: median(samples), samples, cpuShare: wall > 0 ? (cpu.user + cpu.system) / 1e6 / wall : 1 };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** "0.710 s median (0.690–0.800, 5 runs, cpu 98%)": a timing summary for the progress log. */
export function describeTiming(t: Timing): string {
  const lo = Math.min(...t.samples), hi = Math.max(...t.samples);
  return `${t.median.toFixed(3)} s median (${lo.toFixed(3)}–${hi.toFixed(3)}, ${t.samples.length} runs, cpu ${(100 * t.cpuShare).toFixed(0)}%)`;
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/** A markdown table of the rows; notes become numbered footnotes below it. */
export function formatTable(rows: readonly Row[]): string {
  const notes: string[] = [];
  const body = rows.map((r) => {
    let label = r.workload;
    if (r.note) {
      let k = notes.indexOf(r.note);
      if (k < 0) k = notes.push(r.note) - 1;
      label += ` [${k + 1}]`;
    }
    const ratio = r.ours !== null && r.peerValue !== null && r.peerValue > 0 ? `${fmt(r.ours / r.peerValue)}×` : '—';
    return [label, r.unit, fmt(r.ours), r.peer, fmt(r.peerValue), ratio];
  });
  const head = ['workload', 'unit', 'ours', 'peer', 'peer value', 'ours / peer'];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  notes.forEach((n, i) => out.push(`[${i + 1}] ${n}`));
  return out.join('\n');
}
