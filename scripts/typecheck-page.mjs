// Type-checks the playground's page (src/playground/page/, browser code) against the DOM's
// types. The engine files it imports are checked by tsconfig.json against Node's types; with
// the DOM's declarations on top, lib.dom's WebAssembly types disagree with the fast backend's
// own (src/kernels/cpu/simd/webassembly.d.ts), and that backend is stubbed out of the page anyway.
// So only diagnostics in the page's own files count here.
//   node scripts/typecheck-page.mjs     (npm run typecheck runs it)
import ts from 'typescript';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = resolve(ROOT, 'src/playground/page');
const configPath = resolve(PAGE, 'tsconfig.json');
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
const program = ts.createProgram(config.fileNames, config.options);
const diags = ts.getPreEmitDiagnostics(program).filter((d) => !d.file || resolve(d.file.fileName).startsWith(PAGE + '/'));
if (diags.length) {
  console.error(ts.formatDiagnosticsWithColorAndContext(diags, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }));
  process.exit(1);
}
console.log(`page type-checked: ${config.fileNames.length} files under src/playground/page/`);
