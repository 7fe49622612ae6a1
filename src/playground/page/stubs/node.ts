// node:fs, node:module, node:path, node:url and node:zlib as src/data/builtin.ts imports them,
// for the playground's bundle (scripts/build-playground.mjs): the page builds ImageSets from
// arrays the server sends and never reads the IDX files itself, so these must never run.
const absent = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser (the playground server reads the data files)`);
};
export const existsSync = (): boolean => false;
export const readFileSync = absent('fs.readFileSync');
export const createRequire = absent('module.createRequire');
export const fileURLToPath = absent('url.fileURLToPath');
export const gunzipSync = absent('zlib.gunzipSync');
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '');
export const join = (...parts: string[]): string => parts.join('/');
