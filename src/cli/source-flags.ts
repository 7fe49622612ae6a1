// --width_mult and --fc_size from the source model when they are not typed: a source trained
// at a reduced width imports only into a model of the same width. VGG-16's first conv has
// 64·w filters (W [64·w, C, 3, 3]); its hidden dense layers have fc_size outputs (fc7's W
// [fc_size, fc_size], or fc7_new's in a tl-scratch transfer checkpoint).
import type { WeightFile } from '../formats/types.js';
import { labName } from '../transfer/aliases.js';
import type { ModelFlags } from './model-options.js';

function outputs(file: WeightFile, names: readonly string[]): { name: string; n: number } | undefined {
  for (const name of names) {
    const l = file.layers.find((x) => labName(x.name) === name);
    const W = l?.params.find((a) => a.name === 'W');
    if (l && W && W.shape.length >= 2) return { name: l.name, n: W.shape[0]! };
  }
  return undefined;
}

/**
 * The width and dense size the source's weights have, for the flags not typed (`explicit`)
 * and not taken from a checkpoint being resumed (`fixed`); with the line that says so, or no
 * line when they are the defaults already.
 */
export function modelFlagsFromSource<F extends ModelFlags>(f: F, source: WeightFile, fixed: ReadonlySet<keyof ModelFlags>): { flags: F; line?: string } {
  const said: string[] = [];
  const flags: F = { ...f };
  const conv = outputs(source, ['conv1_1']);
  if (conv && !fixed.has('widthMult')) {
    const w = conv.n / 64;
    if (w !== f.widthMult) {
      flags.widthMult = w;
      said.push(`--width_mult ${w} (${conv.name} has ${conv.n} filters, VGG-16's 64)`);
    }
  }
  const dense = outputs(source, ['fc7', 'fc7_new']);
  if (dense && !fixed.has('fcSize') && dense.n !== f.fcSize) {
    flags.fcSize = dense.n;
    said.push(`--fc_size ${dense.n} (${dense.name} has ${dense.n} outputs)`);
  }
  return said.length ? { flags, line: `model: ${said.join(' and ')}, from the source model ${source.path}; type the flag to override` } : { flags };
}
