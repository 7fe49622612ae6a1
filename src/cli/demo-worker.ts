// Worker thread of the demo: runs the jobs it is sent, one at a time, and reports each
// epoch as it ends ({epoch}) and each run when it is done ({ok, record} or {ok: false}).
import { parentPort } from 'node:worker_threads';
import { runDemoJob, type DemoJob } from './demo-job.js';

parentPort!.on('message', (job: DemoJob) => {
  runDemoJob(job, (epoch) => parentPort!.postMessage({ epoch })).then(
    (record) => parentPort!.postMessage({ ok: true, record }),
    (e: Error) => parentPort!.postMessage({ ok: false, message: e.message, stack: e.stack }),
  );
});
