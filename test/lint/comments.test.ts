// Comments in src/ give reasons and shapes, not measured figures or history: a timing, a
// GFLOP/s or img/s rate or an "N× faster" is true of one machine on one day and goes stale
// silently, and "issue 12" or "used to be" tells the story of the code rather than the code.
// Figures worth keeping live in bench/README.md, next to the commands that reproduce them.
//
// Comments are found with the TypeScript parser (every token's leading and trailing comment
// ranges), so text inside string, template and regex literals is never read as a comment.
// Each offending comment line is reported as file:line: text [pattern].
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');

/** What a comment must not say, each with a name for the report. */
const PATTERNS: { name: string; re: RegExp }[] = [
  // A duration: any number with a sub-second unit; seconds, minutes and hours written with a
  // space or a decimal point ("0.3 s", "12 s"), so that "1s" (ones) and "1990s" stay prose.
  { name: 'time', re: /\d\s?(?:ms|µs|μs|us|ns)\b/ },
  { name: 'time', re: /\d\.\d+\s?s\b|\d\s(?:s|sec|secs|seconds?|min|mins|minutes?|hours?)\b/ },
  // A rate: FLOP/s and GFLOPS at all; images, samples or bytes per second after a number.
  { name: 'rate', re: /\b[kMGTP]?FLOP\/s\b|\b[kMGTP]FLOPS\b/ },
  { name: 'rate', re: /\d\s?(?:img|imgs|images?|samples?|examples?|it|tokens?|[kMGT]i?B)\/s\b/ },
  // A speed-up: "3× faster", "x2.5 slower", "2 times faster", "30% faster", "a speed-up of 4".
  { name: 'speed-up', re: /\d(?:\.\d+)?\s?(?:[x×]|times|%)\s+(?:faster|slower|quicker|the speed)\b/i },
  { name: 'speed-up', re: /[x×]\s?\d+(?:\.\d+)?\s+(?:faster|slower|quicker)\b|\bspeed-?ups? of\s+[x×~]?\d/i },
  // History: which issue, which session, what the code once was.
  { name: 'history', re: /\bissues?\s+#?\d+|\bPR\s*#\d+/i },
  { name: 'history', re: /\b(?:first|second|third|last|previous|earlier|an? older)\s+sessions?\b/i },
  { name: 'history', re: /\bused to be\b|\bformerly\b|\bin (?:an? )?(?:earlier|previous|older) (?:version|revision|commit)\b/i },
];

/**
 * Comment lines that trip a pattern and are not a figure or a story, each with its reason.
 * An entry nothing matches any more is an error too (see below), so the list stays short.
 */
const ALLOWED: { file: string; re: RegExp; reason: string }[] = [
  { file: 'src/cli/progress.ts', re: /3\.21s, 120 img\/s, ETA 12s/, reason: "an example of the bar's text, not a measurement" },
  { file: 'src/cli/progress.ts', re: /at most every 0\.1 s\b/, reason: 'the redraw interval the code sets, not a measurement' },
];

/** The pattern names a comment line trips, in PATTERNS order, without repeats. */
function offences(line: string): string[] {
  return [...new Set(PATTERNS.filter((p) => p.re.test(line)).map((p) => p.name))];
}

interface CommentLine {
  line: number;
  text: string;
}

/** Every comment of a TypeScript source, one entry per line of each comment (1-based line). */
function commentLines(fileName: string, text: string): CommentLine[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const seen = new Set<number>();
  const out: CommentLine[] = [];
  const add = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) {
      if (seen.has(r.pos)) continue;
      seen.add(r.pos);
      const first = sf.getLineAndCharacterOfPosition(r.pos).line;
      text.slice(r.pos, r.end).split('\n').forEach((l, i) => out.push({ line: first + i + 1, text: l.trim() }));
    }
  };
  // getChildren includes punctuation tokens, so a comment before a `}` or `)` is found too.
  const walk = (node: ts.Node): void => {
    add(ts.getLeadingCommentRanges(text, node.pos));
    add(ts.getTrailingCommentRanges(text, node.end));
    for (const c of node.getChildren(sf)) walk(c);
  };
  walk(sf);
  return out.sort((a, b) => a.line - b.line);
}

function tsFiles(dir: string): string[] {
  return readdirSync(resolve(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('comments in src/', () => {
  it('carry no measured times, rates, speed-ups or history', () => {
    const found: string[] = [];
    const used = new Set<(typeof ALLOWED)[number]>();
    for (const f of tsFiles('src').sort()) {
      const file = relative(ROOT, resolve(ROOT, f));
      const text = readFileSync(resolve(ROOT, f), 'utf8');
      // Parse only the files whose text trips a pattern somewhere (the parse is the slow part).
      if (!PATTERNS.some((p) => p.re.test(text))) continue;
      for (const c of commentLines(file, text)) {
        const names = offences(c.text);
        if (!names.length) continue;
        const allowed = ALLOWED.find((a) => a.file === file && a.re.test(c.text));
        if (allowed) used.add(allowed);
        else found.push(`${file}:${c.line}: ${c.text} [${names.join(', ')}]`);
      }
    }
    expect(found).toEqual([]);
    expect(ALLOWED.filter((a) => !used.has(a)).map((a) => `${a.file}: ${a.re} (${a.reason})`), 'stale allow-list entries').toEqual([]);
  });
});

describe('the comment matcher', () => {
  it('catches measured figures and history', () => {
    const bad: [string, string][] = [
      ['a gemm below this size takes ~12 ms on one thread', 'time'],
      ['took 30 ms to fill against ~1 ms for one already touched', 'time'],
      ['a job\'s hand-off costs ~10–50 µs', 'time'],
      ['(3.2 M values, 7 ns a value)', 'time'],
      ['the whole epoch runs in 0.3 s', 'time'],
      ['demo 105 s; same accuracies', 'time'],
      ['about 2 minutes on a laptop', 'time'],
      ['reaches 31.0 GFLOP/s with 4 threads', 'rate'],
      ['the fast backend is measured in GFLOP/s', 'rate'],
      ['trains at 120 img/s', 'rate'],
      ['streams at 800 MB/s', 'rate'],
      ['this is ×3 faster than the loop', 'speed-up'],
      ['3x faster than the naive kernel', 'speed-up'],
      ['2.5 times slower on small inputs', 'speed-up'],
      ['about 30% faster', 'speed-up'],
      ['a speed-up of 4 on conv1', 'speed-up'],
      ['Cached frozen features (issue 10, section 2)', 'history'],
      ['as decided in the first session', 'history'],
      ['this used to be a loop over rows', 'history'],
      ['formerly a method of Model', 'history'],
      ['in an earlier version the cache was global', 'history'],
    ];
    for (const [text, name] of bad) expect(offences(text), text).toContain(name);
  });

  it('leaves reasons and shapes alone', () => {
    const good = [
      'Shape of one example, (C, H, W) (or (F) / (C, H), padded with 1s).',
      '3×3 convolutions with stride 1 take another route: Winograd F(2×2, 3×3)',
      'computes a full 4 × 4 tile; 28×28 images zero-padded to 32×32',
      'Eval loss per eval_freq epochs, and the seconds it took',
      'name, type, output shape, parameters, forward MFLOPs; FLOPs per layer',
      'Now, in ms (tests). `ms` and `s` alone are units, not figures.',
      'a job\'s hand-off costs more than the gemm below this size',
      'the buffer used to hold the rows of one image',
      'a larger budget is slower: the columns of the chunk no longer fit in L2',
      'the issue is that a view may outlive its buffer',
      'the 1990s file format; 2s complement',
    ];
    for (const text of good) expect(offences(text), text).toEqual([]);
  });

  it('reads comments only, not strings, templates or regexes', () => {
    const src = [
      "const a = '// 30 ms';",
      'const b = `${a} /* 12 ms */ ${`// 5 ms`}`;',
      'const c = /\\/\\/ 3 ms/;',
      'f(a /* inline, issue 7 */);',
      'function g() {',
      '  // before a closing brace: 2 ms',
      '}',
      '/**',
      ' * A block comment,',
      ' * 31.0 GFLOP/s on its second line.',
      ' */',
      'const d = 1; // trailing 0.3 s',
    ].join('\n');
    const hits = commentLines('sample.ts', src).filter((c) => offences(c.text).length).map((c) => `${c.line}: ${c.text}`);
    expect(hits).toEqual([
      '4: /* inline, issue 7 */',
      '6: // before a closing brace: 2 ms',
      '10: * 31.0 GFLOP/s on its second line.',
      '12: // trailing 0.3 s',
    ]);
  });
});
