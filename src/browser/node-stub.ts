// node:fs, node:os and node:path for the browser bundle, as far as the feature cache uses
// them: a page keeps the cache in memory, so the file-backed path must never run there.
const absent = (name: string) => (): never => {
  throw new Error(`${name} is not available in the browser bundle (the feature cache stays in memory there)`);
};
export const closeSync = absent('fs.closeSync');
export const mkdtempSync = absent('fs.mkdtempSync');
export const openSync = absent('fs.openSync');
export const readSync = absent('fs.readSync');
export const rmSync = absent('fs.rmSync');
export const writeSync = absent('fs.writeSync');
export const tmpdir = (): string => '/tmp';
export const join = (...parts: string[]): string => parts.join('/');
