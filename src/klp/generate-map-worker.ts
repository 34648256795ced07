/**
 * Worker thread of generateSymbolMapParallel (generate-map-parallel.ts): takes chunks of modules
 * until none is left, posting each chunk's bytes on its port as soon as it is done (the main
 * thread merges them in order), then an end message with what it left out or what failed.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { mapContext, Sink, STREAM_SIZE } from './generate-map.js';
import { runChunks, type ChunkLog, type ChunkMessage, type EndMessage, type WorkerInput, type WorkerPlan } from './generate-map-parallel.js';

const input = workerData as WorkerInput;
const counters = new Int32Array(input.shared);
const ctx = mapContext(input.objtree, input.format);
const out = new Sink(STREAM_SIZE);
const log: ChunkLog = { skipped: [] };

/** buffers the main thread moved back once it wrote the chunk they held */
const pool: ArrayBuffer[] = [];

/** chunkBuffer returns a buffer of at least n bytes to move a chunk in: one given back, else a new one */
function chunkBuffer(n: number): ArrayBuffer {
  for (let r = receiveMessageOnPort(input.port); r !== undefined; r = receiveMessageOnPort(input.port)) pool.push(r.message as ArrayBuffer);
  for (let i = 0; i < pool.length; i++) {
    const b = pool[i]!;
    if (b.byteLength < n) continue;
    pool[i] = pool[pool.length - 1]!;
    pool.pop();
    return b;
  }
  return new ArrayBuffer(Math.max(n, CHUNK_BUFFER));
}

/** the least a new chunk buffer holds (a chunk of 8 modules is ~56 KB on average on the full corpus) */
const CHUNK_BUFFER = 1 << 17;

// a function, not top-level await: the bundled CLI (scripts/bundle.mjs) is CommonJS
async function run(): Promise<void> {
  const [{ modules }] = (await once(parentPort!, 'message')) as [WorkerPlan];
  try {
    runChunks(ctx, modules, counters, out, log, (chunk, bytes, lines) => {
      const buf = chunkBuffer(bytes.length); // moved to the main thread, which gives it back
      const own = new Uint8Array(buf, 0, bytes.length);
      own.set(bytes);
      const m: ChunkMessage = { chunk, bytes: own, lines };
      input.port.postMessage(m, [buf]);
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
