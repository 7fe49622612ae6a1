// tl-scratch's own package.json, found from this module's location (src/util/ when run from
// source, dist/src/util/ when built or installed), so the version printed and recorded is
// the one of the package actually running, wherever it is installed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TlError } from './errors.js';

export interface PackageInfo {
  name: string;
  version: string;
  /** The folder holding package.json (and models/, data/ in a complete package). */
  root: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      let json: { name?: unknown; version?: unknown };
      try {
        json = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        throw new TlError(`${path}: not valid JSON (${(e as Error).message}); reinstall tl-scratch`);
      }
      if (json.name === 'tl-scratch' && typeof json.version === 'string') {
        cached = { name: json.name, version: json.version, root: dir };
        return cached;
      }
    }
    dir = dirname(dir);
  }
  throw new TlError("cannot find tl-scratch's package.json above its modules; is the package complete? (reinstall it)");
}
