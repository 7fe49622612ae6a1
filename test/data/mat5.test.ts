import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cellStrings, readMat, type MatValue } from '../../src/data/mat5.js';
import { fix, tlError } from './helpers.js';

const expected = JSON.parse(readFileSync(fix('mat', 'various.json'), 'utf8')) as Record<string, unknown>;
const num = (v: unknown) => (v === 'NaN' ? NaN : v === '-Infinity' ? -Infinity : (v as number));

describe('MAT v5 reader (files written by scipy.io.savemat)', () => {
  for (const file of ['various.mat', 'various_z.mat']) {
    it(file, () => {
      const vars = readMat(fix('mat', file));
      for (const name of ['d', 'i8', 'u16', 'i64', 's', 'b', 'z']) {
        const e = expected[name] as { dims: number[]; data: unknown[]; mclass?: string; imag?: number[] };
        const v = vars[name]!;
        expect(v.kind).toBe('numeric');
        if (v.kind !== 'numeric') continue;
        expect(v.dims).toEqual(e.dims);
        expect(Array.from(v.data, (a) => a + 0)).toEqual(e.data.map(num)); // + 0: -0 → 0
        if (e.mclass) expect(v.mclass).toBe(e.mclass);
        if (e.imag) expect(Array.from(v.imag!)).toEqual(e.imag);
      }
      expect(vars['txt']).toMatchObject({ kind: 'char', text: expected['txt'] });
      expect(cellStrings(vars['chars']!, 'chars')).toEqual(expected['chars']);
      expect(vars['scalar']).toMatchObject({ kind: 'numeric', dims: [1, 1] });
      expect(Array.from((vars['scalar'] as { data: Float64Array }).data)).toEqual([42]);

      const c = vars['c']!;
      expect(c.kind).toBe('cell');
      if (c.kind === 'cell') {
        expect(c.dims).toEqual([1, 3]);
        expect(c.items[0]).toMatchObject({ kind: 'char', text: 'abc' });
        expect(Array.from((c.items[1] as { data: Float64Array }).data)).toEqual([1.5, 2.5]);
        expect((c.items[2] as { data: Float64Array }).data.length).toBe(0);
      }
      const st = vars['st'] as MatValue;
      expect(st.kind).toBe('struct');
      if (st.kind === 'struct') {
        expect(st.fields).toEqual(['a', 'bb']);
        expect(st.dims).toEqual([1, 2]);
        expect(Array.from((st.elements[0]!['a'] as { data: Float64Array }).data)).toEqual([1]);
        expect(st.elements[1]!['bb']).toMatchObject({ kind: 'char', text: 'yz' });
        const m = st.elements[1]!['a']!;
        expect(m).toMatchObject({ kind: 'numeric', mclass: 'int16', dims: [2, 2] });
        expect(Array.from((m as { data: Float64Array }).data)).toEqual([1, 3, 2, 4]); // column-major
      }
    });
  }

  it('the wiki.mat fixture: a 1x1 struct with the IMDB-WIKI fields', () => {
    const vars = readMat(fix('wiki', 'wiki.mat'));
    const w = vars['wiki']!;
    expect(w.kind).toBe('struct');
    if (w.kind !== 'struct') return;
    for (const f of ['dob', 'photo_taken', 'full_path', 'gender', 'name', 'face_location', 'face_score', 'second_face_score']) {
      expect(w.fields).toContain(f);
    }
    expect(cellStrings(w.elements[0]!['full_path']!, 'full_path')[1]).toBe('00/b_1.png');
  });

  it('bad files give a TlError naming the file', async () => {
    expect((await tlError(() => readMat(fix('mat', 'missing.mat')))).message).toMatch(/missing\.mat: no such file/);
    expect((await tlError(() => readMat(fix('mat', 'not_mat.mat')))).message).toMatch(/not_mat\.mat: not a MATLAB level-5 MAT-file/);
    expect((await tlError(() => readMat(fix('mat', 'truncated.mat')))).message).toMatch(/truncated\.mat: .*truncated or damaged/);
  });
});
