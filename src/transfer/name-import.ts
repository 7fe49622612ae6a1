// The seam of the exercise track's import-by-name task: importMatchingLayers matches source
// layers to the model's by name (with the aliases of aliases.ts) or by order; while a
// by-name import is set here, a by-name call runs that one instead, and the experiments,
// `train --source_model` and the demo import through it.
import type { SourceLayer } from '../formats/types.js';
import type { Model } from '../models/model.js';

/** A by-name import: copies what `source` provides into `model`, all or nothing; the layers imported and those the source lacks. */
export type NameImport = (source: SourceLayer[], model: Model) => { imported: string[]; notInSource: string[] };

let current: NameImport | null = null;

/** The import set by setNameImport, or null: importMatchingLayers' own. */
export function nameImport(): NameImport | null {
  return current;
}

/** Make importMatchingLayers' by-name matching run `fn` (null restores its own); returns the one it replaces. */
export function setNameImport(fn: NameImport | null): NameImport | null {
  const prev = current;
  current = fn;
  return prev;
}
