/**
 * Worker thread of generateSymbolMapParallel (generate-map-parallel.ts): takes chunks of modules
 * until none is left, posting each chunk's bytes on its port as soon as it is done (the main
 * thread merges them in order), then an end message with what it left out or what failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { mapContext, Sink, STREAM_SIZE } from './generate-map.js';
import { ChunkRing, runChunks, type ChunkLog, type ChunkMessage, type EndMessage, type WorkerInput, type WorkerPlan } from './generate-map-parallel.js';

const input = workerData as WorkerInput;
const counters = new Int32Array(input.shared);
const ctx = mapContext(input.objtree, input.format);
const out = new Sink(STREAM_SIZE);
const log: ChunkLog = { skipped: [] };
const ring = new ChunkRing(input.ring);

// a function, not top-level await: the bundled CLI (scripts/bundle.mjs) is CommonJS
async function run(): Promise<void> {
  const [{ modules }] = (await once(parentPort!, 'message')) as [WorkerPlan];
  try {
    runChunks(ctx, modules, counters, out, log, (chunk, bytes, lines) => {
      const r = ring.put(bytes);
      if (r !== undefined) {
        const m: ChunkMessage = { chunk, at: r.at, length: bytes.length, ringEnd: r.end, lines };
        input.port.postMessage(m);
      } else {
        const own = bytes.slice(); // its own ArrayBuffer, moved to the main thread
        const m: ChunkMessage = { chunk, bytes: own, lines };
        input.port.postMessage(m, [own.buffer as ArrayBuffer]);
      }
    });
  } catch (e) {
    // log.failed names the object and the main thread reproduces the error; anything else is a bug
    if (log.failed === undefined) throw e;
  }
  const end: EndMessage = { end: true, ...log };
  input.port.postMessage(end);
}

run().catch((e: unknown) => {
  throw e; // an uncaught error in the worker: the main thread's 'error' handler reports it
});
