// `npm run test:torch`: the PyTorch tests (test/python/: the shipped python/ helpers and
// DistributedDataParallel fine-tuning in two CPU processes). Where no Python has torch,
// one line says so and the script exits 0: the rest of the project does not need it.
import { spawnSync } from 'node:child_process';
import { torchPython } from './torch-python.mjs';

const found = torchPython();
if (found.missing) {
  console.log(`test:torch: skipped: ${found.missing}`);
  process.exit(0);
}
console.log(`test:torch: ${found.python}, torch ${found.torch}`);
const r = spawnSync('npx', ['vitest', 'run', 'test/python'], { stdio: 'inherit', env: { ...process.env, TL_PYTHON: found.python } });
process.exit(r.status ?? 1);
