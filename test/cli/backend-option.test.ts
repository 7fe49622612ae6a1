// -b/--backend takes its choices from the registry of backends (src/kernels/index.ts), not
// from a list in the CLI: a backend registered before the program is built is accepted by
// every command that computes, is described in --help, and is listed when -b names an
// unknown backend; `auto` (webgpu on a real GPU, else cpu) follows them. (The program is built in this process, so the test-only `boxed`
// backend can be registered first; cli.test.ts checks the same on the built binary.)
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { availableBackends, registerBackend } from '../../src/kernels/index.js';
import { boxedBackend } from '../helpers/backends.js';

/** The program with every command's exits and output captured instead of ending the process. */
function program(): { root: Command; err: () => string; out: () => string } {
  let err = '', out = '';
  const root = buildProgram(() => {});
  for (const c of [root, ...root.commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => (out += s) });
  }
  return { root, err: () => err, out: () => out };
}

describe('-b/--backend', () => {
  it('lists exactly the registered backends, a newly registered one included, on train, eval and predict', () => {
    registerBackend(boxedBackend);
    expect(availableBackends()).toEqual(['cpu', 'ref', 'gpu', 'webgpu', 'boxed']);
    const { root, out } = program();
    for (const name of ['train', 'eval', 'predict']) {
      const cmd = root.commands.find((c) => c.name() === name)!;
      const opt = cmd.options.find((o) => o.long === '--backend')!;
      expect(opt.argChoices, name).toEqual(['cpu', 'ref', 'gpu', 'webgpu', 'boxed', 'auto']);
      expect(opt.description, name).toContain('boxed (the reference kernels behind opaque handles (tests only))');
    }
    expect(() => root.parse(['node', 'tl-scratch', 'eval', '--help'])).toThrow();
    expect(out().replace(/\s+/g, ' ')).toMatch(/choices: "cpu", "ref", "gpu", "webgpu", "boxed", "auto"/);
  });

  it('with an unknown name: a usage error listing the registered backends', () => {
    registerBackend(boxedBackend);
    const { root, err } = program();
    let code: number | undefined;
    try {
      root.parse(['node', 'tl-scratch', 'train', '-b', 'nosuch']);
    } catch (e) {
      code = (e as { exitCode: number }).exitCode;
    }
    expect(code).toBe(1); // commander's own code; src/cli.ts turns every CommanderError but --help into exit 2
    expect(err()).toMatch(/option '-b, --backend <name>' argument 'nosuch' is invalid\. Allowed choices are cpu, ref, gpu, webgpu, boxed, auto\./);
  });
});
