// Track task 10, import-by-name: a reference solution (importMatchingLayers of src/transfer/import.ts, by name, without aliases and the report lines).
import { isParamLayer } from '../../../src/models/model.js';
import type { Model, SourceLayer, WeightArray } from '../../../src/index.js';

export interface ImportResult {
  imported: string[];
  notInSource: string[];
}

export function importByName(source: SourceLayer[], model: Model): ImportResult {
  const map = new Map<string, WeightArray>();
  for (const src of source) {
    for (const a of src.params) {
      if (src.kind === 'bias') map.set(`${src.name}/b`, a);
      else if (a.name === 'W') map.set(`${src.name}/W`, a);
      else if (a.name === 'b') map.set(`${src.name}_bias/b`, a);
    }
  }
  const result: ImportResult = { imported: [], notInSource: [] };
  const copies: (() => void)[] = [];
  for (const layer of model.layers) {
    if (!isParamLayer(layer)) continue;
    const found = layer.params().map((p) => ({ p, a: map.get(`${layer.name}/${p.name}`) }));
    if (found.some(({ a }) => !a)) {
      result.notInSource.push(layer.name);
      continue;
    }
    for (const { p, a } of found) {
      const same = a!.shape.length === p.value.shape.length && a!.shape.every((d, i) => d === p.value.shape[i]);
      if (!same) throw new Error(`layer '${layer.name}' ${p.name} has shape [${p.value.shape.join(', ')}] in the model but [${a!.shape.join(', ')}] in the source`);
      copies.push(() => p.value.setValues(a!.data));
    }
    result.imported.push(layer.name);
  }
  for (const c of copies) c(); // only once every shape was checked
  return result;
}
