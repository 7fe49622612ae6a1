// Which Python runs the PyTorch side of the tests and benchmarks: $TL_PYTHON, else Debian's
// /usr/bin/python3 (python3-torch, python3-h5py), else the first python3 on PATH; the first
// that imports torch, h5py and numpy. Another python3 may come first on PATH (a virtual
// environment without torch), which is why /usr/bin/python3 is tried before it.
import { spawnSync } from 'node:child_process';

/** `{ python, torch }` (the interpreter and torch's version), or `{ missing }`: one line saying what to install. */
export function torchPython() {
  const candidates = [process.env.TL_PYTHON, '/usr/bin/python3', 'python3'].filter((p) => p);
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, h5py, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return { missing: `no Python with torch and h5py (tried ${candidates.join(', ')}); Debian: apt-get install python3-torch python3-h5py, or set TL_PYTHON` };
}
