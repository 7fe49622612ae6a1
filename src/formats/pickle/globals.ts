// The allow-list of globals a pickle may name: numpy's array and dtype reconstructors,
// `_codecs.encode`, plain containers and copyreg's plain-object reconstructor. Each is inert:
// it builds a value and runs nothing from the file. Callers add their own (torch's rebuild
// functions) through PickleOptions.globals.

import { buildNpArray, codecsEncode, numpyScalar, parseDtypeSpec } from './numpy.js';
import {
  argCount,
  defineGlobal,
  describe,
  dictKey,
  isPyGlobal,
  NpArray,
  PyBytes,
  PyDict,
  PyObject,
  PySet,
  pyText,
  tuple,
  type CallContext,
  type PyGlobal,
} from './values.js';

const ndarrayClass = defineGlobal({ module: 'numpy', name: 'ndarray', isClass: true });
const objectClass = defineGlobal({ module: 'builtins', name: 'object', isClass: true });

function makeDefaultGlobals(): Map<string, PyGlobal> {
  const m = new Map<string, PyGlobal>();
  const add = (mods: string[], name: string, g: Omit<PyGlobal, 'module' | 'name'>): void => {
    for (const mod of mods) m.set(`${mod}.${name}`, defineGlobal({ module: mod, name, ...g }));
  };
  const multiarray = ['numpy.core.multiarray', 'numpy._core.multiarray'];
  add(multiarray, '_reconstruct', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 3, 3, ctx, 'numpy _reconstruct');
      const sub = args[0];
      if (!isPyGlobal(sub) || !sub.isClass || !(sub.name === 'ndarray' || sub.tag === 'ndarray')) {
        ctx.fail(`numpy _reconstruct of ${describe(sub)}, only numpy.ndarray is supported`);
      }
      return new NpArray(`${sub.module}.${sub.name}`);
    },
  });
  add(multiarray, 'scalar', { call: numpyScalar });
  // Protocol 5: numpy pickles arrays as _frombuffer(PickleBuffer(a), dtype, shape, order).
  add(['numpy.core.numeric', 'numpy._core.numeric'], '_frombuffer', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 4, 4, ctx, 'numpy _frombuffer');
      const [buffer, dtype, shape, order] = args;
      const o = pyText(order);
      if (o !== 'C' && o !== 'F') ctx.fail(`numpy _frombuffer order ${describe(order)}`);
      if (!(buffer instanceof PyBytes)) ctx.fail(`numpy _frombuffer of ${describe(buffer)}`);
      const a = new NpArray('numpy.ndarray');
      buildNpArray(a, tuple([1, shape, dtype, o === 'F', buffer]), ctx);
      return a;
    },
  });
  m.set('numpy.ndarray', ndarrayClass);
  add(['numpy'], 'dtype', {
    isClass: true,
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 1, 3, ctx, 'numpy.dtype');
      const spec = pyText(args[0]);
      if (spec === undefined) ctx.fail(`numpy.dtype of ${describe(args[0])}`);
      return parseDtypeSpec(spec, ctx);
    },
  });
  add(['_codecs'], 'encode', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 1, 3, ctx, '_codecs.encode');
      const enc = args.length > 1 ? pyText(args[1])?.toLowerCase().replace(/[-_]/g, '') : 'utf8';
      if (enc !== 'latin1' && enc !== 'iso88591') ctx.fail(`_codecs.encode with encoding '${String(enc)}', only 'latin1' is supported`);
      return codecsEncode(args[0], ctx);
    },
  });
  add(['collections'], 'OrderedDict', {
    isClass: true,
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 0, 1, ctx, 'collections.OrderedDict');
      const d = new PyDict(true);
      if (args.length === 1) {
        const items = args[0];
        if (!Array.isArray(items)) ctx.fail('collections.OrderedDict of a non-list');
        for (const it of items) {
          if (!Array.isArray(it) || it.length !== 2) ctx.fail('collections.OrderedDict item is not a pair');
          d.set(dictKey(it[0]), it[1]);
        }
      }
      return d;
    },
  });
  const builtins = ['builtins', '__builtin__'];
  const makeSet = (frozen: boolean) => (args: readonly unknown[], ctx: CallContext): PySet => {
    argCount(args, 0, 1, ctx, frozen ? 'frozenset' : 'set');
    const s = new PySet(frozen);
    if (args.length === 1) {
      const items = args[0];
      if (!Array.isArray(items)) ctx.fail(`${frozen ? 'frozenset' : 'set'} of ${describe(items)}`);
      for (const it of items) s.add(dictKey(it));
    }
    return s;
  };
  add(builtins, 'set', { isClass: true, call: makeSet(false) });
  add(builtins, 'frozenset', { isClass: true, call: makeSet(true) });
  const makeBytes = (args: readonly unknown[], ctx: CallContext): PyBytes => {
    argCount(args, 0, 2, ctx, 'bytes');
    if (args.length === 0) return new PyBytes(new Uint8Array(0), false);
    const a = args[0];
    if (args.length === 2) {
      const enc = pyText(args[1])?.toLowerCase().replace(/[-_]/g, '');
      if (enc !== 'latin1' && enc !== 'iso88591') ctx.fail(`bytes(str, '${String(enc)}'), only latin-1 is supported`);
      return codecsEncode(a, ctx);
    }
    if (a instanceof PyBytes) return new PyBytes(a.data.slice(), false); // a copy, as bytearray() makes
    if (Array.isArray(a)) {
      const out = new Uint8Array(a.length);
      a.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) ctx.fail('bytes() of a list with a non-byte item');
        out[i] = x;
      });
      return new PyBytes(out, false);
    }
    ctx.fail(`bytes() of ${describe(a)}`);
  };
  add(builtins, 'bytes', { isClass: true, call: makeBytes });
  add(builtins, 'bytearray', { isClass: true, call: makeBytes });
  m.set('builtins.object', objectClass);
  m.set('__builtin__.object', objectClass);
  add(['copyreg', 'copy_reg'], '_reconstructor', {
    call(args: readonly unknown[], ctx: CallContext) {
      argCount(args, 3, 3, ctx, 'copyreg._reconstructor');
      const [cls, base, state] = args;
      if (!isPyGlobal(cls) || !cls.isClass) ctx.fail(`copyreg._reconstructor of ${describe(cls)}`);
      if (base !== objectClass || state !== null) {
        ctx.fail(`copyreg._reconstructor of ${cls.module}.${cls.name} on base ${describe(base)}: only plain objects are supported`);
      }
      if (cls.newobj) return cls.newobj([], ctx);
      return new PyObject(cls);
    },
  });
  return m;
}

export const DEFAULT_GLOBALS = makeDefaultGlobals();
