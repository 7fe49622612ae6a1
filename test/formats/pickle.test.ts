import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlError } from '../../src/util/errors.js';
import { npToFloat32 } from '../../src/formats/convert.js';
import { isTuple, loadPickle, NpArray, PICKLE_LIMITS, PyBytes, PyDict } from '../../src/formats/pickle/index.js';
import { canon, expectTlError, fx, pickleOf, type PyIn } from './helpers.js';

const load = (name: string): unknown => loadPickle(readFileSync(fx(name)), { file: fx(name) });

function pwnedFiles(): string[] {
  return readdirSync('/tmp').filter((f) => f.startsWith('tl-scratch-pwned'));
}

describe('pickle VM: values written by Python at every protocol', () => {
  const expected = JSON.parse(readFileSync(fx('values.json'), 'utf8')) as { all: unknown; py2: unknown };
  for (const proto of [0, 1, 2, 3, 4, 5]) {
    it(`protocol ${proto}`, () => {
      expect(canon(load(`values_p${proto}.pkl`))).toEqual(expected.all);
    });
  }
  it('Python 2 byte strings (SHORT_BINSTRING/BINSTRING) read as latin-1 text', () => {
    const v = load('values_py2.pkl');
    expect(canon(v)).toEqual(expected.py2);
    // dict keys written as Python 2 str are plain text keys
    expect(v).toBeInstanceOf(PyDict);
    expect((v as PyDict).has('ints')).toBe(true);
  });
  it('keeps tuples apart from lists, and shared references shared', () => {
    const v = load('values_p2.pkl') as PyDict;
    const tuples = v.get('tuples') as unknown[];
    expect(isTuple(tuples)).toBe(false);
    expect(tuples.every((t) => isTuple(t))).toBe(true);
    const shared = v.get('shared') as unknown[];
    expect(shared[0]).toBe(shared[1]);
  });
});

describe('pickle VM: byte strings are views, not copies', () => {
  it('BINBYTES data is a view into the input buffer', () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const buf = pickleOf(payload);
    const v = loadPickle(buf, { file: 'mem' }) as PyBytes;
    expect(v).toBeInstanceOf(PyBytes);
    expect(v.data.buffer).toBe(buf.buffer);
    expect(Buffer.from(v.data).equals(Buffer.from(payload))).toBe(true);
  });
  for (const py2 of [true, false]) {
    it(`a float32 array at an unaligned offset becomes a zero-copy view (${py2 ? 'Python 2 BINSTRING' : 'Python 3 _codecs.encode'})`, () => {
      const nd = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i) * 100);
      const m = new Map<string, PyIn>([['pad', 'x'], ['W', { nd, shape: [30, 100] }]]);
      // big enough for the large-text path in the Python 3 form
      const big = py2 ? nd : Float32Array.from({ length: (PICKLE_LIMITS.largeText >> 2) + 5 }, (_, i) => (i % 251) - 125.5);
      m.set('W', { nd: big, shape: [big.length] });
      for (let shift = 0; shift < 4; shift++) {
        m.set('pad', 'x'.repeat(shift));
        const buf = pickleOf(m, py2);
        const a = (loadPickle(buf, { file: 'mem', inPlace: true }) as PyDict).get('W') as NpArray;
        const f = npToFloat32(a, 'mem');
        expect(f.buffer).toBe(buf.buffer);
        expect(f.length).toBe(big.length);
        expect(Buffer.from(f.buffer, f.byteOffset, f.byteLength).equals(Buffer.from(big.buffer))).toBe(true);
      }
    });
  }
  it('without inPlace the input buffer is left untouched', () => {
    const nd = Float32Array.from({ length: 300 }, (_, i) => i / 7);
    const buf = pickleOf(new Map<string, PyIn>([['p', 'xy'], ['W', { nd, shape: [300] }]]), true);
    const before = Buffer.from(buf);
    const a = (loadPickle(buf, { file: 'mem' }) as PyDict).get('W') as NpArray;
    expect(Array.from(npToFloat32(a, 'mem'))).toEqual(Array.from(nd));
    expect(Buffer.from(buf).equals(before)).toBe(true);
  });
});

describe('pickle VM: never executes anything', () => {
  beforeAll(() => {
    for (const f of pwnedFiles()) rmSync(`/tmp/${f}`, { force: true });
  });
  afterAll(() => {
    expect(pwnedFiles()).toEqual([]);
  });
  const cases: [string, string][] = [
    ['evil_os_system.p', 'posix.system'],
    ['evil_os_system_p0.p', 'os.system'],
    ['evil_eval.p', '__builtin__.eval'],
    ['evil_eval_p4.p', 'builtins.eval'],
    ['evil_subprocess.p', 'Popen'], // Python 3 writes it as commands.Popen for Python 2
    ['evil_nested_neon.p', 'posix.system'],
  ];
  for (const [file, global] of cases) {
    it(`${file}: refuses ${global}`, async () => {
      await expectTlError(() => load(file), fx(file), global.includes('.') ? `'${global}'` : `${global}'`, 'refusing');
      expect(pwnedFiles()).toEqual([]);
    });
  }
  it('refuses globals outside the allow-list even when never called', async () => {
    const buf = Buffer.from('\x80\x02cbuiltins\ngetattr\n.', 'latin1');
    await expectTlError(() => loadPickle(buf, { file: 'g.p' }), 'g.p', 'builtins.getattr');
  });
});

describe('pickle VM: malformed and absurd input', () => {
  const cases: [string, (string | RegExp)[]][] = [
    ['bad_truncated.p', ['truncated']],
    ['bad_deep.p', ['nesting deeper than 1000']],
    ['bad_deep_marks.p', ['nested MARKs']],
    ['bad_huge_string.p', ['2147483647', 'remain']],
    ['bad_huge_bytes8.p', ['claims']],
    ['bad_huge_array.p', ['needs 4000000000000 bytes', 'holds 4']],
    ['bad_empty.p', ['without a STOP']],
    ['bad_random.bin', [/opcode|truncated|underflow|memo|MARK/]],
  ];
  for (const [file, patterns] of cases) {
    it(file, async () => {
      await expectTlError(() => load(file), fx(file), ...patterns);
    });
  }
  it('refuses persistent ids without a resolver, and extension codes', async () => {
    await expectTlError(() => loadPickle(Buffer.from('\x80\x02K\x01Q.', 'latin1'), { file: 'p.p' }), 'persistent id');
    await expectTlError(() => loadPickle(Buffer.from('\x80\x02\x82\x01.', 'latin1'), { file: 'p.p' }), 'extension registry');
  });
  it('limits the memo', async () => {
    const saved = PICKLE_LIMITS.maxMemo;
    PICKLE_LIMITS.maxMemo = 10;
    try {
      const ops = [0x80, 0x02, 0x4e];
      for (let i = 0; i < 20; i++) ops.push(0x71, i);
      ops.push(0x2e);
      await expectTlError(() => loadPickle(Uint8Array.from(ops), { file: 'm.p' }), 'memo exceeds 10');
    } finally {
      PICKLE_LIMITS.maxMemo = saved;
    }
  });
});

describe('pickle VM: properties', () => {
  const value: fc.Arbitrary<PyIn> = fc.letrec<{ v: PyIn }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.array(tie('v'), { maxLength: 4 }).map((a) => Object.freeze(a) as readonly PyIn[]),
      fc.array(fc.tuple(fc.string({ maxLength: 8 }), tie('v')), { maxLength: 5 }).map((e) => new Map(e)),
      fc.float32Array({ maxLength: 12, noDefaultInfinity: false }).map((nd) => ({ nd, shape: [nd.length] })),
    ),
  })).v;

  function plain(v: PyIn): unknown {
    if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v === 0 ? 0 : v;
    if (typeof v === 'bigint') {
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : { bigint: v.toString() };
    }
    if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
    if (Array.isArray(v)) return Object.isFrozen(v) ? { tuple: v.map(plain) } : v.map(plain);
    if (v instanceof Map) return { dict: [...v].map(([k, x]) => [k, plain(x)]) };
    if (v !== null && typeof v === 'object') {
      const nd = (v as { nd: Float32Array }).nd;
      return { ndarray: { dtype: '<f4', shape: [nd.length], values: Array.from(nd, (x) => plain(x)) } };
    }
    return v;
  }
  const zeroes = (x: unknown): unknown => JSON.parse(JSON.stringify(x).replace(/-0(?![.\d])/g, '0'));

  it('round-trips generated values', () => {
    fc.assert(
      fc.property(value, (v) => {
        const back = loadPickle(pickleOf(v), { file: 'gen' });
        expect(zeroes(canon(back))).toEqual(zeroes(plain(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes give a value or a TlError, never another exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, proto) => {
        const buf = proto ? Uint8Array.from([0x80, 0x02, ...bytes]) : bytes;
        try {
          loadPickle(buf, { file: 'rnd' });
        } catch (e) {
          if (!(e instanceof TlError)) throw e;
          expect(e.message).toContain('rnd');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated real pickles give a value or a TlError, never another exception', () => {
    const sources = ['values_p0.pkl', 'values_p2.pkl', 'values_p4.pkl', 'values_py2.pkl', 'neon_old_py2.p'].map((f) => readFileSync(fx(f)));
    fc.assert(
      fc.property(
        fc.nat(sources.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat()),
        (si, edits, cut) => {
          const src = sources[si]!;
          let buf = Uint8Array.from(src);
          for (const [pos, b] of edits) buf[pos % buf.length] = b;
          if (cut !== null) buf = buf.subarray(0, cut % buf.length);
          try {
            loadPickle(buf, { file: 'mut', inPlace: true });
          } catch (e) {
            if (!(e instanceof TlError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('every test left /tmp without a payload file', () => {
    expect(existsSync('/tmp/tl-scratch-pwned-os-system')).toBe(false);
  });
});
