// A worker thread of the lease benchmark: runs its share of one load (lease-load.ts) and posts the
// result back, so the generator's work is spread over threads like the main loads' (load-worker.ts).
import { parentPort } from 'node:worker_threads';
import { runLeaseLoad, type LeaseLoadSpec } from './lease-load.js';

parentPort!.on('message', (spec: LeaseLoadSpec) => {
  runLeaseLoad(spec).then(
    (result) => parentPort!.postMessage({ result }),
    (err: unknown) => parentPort!.postMessage({ failed: err instanceof Error ? err.message : String(err) }),
  );
});
