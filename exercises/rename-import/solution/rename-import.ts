// Exercise rename-import: a reference solution.
import type { SourceLayer } from '../../../src/formats/types.js';
import type { Model } from '../../../src/models/model.js';
import { importMatchingLayers, type ImportReport } from '../../../src/transfer/import.js';

const BACKBONE = /^backbone\.stage([1-5])\.conv([1-3])$/;

/** 'backbone.stage<b>.conv<i>' → 'conv<b>_<i>'; other names unchanged. */
export function labNameFor(fileName: string): string {
  const m = BACKBONE.exec(fileName);
  return m ? `conv${m[1]}_${m[2]}` : fileName;
}

/**
 * Renames by building new SourceLayer records (the arrays are shared, not copied), so the
 * caller's list keeps its names; then imports by name. The report's unusedInSource lists
 * the new names of the layers nothing took.
 */
export function importRenamed(source: readonly SourceLayer[], model: Model, rename: (fileName: string) => string): ImportReport {
  const renamed = source.map((l) => ({ ...l, name: rename(l.name) }));
  return importMatchingLayers(renamed, model, { log: () => {} });
}
