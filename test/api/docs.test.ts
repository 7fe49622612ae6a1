// The API reference: typedoc (npm run docs) with validation on (typedoc.json: every
// exported symbol documented, no broken links, warnings are errors). Validation only here
// (--emit none), so the test writes nothing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

describe('API reference', () => {
  it('typedoc validates: every exported symbol has a doc comment', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as Record<string, unknown>;
    expect(config.validation).toMatchObject({ notDocumented: true });
    // Every exported declaration, and the methods and accessors of exported classes (Model.fit, Tensor.size, ...).
    expect(config.requiredToBeDocumented).toEqual(expect.arrayContaining(['Variable', 'Function', 'Class', 'Interface', 'TypeAlias', 'Method', 'Accessor']));
    expect(config.treatValidationWarningsAsErrors).toBe(true);
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--options', 'typedoc.json', '--emit', 'none'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    const out = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '');
    expect(out).not.toMatch(/warning|error\]/);
    expect(r.status, out).toBe(0);
  }, 180_000);
});
