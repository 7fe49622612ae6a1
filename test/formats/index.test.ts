import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat, FORMAT_NAMES, isTlCheckpoint, readWeightFile, registerReader, type WeightFile } from '../../src/formats/index.js';
import { expectTinyVgg, expectTlError, fx, REF } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'tl-formats-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readWeightFile: detection by content', () => {
  const cases: [string, string][] = [
    ['neon_old_py2.p', FORMAT_NAMES.neon],
    ['neon_fused.pkl.gz', FORMAT_NAMES.neon],
    ['neon_fused_proto0.p', FORMAT_NAMES.neon],
    ['keras_tf_kernels.h5', FORMAT_NAMES.keras],
    ['keras2_model.h5', FORMAT_NAMES.keras],
    ['torch_vgg.pth', FORMAT_NAMES.torch],
    ['bad_torch_legacy.pth', FORMAT_NAMES.torch],
    ['tiny_vgg.safetensors', FORMAT_NAMES.safetensors],
    ['tl_checkpoint_stub.h5', FORMAT_NAMES.checkpoint],
  ];
  for (const [file, format] of cases) {
    it(`${file} is ${format}`, async () => {
      expect(await detectFormat(fx(file))).toBe(format);
    });
  }

  it('reads every format into the same weights', async () => {
    expectTinyVgg(await readWeightFile(fx('neon_old_py2.p')), REF.names.neon, (n) => `${n}_bias`);
    expectTinyVgg(await readWeightFile(fx('keras_tf_kernels.h5')), REF.names.keras);
    expectTinyVgg(await readWeightFile(fx('torch_vgg.pth')), REF.names.torch);
    expectTinyVgg(await readWeightFile(fx('tiny_vgg.safetensors')), REF.names.torch);
  });

  it('passes Keras options through', async () => {
    await expectTlError(() => readWeightFile(fx('keras_tf_kernels.h5'), { kerasFlattenShape: [2, 2, 16] }), 'kerasFlattenShape (2, 2, 16)');
  });

  it('unknown content names the file and lists the formats read', async () => {
    const e = await expectTlError(() => readWeightFile(fx('bad_random.bin')), 'bad_random.bin', 'unknown format');
    for (const f of ['neon', 'Keras', 'PyTorch', 'safetensors', 'tl-scratch checkpoints']) expect(e.message).toContain(f);
    await expectTlError(() => readWeightFile(fx('bad_empty.p')), 'bad_empty.p', 'empty file');
    await expectTlError(() => readWeightFile(fx('missing.pth')), 'missing.pth', 'no such file');
    await expectTlError(() => readWeightFile(tmp), tmp, 'is a directory');
  });

  it('errors from the readers come through unchanged', async () => {
    await expectTlError(() => readWeightFile(fx('bad_torch_legacy.pth')), '_use_new_zipfile_serialization=True');
    await expectTlError(() => readWeightFile(fx('bad_no_weights.h5')), 'bad_no_weights.h5', 'no Keras weights');
    await expectTlError(() => readWeightFile(fx('evil_eval.p')), 'evil_eval.p', "'__builtin__.eval'");
    await expectTlError(() => readWeightFile(fx('bad_huge_string.p')), 'bad_huge_string.p', 'truncated');
  });
});

describe('registerReader: tl-scratch checkpoints and other formats', () => {
  it('a checkpoint without a registered reader is detected but not read', async () => {
    expect(await isTlCheckpoint(fx('tl_checkpoint_stub.h5'))).toBe(true);
    expect(await isTlCheckpoint(fx('keras_tf_kernels.h5'))).toBe(false);
    expect(await isTlCheckpoint(fx('neon_old_py2.p'))).toBe(false);
    await expectTlError(() => readWeightFile(fx('tl_checkpoint_stub.h5')), 'tl_checkpoint_stub.h5', 'no checkpoint reader is registered');
  });

  it('a registered reader takes its files, before the built-in ones', async () => {
    const seen: string[] = [];
    const read = async (path: string): Promise<WeightFile> => {
      seen.push(path);
      return { path, format: FORMAT_NAMES.checkpoint, layers: [], notes: ['stub'], arrays: [] };
    };
    registerReader(FORMAT_NAMES.checkpoint, (path) => isTlCheckpoint(path), read);
    const wf = await readWeightFile(fx('tl_checkpoint_stub.h5'));
    expect(wf.notes).toEqual(['stub']);
    expect(seen).toEqual([fx('tl_checkpoint_stub.h5')]);
    // other files still go to the built-in readers
    expect((await readWeightFile(fx('torch_vgg.pth'))).format).toBe(FORMAT_NAMES.torch);
    // a detector sees the first bytes
    registerReader('magic test', (_p, head) => head[0] === 0x1f && head[1] === 0x8b, async (path) => ({ path, format: 'magic test', layers: [], notes: [], arrays: [] }));
    expect(await detectFormat(fx('neon_fused.pkl.gz'))).toBe('magic test');
    const e = await expectTlError(() => readWeightFile(fx('bad_random.bin')), 'unknown format');
    expect(e.message).toContain('magic test');
    // re-registering replaces; a detector that never matches hands the files back
    registerReader('magic test', () => false, read);
    expect(await detectFormat(fx('neon_fused.pkl.gz'))).toBe(FORMAT_NAMES.neon);
  });
});
