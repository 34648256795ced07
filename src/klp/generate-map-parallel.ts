/**
 * The symbol map generator on two (or more) threads: one worker thread reads vmlinux, its largest
 * object, while the main thread reads the modules; when the worker is done with vmlinux it takes
 * modules too. Same bytes as generateSymbolMap, whatever -j and whatever the timing:
 *
 *  - modules are handed out in fixed chunks of CHUNK consecutive modules (a shared counter, taken
 *    with Atomics.add); each thread writes its chunks into its own buffer and records where each
 *    chunk starts and ends; the main thread joins header, vmlinux and the chunks in chunk order;
 *  - on an error, a thread stops taking chunks after the one it is in; every chunk before the
 *    failing one was taken earlier and is finished, so the error of the first failing object in
 *    map order is the one reported (a worker's error is reproduced on the main thread, so the
 *    caller gets the same error object as from a single-threaded run).
 *
 * Measured on the 2-CPU bench machine (bench/README.md, whole process, medians): cloud corpus
 * 0.33 s with -j 1 and 0.30–0.35 s with -j 2; full corpus 0.76 s and 0.63 s. The worker costs
 * ~40 ms to start (its own isolate and module graph), which is why small trees gain little.
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  emitHeader, emitModule, emitVmlinux, generateSymbolMap, mapContext, mapResult, modinfoSkip, planTree, Sink, SINK_SIZE,
  type GenerateOptions, type GenerateResult, type MapContext, type MapFormat, type ModuleEntry,
} from './generate-map.js';
import { findKernelTree, type KernelTree } from './kernel-tree.js';

/** modules per chunk: small enough to balance the threads' finishing times, large enough to be cheap */
export const CHUNK = 8;

/** most threads -j may ask for: each worker costs ~40 ms to start and its own heap */
export const MAX_JOBS = 4;

/** defaultJobs: two threads when there are two CPUs, else one */
export function defaultJobs(): number {
  return Math.min(2, os.availableParallelism());
}

// shared counters (Int32Array over a SharedArrayBuffer)
const NEXT = 0; // next chunk to take
const STOP = 1; // set when a thread failed: take no further chunk
const DONE = 2; // objects finished, for progress

/** what a worker is started with */
export interface WorkerInput {
  objtree: string;
  format: MapFormat;
  vmlinux: string;
  /** whether this worker reads vmlinux before taking modules */
  withVmlinux: boolean;
  shared: SharedArrayBuffer;
}

/** the plan, sent once the main thread has it */
export interface WorkerPlan {
  modules: ModuleEntry[];
}

/** one thread's output: its buffer and the parts in it */
export interface ThreadOutput {
  bytes: Uint8Array;
  /** vmlinux's names [start, end), lines; only from the thread that read it */
  vmlinux?: { start: number; end: number; lines: number };
  /** chunk index, [start, end), lines */
  chunks: { chunk: number; start: number; end: number; lines: number }[];
  /** modules left out as livepatch modules (modinfo key): index and the file read (see openModule) */
  skipped: { index: number; file: string }[];
  /** the first object that failed: 0 = vmlinux, 1 + i = module i; with the message */
  failed?: { unit: number; message: string };
}

/**
 * runChunks takes chunks until none is left or a thread failed, writing into `out`.
 * Shared by the main thread and the workers.
 */
export function runChunks(ctx: MapContext, modules: readonly ModuleEntry[], shared: Int32Array, out: Sink, res: ThreadOutput,
  onObject?: (file: string) => void): void {
  const nChunks = Math.ceil(modules.length / CHUNK);
  for (;;) {
    if (Atomics.load(shared, STOP) !== 0) return;
    const c = Atomics.add(shared, NEXT, 1);
    if (c >= nChunks) return;
    const start = out.len, lines = out.lines;
    const end = Math.min(modules.length, (c + 1) * CHUNK);
    for (let i = c * CHUNK; i < end; i++) {
      const m = modules[i]!;
      try {
        if (!emitModule(ctx, m, out)) res.skipped.push({ index: i, file: m.file });
      } catch (e) {
        res.failed = { unit: 1 + i, message: (e as Error).message };
        Atomics.store(shared, STOP, 1);
        throw e;
      } finally {
        Atomics.add(shared, DONE, 1);
        onObject?.(m.file);
      }
    }
    res.chunks.push({ chunk: c, start, end: out.len, lines: out.lines - lines });
  }
}

/** runVmlinux writes vmlinux's names into `out` and records where they are. */
export function runVmlinux(ctx: MapContext, vmlinux: string, shared: Int32Array, out: Sink, res: ThreadOutput): void {
  const start = out.len, lines = out.lines;
  try {
    emitVmlinux(ctx, vmlinux, out);
  } catch (e) {
    res.failed = { unit: 0, message: (e as Error).message };
    Atomics.store(shared, STOP, 1);
    throw e;
  } finally {
    Atomics.add(shared, DONE, 1);
  }
  res.vmlinux = { start, end: out.len, lines: out.lines - lines };
}

export function emptyOutput(): ThreadOutput {
  return { bytes: new Uint8Array(0), chunks: [], skipped: [] };
}

function startWorker(input: WorkerInput): { worker: Worker; result: Promise<ThreadOutput> } {
  const worker = new Worker(new URL('./generate-map-worker.js', import.meta.url), { workerData: input });
  const result = new Promise<ThreadOutput>((resolve, reject) => {
    let got: ThreadOutput | undefined;
    worker.once('message', (m: ThreadOutput) => (got = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (got !== undefined) resolve(got);
      else reject(new Error(`symbol map worker thread exited (code ${code}) without a result`));
    });
  });
  result.catch(() => undefined); // not awaited when planning fails: no unhandled rejection
  return { worker, result };
}

/**
 * generateSymbolMapParallel is generateSymbolMap on up to `jobs` threads (the main thread and
 * jobs - 1 workers, at most MAX_JOBS in all); jobs 1 runs generateSymbolMap itself.
 */
export async function generateSymbolMapParallel(opts: GenerateOptions & { jobs: number }): Promise<GenerateResult> {
  const jobs = Math.min(opts.jobs, MAX_JOBS);
  if (jobs <= 1) return generateSymbolMap(opts);
  const shared = new SharedArrayBuffer(3 * 4);
  // the first worker starts on vmlinux before the modules are listed: its start-up overlaps planning
  const tree = typeof opts.objtree === 'string' ? findKernelTree(opts.objtree) : opts.objtree;
  const first = startWorker({ objtree: tree.root, format: opts.format, vmlinux: tree.vmlinux, withVmlinux: true, shared });
  const workers = [first];
  try {
    return await joinThreads(opts, tree, jobs, shared, workers);
  } finally {
    // a no-op for workers that finished; stops them when planning or this thread failed early
    for (const w of workers) void w.worker.terminate();
  }
}

async function joinThreads(opts: GenerateOptions, tree: KernelTree, jobs: number, shared: SharedArrayBuffer,
  workers: { worker: Worker; result: Promise<ThreadOutput> }[]): Promise<GenerateResult> {
  const counters = new Int32Array(shared);
  const plan = planTree(tree);
  const message: WorkerPlan = { modules: plan.modules };
  workers[0]!.worker.postMessage(message);
  for (let j = 2; j < jobs; j++) {
    const w = startWorker({ objtree: plan.objtree, format: opts.format, vmlinux: plan.vmlinux, withVmlinux: false, shared });
    w.worker.postMessage(message);
    workers.push(w);
  }
  const ctx = mapContext(plan.objtree, opts.format);
  const total = plan.modules.length + 1;
  const out = new Sink(SINK_SIZE);
  emitHeader(ctx, out);
  const headerEnd = out.len, headerLines = out.lines;
  const mine = emptyOutput();
  let error: unknown;
  try {
    runChunks(ctx, plan.modules, counters, out, mine,
      opts.onProgress && ((file) => opts.onProgress!(Atomics.load(counters, DONE), total, file)));
  } catch (e) {
    error = e;
  }
  mine.bytes = out.buf;
  const outputs = [mine, ...(await Promise.all(workers.map((w) => w.result)))];

  // the first failure in map order decides; reproduce a worker's here to throw the real error
  let failed: { unit: number; message: string; mine: boolean } | undefined;
  for (const o of outputs) {
    if (o.failed !== undefined && (failed === undefined || o.failed.unit < failed.unit)) failed = { ...o.failed, mine: o === mine };
  }
  if (failed !== undefined) {
    if (failed.mine) throw error;
    const scratch = new Sink();
    if (failed.unit === 0) emitVmlinux(ctx, plan.vmlinux, scratch);
    else emitModule(ctx, plan.modules[failed.unit - 1]!, scratch);
    throw new Error(failed.message);
  }
  opts.onProgress?.(total, total, plan.modules[plan.modules.length - 1]?.file ?? plan.vmlinux);

  // join: header, vmlinux, chunks in order (views, written one after the other)
  let lines = headerLines;
  const byChunk: { o: ThreadOutput; start: number; end: number }[] = [];
  const skipped = new Map<number, string>();
  let vm: { o: ThreadOutput; start: number; end: number } | undefined;
  for (const o of outputs) {
    if (o.vmlinux !== undefined) {
      vm = { o, start: o.vmlinux.start, end: o.vmlinux.end };
      lines += o.vmlinux.lines;
    }
    for (const c of o.chunks) {
      byChunk[c.chunk] = { o, start: c.start, end: c.end };
      lines += c.lines;
    }
    for (const k of o.skipped) skipped.set(k.index, k.file);
  }
  if (vm === undefined) throw new Error('symbol map: no thread read vmlinux');
  if (byChunk.length !== Math.ceil(plan.modules.length / CHUNK)) throw new Error('symbol map: a chunk of modules was not read');
  const parts = [out.buf.subarray(0, headerEnd)];
  for (const part of [vm, ...byChunk]) {
    if (part === undefined) throw new Error('symbol map: a chunk of modules was not read');
    const last = parts[parts.length - 1]!;
    // consecutive chunks of one thread are adjacent in its buffer: one part
    if (last.buffer === part.o.bytes.buffer && last.byteOffset + last.length === part.o.bytes.byteOffset + part.start) {
      parts[parts.length - 1] = part.o.bytes.subarray(last.byteOffset - part.o.bytes.byteOffset, part.end);
    } else {
      parts.push(part.o.bytes.subarray(part.start, part.end));
    }
  }
  const kept: ModuleEntry[] = [];
  plan.modules.forEach((m, i) => {
    const file = skipped.get(i);
    if (file !== undefined) plan.livepatch.push(modinfoSkip(plan.objtree, { ...m, file }));
    else kept.push(m);
  });
  plan.modules = kept;
  return mapResult(parts, plan, lines);
}
