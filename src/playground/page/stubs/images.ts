// pngjs and jpeg-js as src/data/image.ts imports them, for the playground's bundle: the page
// decodes images with the browser's own decoders (createImageBitmap in folder.ts).
const absent = (): never => {
  throw new Error('file decoders are not bundled in the page; the browser decodes images');
};
export const decode = absent;
export class PNG {
  static sync = { read: absent, write: absent };
}
