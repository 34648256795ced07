/**
 * Worker thread of generateSymbolMapParallel (generate-map-parallel.ts): reads vmlinux if asked,
 * then takes chunks of modules until none is left, and posts its buffer and the parts in it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { mapContext, Sink, SINK_SIZE } from './generate-map.js';
import { emptyOutput, runChunks, runVmlinux, type WorkerInput, type WorkerPlan } from './generate-map-parallel.js';

const input = workerData as WorkerInput;
const port = parentPort!;
const counters = new Int32Array(input.shared);
const ctx = mapContext(input.objtree, input.format);
const out = new Sink(SINK_SIZE);
const res = emptyOutput();
// the plan arrives while vmlinux is read
const plan = once(port, 'message') as Promise<[WorkerPlan]>;

// a function, not top-level await: the bundled CLI (scripts/bundle.mjs) is CommonJS
async function run(): Promise<void> {
  try {
    if (input.withVmlinux) runVmlinux(ctx, input.vmlinux, counters, out, res);
    const [{ modules }] = await plan;
    runChunks(ctx, modules, counters, out, res);
  } catch (e) {
    // res.failed names the object and the main thread reproduces the error; anything else is a bug
    if (res.failed === undefined) throw e;
  }
  res.bytes = out.buf;
  port.postMessage(res, [out.buf.buffer as ArrayBuffer]);
}

run().catch((e: unknown) => {
  throw e; // an uncaught error in the worker: the main thread's 'error' handler reports it
});
