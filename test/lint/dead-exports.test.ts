// No dead exports: every name a module under src/ exports is imported somewhere else
// (src, bench, test, exercises, a code block of the guide), or is part of an entry point
// (the public API src/index.ts, the browser entry, the CLI). An export nobody imports tells
// a reader "this is used elsewhere" when it is not; drop the `export` (or the code).
//
// A name counts as used when another file imports it (by name, through `import * as ns` and
// `ns.name`, or an `import('...').Name` type), wherever the import resolves to: through a
// barrel's re-export the original declaration is the one marked. Re-exports themselves do
// not count, so a barrel does not keep its members alive. A type that its own module names
// in a type position stays exported, since declaration emit needs the name of a type used
// in an exported signature.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { resolveImports, tsBlocks } from '../docs/blocks.js';

const ROOT = resolve(__dirname, '../..');
// The browser bundles' stubs stand in for Node-only modules (scripts/build-browser.mjs,
// scripts/build-playground.mjs), so they export what those modules export; the page's
// workers are entries of their own.
const ENTRIES = [
  'src/index.ts', 'src/browser/index.ts', 'src/cli.ts', 'src/playground/page/main.ts',
  'src/browser/checkpoint-stub.ts', 'src/browser/node-stub.ts', 'src/browser/node-v8-stub.ts', 'src/browser/simd-pool.ts',
  'src/browser/simd-worker.ts', 'src/browser/webgpu-worker.ts', 'src/browser/worker-port.ts', 'src/browser/webgpu-navigator.ts',
  'src/playground/page/stubs/images.ts', 'src/playground/page/stubs/node.ts',
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(resolve(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'fixtures') out.push(...tsFiles(p)); }
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(resolve(ROOT, p));
  }
  return out;
}

/** The guide's code blocks, as virtual files whose 'tl-scratch' imports point at src/. */
function guideBlocks(): Map<string, string> {
  const blocks = new Map<string, string>();
  const dir = 'docs/guide';
  for (const f of readdirSync(resolve(ROOT, dir)).filter((n) => n.endsWith('.md')).sort()) {
    for (const b of tsBlocks(ROOT, join(dir, f))) blocks.set(resolve(ROOT, `${dir}/${f}.L${b.line}.block.ts`), resolveImports(b.code, ROOT));
  }
  return blocks;
}

export function deadExports(): string[] {
  const blocks = guideBlocks();
  const roots = [...['src', 'bench', 'test', 'exercises'].flatMap(tsFiles), ...blocks.keys()];
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true, types: [], noLib: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  // Only the project's own files matter: packages' declarations are read as empty (fast).
  host.getSourceFile = (name, lang, ...rest) => {
    const text = blocks.get(resolve(name)) ?? (name.includes('/node_modules/') ? '' : undefined);
    return text !== undefined ? ts.createSourceFile(name, text, lang, true) : getSourceFile(name, lang, ...rest);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => blocks.has(resolve(name)) || fileExists(name);
  const program = ts.createProgram(roots, options, host);
  const checker = program.getTypeChecker();

  const original = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const used = new Set<ts.Symbol>();
  const mark = (node: ts.Node, from: ts.SourceFile) => {
    const s = checker.getSymbolAtLocation(node);
    if (!s) return;
    const o = original(s);
    if (o.declarations?.some((d) => d.getSourceFile() !== from)) used.add(o);
  };
  const srcDir = resolve(ROOT, 'src') + '/';
  const typeOnly = ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias;

  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || sf.fileName.includes('/node_modules/')) continue;
    const namespaces = new Set<ts.Symbol>();
    const visit = (node: ts.Node): void => {
      if (ts.isImportSpecifier(node)) mark(node.name, sf);
      else if (ts.isImportClause(node) && node.name) mark(node.name, sf);
      else if (ts.isNamespaceImport(node)) { const s = checker.getSymbolAtLocation(node.name); if (s) namespaces.add(s); }
      else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
        const s = checker.getSymbolAtLocation(node.expression);
        if (s && namespaces.has(s)) mark(node.name, sf);
      } else if (ts.isQualifiedName(node) && ts.isIdentifier(node.left)) {
        const s = checker.getSymbolAtLocation(node.left);
        if (s && namespaces.has(s)) mark(node.right, sf);
      } else if (ts.isImportTypeNode(node) && node.qualifier) mark(ts.isIdentifier(node.qualifier) ? node.qualifier : node.qualifier.right, sf);
      else if (sf.fileName.startsWith(srcDir) && (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node))) {
        // A type named in a type position of its own module (see the header).
        const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
        const s = checker.getSymbolAtLocation(ts.isQualifiedName(name) ? name.right : name);
        if (s && s.flags & typeOnly) used.add(original(s));
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  const dead: string[] = [];
  for (const entry of ENTRIES) {
    const sym = checker.getSymbolAtLocation(program.getSourceFile(resolve(ROOT, entry))!);
    if (sym) for (const e of checker.getExportsOfModule(sym)) used.add(original(e));
  }
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(srcDir)) continue;
    const sym = checker.getSymbolAtLocation(sf);
    if (!sym) continue;
    for (const e of checker.getExportsOfModule(sym)) {
      const o = original(e);
      // Only declarations made in this module: a barrel's re-exports are checked where they are declared.
      if (!o.declarations?.some((d) => d.getSourceFile() === sf)) continue;
      if (!used.has(o)) dead.push(`${relative(ROOT, sf.fileName)}: ${e.name}`);
    }
  }
  return dead.sort();
}

describe('dead exports', () => {
  it('every export under src/ is imported somewhere or belongs to an entry point', () => {
    expect(deadExports()).toEqual([]);
  });
});
