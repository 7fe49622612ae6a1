// Worker thread of the demo: runs the jobs it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { runDemoJob, type DemoJob } from './demo-job.js';

parentPort!.on('message', (job: DemoJob) => {
  runDemoJob(job).then(
    (record) => parentPort!.postMessage({ ok: true, record }),
    (e: Error) => parentPort!.postMessage({ ok: false, message: e.message, stack: e.stack }),
  );
});
