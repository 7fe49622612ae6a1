// What to do about a parameter whose shape in the model differs from the source's, said as
// the flag that fixes it. VGG-16's shapes tell the cause apart:
//   conv W [K, C, R, S]: C differs at the first conv → the data's channels (gray vs RGB);
//                        K differs → the width (VGG-16's K is 64, 128, 256, 512, 512 by block)
//   dense W [out, in]:   in differs at the first dense layer → the image size (in = K·(H/32)·(W/32));
//                        out differs → --fc_size (hidden layers) or the class count (the last)

/** VGG-16's filter count of block b (1-based), what --width_mult 1 builds. */
const VGG16_WIDTH = [64, 128, 256, 512, 512];

/** A number as a flag value: 0.0625, 0.5, 3. */
function flagValue(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/**
 * The fix for a shape mismatch of `param` of model layer `layer` (the lab's names), given the
 * model's input [C, H, W] and whether the layer is the model's first conv, first dense or
 * last dense layer. Ends with the --mismatch alternative.
 */
export function mismatchHint(
  m: { layer: string; param: string; modelShape: readonly number[]; sourceShape: readonly number[] },
  ctx: { inShape?: readonly number[]; firstConv: boolean; firstDense: boolean; lastDense: boolean },
): string {
  const skip = "or pass --mismatch skip to leave mismatched layers at their initialization and train them as new layers";
  const [ko, ki] = m.modelShape;
  const [so, si] = m.sourceShape;
  let fix = '';
  if (m.param === 'W' && m.modelShape.length === 4 && m.sourceShape.length === 4) {
    if (ki !== si && ctx.firstConv) {
      const want = si === 1 ? 'gray' : si === 3 ? 'rgb' : undefined;
      fix = `the source takes ${si}-channel images and the data has ${ki} channel${ki === 1 ? '' : 's'}: ${want ? `prepare the data with 'tl-scratch prepare --channels ${want}'` : `the data needs ${si} channels`}`;
    } else if (ko !== so) {
      const block = /^conv(\d)_/.exec(m.layer);
      const base = block ? VGG16_WIDTH[Number(block[1]) - 1] : undefined;
      fix = base
        ? `the source's ${m.layer} has ${so} filters (VGG-16's has ${base}): build the model at the source's width with --width_mult ${flagValue(so! / base)}`
        : `the source's ${m.layer} has ${so} filters and the model's ${ko}: check --width_mult`;
    }
  } else if (m.param === 'W' && m.modelShape.length === 2 && m.sourceShape.length === 2) {
    if (ki !== si && ctx.firstDense && ctx.inShape && ctx.inShape.length === 3) {
      const side = ctx.inShape[1]! / 32;
      const K = ki! / (side * side);
      const srcSide = Math.sqrt(si! / K);
      fix = Number.isInteger(srcSide) && Number.isInteger(K)
        ? `the source's ${m.layer} takes ${si} = ${K}·${srcSide}·${srcSide} values: it was trained on ${32 * srcSide}×${32 * srcSide} images and the data is ${ctx.inShape[1]}×${ctx.inShape[2]}; prepare the data with --size ${32 * srcSide} (export: --image_size ${32 * srcSide})`
        : `the source's ${m.layer} takes ${si} values and the model's ${ki}: the image size differs (prepare --size, export --image_size)`;
    } else if (ko !== so && ctx.lastDense) {
      fix = `the source has ${so} classes and the data ${ko}: use --model vgg16_transfer (a new head for the data's classes)`;
    } else if (ko !== so) {
      fix = `the source's ${m.layer} has ${so} outputs: build the model with --fc_size ${so}`;
    }
  }
  return fix ? `${fix}; ${skip}` : `check --width_mult, --fc_size and the image size; ${skip}`;
}
