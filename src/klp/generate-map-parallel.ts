/**
 * The symbol map generator on two (or more) threads. Worker threads read and extract modules;
 * the main thread plans the tree, reads vmlinux (the first and largest object, streamed out as it
 * is made), then takes modules too, and merges: it writes every chunk of modules as soon as all
 * chunks before it are written. Same bytes as generateSymbolMap, whatever -j and whatever the
 * timing:
 *
 *  - modules are handed out in fixed chunks of CHUNK consecutive modules (a shared counter, taken
 *    with Atomics.add); a worker posts each finished chunk's bytes on its own MessagePort, and the
 *    main thread picks them up between its own modules (receiveMessageOnPort: no event loop turn)
 *    and, once it has nothing left to read, as they arrive;
 *  - chunks that cannot be written yet (an earlier one is still being read) wait in memory, so
 *    what is held is about one chunk per thread plus what the slowest thread is behind;
 *  - on an error, a thread stops taking chunks after the one it is in; every chunk before the
 *    failing one was taken earlier and is finished, so the error of the first failing object in
 *    map order is the one reported (a worker's error is reproduced on the main thread, so the
 *    caller gets the same error object as from a single-threaded run). The caller discards what
 *    was written (AtomicFileWriter.abort).
 *
 * Without `write`, the merged chunks are collected as the result's parts.
 */
import * as os from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import {
  emitHeader, emitModule, emitVmlinux, generateSymbolMap, mapContext, mapResult, modinfoSkip, planTree, Sink, STREAM_SIZE,
  type GenerateOptions, type GenerateResult, type MapContext, type MapFormat, type ModuleEntry,
} from './generate-map.js';
import { findKernelTree } from './kernel-tree.js';

/** modules per chunk: small enough to balance the threads' finishing times, large enough to be cheap */
export const CHUNK = 8;

/** most threads -j may ask for: each worker costs ~40 ms to start and its own heap */
export const MAX_JOBS = 4;

/**
 * defaultJobs: two threads when there are more than two CPUs, else one. On two CPUs a worker
 * loses: at -j 1 V8's own background threads (concurrent optimising compiles, GC) already keep
 * the second CPU about a third busy, and a worker's start-up, its own compiles and its own heap
 * cost 37-50 % more CPU in all; on a quiet 2-vCPU machine -j 2 took 1.07-1.21x the wall time of
 * -j 1 on both corpora and both formats (bench/README, session 6). With a third CPU the worker has
 * one to itself (an assumption: this machine has two).
 */
export function defaultJobs(): number {
  return os.availableParallelism() > 2 ? 2 : 1;
}

// shared counters (Int32Array over a SharedArrayBuffer)
const NEXT = 0; // next chunk to take
const STOP = 1; // set when a thread failed: take no further chunk
const DONE = 2; // objects finished, for progress

/** what a worker is started with */
export interface WorkerInput {
  objtree: string;
  format: MapFormat;
  shared: SharedArrayBuffer;
  /** where the worker posts ChunkMessage and EndMessage */
  port: MessagePort;
  /** the worker's chunk ring (ChunkRing): RING bytes, then the count of bytes the main thread has written */
  ring: SharedArrayBuffer;
}

/**
 * the bytes of a worker's chunk ring. A worker puts each finished chunk in its ring and the main
 * thread writes it from there, then says how far it has written: no buffer per chunk. (A buffer
 * per chunk, transferred, stayed allocated until the main thread's next collection: 5–14 MiB of
 * peak RSS on the full corpus; moving it back to the worker for reuse detached it on the main
 * thread, which costs V8's detach protector there: +150 M instructions at -j 2 on cloud.) A
 * chunk that does not fit goes as a copy. 4 MiB holds what a worker makes while the main thread
 * reads vmlinux, the longest wait (~40 chunks of ~56 KB on the full corpus).
 */
export const RING = 4 << 20;

/**
 * ChunkRing is one side of a worker's ring: the worker puts chunks at increasing positions
 * (`put`), the main thread frees them in the same order once written (`free`). Positions are byte
 * counts since the start, modulo RING in the buffer; a chunk never wraps (the rest of the buffer
 * is skipped).
 */
export class ChunkRing {
  readonly bytes: Uint8Array;
  /** the count of bytes the main thread has written (freed), counted like `head`: low, high 32 bits */
  private readonly ctl: Int32Array;
  private head = 0;
  constructor(readonly sab: SharedArrayBuffer) {
    this.bytes = new Uint8Array(sab, 0, RING);
    this.ctl = new Int32Array(sab, RING, 2);
  }
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(RING + 8);
  }
  /** put copies a chunk in; returns its position and end, or undefined when it does not fit now */
  put(b: Uint8Array): { at: number; end: number } | undefined {
    const n = b.length;
    let start = this.head;
    let at = start % RING;
    if (at + n > RING) {
      start += RING - at;
      at = 0;
    }
    if (n > RING || start + n - this.written() > RING) return undefined;
    this.bytes.set(b, at);
    this.head = start + n;
    return { at, end: this.head };
  }
  /** free (main thread) records that everything up to `end` is written */
  free(end: number): void {
    // two 32-bit halves (Atomics has no Float64Array): low, then high; written() reads high,
    // then low, so it may see less written than there is, never more
    Atomics.store(this.ctl, 0, end % 0x100000000 | 0);
    Atomics.store(this.ctl, 1, Math.floor(end / 0x100000000));
  }
  private written(): number {
    const hi = Atomics.load(this.ctl, 1);
    const lo = Atomics.load(this.ctl, 0) >>> 0;
    return hi * 0x100000000 + lo;
  }
}

/** the plan, sent once the main thread has it */
export interface WorkerPlan {
  modules: ModuleEntry[];
}

/** one finished chunk of modules: its bytes (transferred) and line count */
export interface ChunkMessage {
  chunk: number;
  /** the bytes, when they did not fit in the ring (a copy) */
  bytes?: Uint8Array;
  /** else where they are in the ring: at, length, and the ring position after them */
  at?: number;
  length?: number;
  ringEnd?: number;
  lines: number;
}

/** a worker's last message */
export interface EndMessage {
  end: true;
  /** modules left out as livepatch modules (modinfo key): index and the file read (see openModule) */
  skipped: { index: number; file: string }[];
  /** the first object that failed: 1 + i = module i; with the message */
  failed?: { unit: number; message: string };
}

/** what one thread did with the chunks it took */
export interface ChunkLog {
  skipped: { index: number; file: string }[];
  failed?: { unit: number; message: string };
}

/**
 * runChunks takes chunks until none is left or a thread failed, writing each into `out` and
 * handing it to `done` (which takes the bytes out of `out`). Shared by the main thread and the
 * workers.
 */
export function runChunks(ctx: MapContext, modules: readonly ModuleEntry[], shared: Int32Array, out: Sink, log: ChunkLog,
  done: (chunk: number, bytes: Uint8Array, lines: number) => void, onObject?: (file: string) => void): void {
  const nChunks = Math.ceil(modules.length / CHUNK);
  for (;;) {
    if (Atomics.load(shared, STOP) !== 0) return;
    const c = Atomics.add(shared, NEXT, 1);
    if (c >= nChunks) return;
    out.len = 0;
    const lines = out.lines;
    const end = Math.min(modules.length, (c + 1) * CHUNK);
    for (let i = c * CHUNK; i < end; i++) {
      const m = modules[i]!;
      try {
        if (!emitModule(ctx, m, out)) log.skipped.push({ index: i, file: m.file });
      } catch (e) {
        log.failed = { unit: 1 + i, message: (e as Error).message };
        Atomics.store(shared, STOP, 1);
        throw e;
      } finally {
        Atomics.add(shared, DONE, 1);
        onObject?.(m.file);
      }
    }
    done(c, out.result(), out.lines - lines);
  }
}

interface Started {
  worker: Worker;
  port: MessagePort;
  ring: ChunkRing;
  /** its EndMessage, once received */
  end?: EndMessage;
  /** set when it exited or failed without an EndMessage */
  lost?: Error;
}

function startWorker(input: Omit<WorkerInput, 'port' | 'ring'>): Started {
  const { port1, port2 } = new MessageChannel();
  const ring = ChunkRing.create();
  // no `argv` option: the bundled bin knows it runs as this worker by a process.argv of two
  // entries (scripts/bundle.mjs; test/integration/bundle.test.ts runs -j 2 through it)
  const worker = new Worker(new URL('./generate-map-worker.js', import.meta.url), {
    workerData: { ...input, port: port2, ring } satisfies WorkerInput,
    transferList: [port2],
  });
  const s: Started = { worker, port: port1, ring: new ChunkRing(ring) };
  worker.once('error', (e) => (s.lost ??= e));
  worker.once('exit', (code) => (s.lost ??= new Error(`symbol map worker thread exited (code ${code}) without a result`)));
  return s;
}

/**
 * Merge writes chunks in chunk order: a chunk is written when every chunk before it is;
 * the others wait (copied, since the caller reuses its buffer).
 */
class Merge {
  next = 0;
  lines = 0;
  /** what writing threw: nothing more is written */
  error: unknown;
  private readonly waiting = new Map<number, { bytes: Uint8Array; lines: number; done?: (() => void) | undefined }>();
  constructor(private readonly total: number, private readonly write: (bytes: Uint8Array) => void) {}
  /**
   * add takes chunk c; `owned` bytes are not reused by the caller (a transferred buffer, a worker's
   * ring), and `done` (optional) is called once they are written
   */
  add(c: number, bytes: Uint8Array, lines: number, owned: boolean, done?: () => void): void {
    if (this.error !== undefined) return;
    if (c !== this.next) {
      this.waiting.set(c, owned ? { bytes, lines, done } : { bytes: bytes.slice(), lines });
      return;
    }
    this.emit(bytes, lines, done);
    for (let w = this.waiting.get(this.next); w !== undefined; w = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.emit(w.bytes, w.lines, w.done);
    }
  }
  private emit(bytes: Uint8Array, lines: number, done: (() => void) | undefined): void {
    if (this.error !== undefined) return;
    try {
      this.write(bytes);
    } catch (e) {
      this.error = e;
      this.waiting.clear();
      return;
    }
    this.lines += lines;
    this.next++;
    done?.();
  }
  get complete(): boolean {
    return this.next === this.total;
  }
}

/** take handles a message from a worker: a chunk goes to the merge, the end is recorded */
function take(s: Started, m: ChunkMessage | EndMessage, merge: Merge): void {
  if ('end' in m) s.end = m;
  else if (m.bytes !== undefined) merge.add(m.chunk, m.bytes, m.lines, true);
  else {
    const end = m.ringEnd!;
    merge.add(m.chunk, s.ring.bytes.subarray(m.at!, m.at! + m.length!), m.lines, true, () => s.ring.free(end));
  }
}

/** poll takes every message the workers have posted so far, without waiting */
function poll(workers: Started[], merge: Merge): void {
  for (const s of workers) {
    for (let r = receiveMessageOnPort(s.port); r !== undefined; r = receiveMessageOnPort(s.port)) take(s, r.message as ChunkMessage | EndMessage, merge);
  }
}

/** drain waits for every worker's end message, merging chunks as they come */
async function drain(workers: Started[], merge: Merge): Promise<void> {
  await Promise.all(workers.map((s) => new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (s.end !== undefined) {
        s.port.off('message', onMessage);
        resolve();
      } else if (s.lost !== undefined) {
        // the port may still hold what the worker posted before it went
        poll([s], merge);
        if (s.end !== undefined) check();
        else reject(s.lost);
      }
    };
    const onMessage = (m: ChunkMessage | EndMessage): void => {
      take(s, m, merge);
      check();
    };
    poll([s], merge);
    if (s.end !== undefined) return resolve();
    s.port.on('message', onMessage);
    s.worker.once('exit', () => setImmediate(check));
    check();
  })));
}

/**
 * generateSymbolMapParallel is generateSymbolMap on up to `jobs` threads (the main thread and
 * jobs - 1 workers, at most MAX_JOBS in all); jobs 1 runs generateSymbolMap itself.
 */
export async function generateSymbolMapParallel(opts: GenerateOptions & { jobs: number }): Promise<GenerateResult> {
  const jobs = Math.min(opts.jobs, MAX_JOBS);
  if (jobs <= 1) return generateSymbolMap(opts);
  const shared = new SharedArrayBuffer(3 * 4);
  // the workers start before the tree is planned: their start-up overlaps planning and vmlinux
  const tree = typeof opts.objtree === 'string' ? findKernelTree(opts.objtree) : opts.objtree;
  const workers: Started[] = [];
  try {
    for (let j = 1; j < jobs; j++) workers.push(startWorker({ objtree: tree.root, format: opts.format, shared }));
    return await mergeThreads(opts, tree, shared, workers);
  } finally {
    // a no-op for workers that finished; stops them when planning or this thread failed early
    for (const w of workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}

async function mergeThreads(opts: GenerateOptions, tree: ReturnType<typeof findKernelTree>, shared: SharedArrayBuffer,
  workers: Started[]): Promise<GenerateResult> {
  const counters = new Int32Array(shared);
  const collected: Uint8Array[] = [];
  let size = 0;
  const write = (b: Uint8Array): void => {
    if (opts.write !== undefined) opts.write(b);
    else collected.push(b.slice());
    size += b.length;
  };
  let plan;
  try {
    plan = planTree(tree);
  } catch (e) {
    Atomics.store(counters, STOP, 1);
    throw e;
  }
  const message: WorkerPlan = { modules: plan.modules };
  for (const w of workers) w.worker.postMessage(message);
  const ctx = mapContext(plan.objtree, opts.format);
  const total = plan.modules.length + 1;
  const nChunks = Math.ceil(plan.modules.length / CHUNK);
  const merge = new Merge(nChunks, write);
  const mine: ChunkLog = { skipped: [] };
  // header and vmlinux come first in the map: streamed straight out
  const out = new Sink(STREAM_SIZE, write);
  let error: unknown;
  let headerLines = 0;
  try {
    emitHeader(ctx, out);
    try {
      emitVmlinux(ctx, plan.vmlinux, out);
    } catch (e) {
      mine.failed = { unit: 0, message: (e as Error).message };
      Atomics.store(counters, STOP, 1);
      throw e;
    } finally {
      Atomics.add(counters, DONE, 1);
    }
    out.flush();
    headerLines = out.lines;
    out.drain = undefined; // chunks are handed to the merge whole
    out.lines = 0;
    runChunks(ctx, plan.modules, counters, out, mine, (c, bytes, lines) => {
      merge.add(c, bytes, lines, false);
      if (merge.error !== undefined) throw merge.error;
      poll(workers, merge);
    }, opts.onProgress && ((file) => opts.onProgress!(Atomics.load(counters, DONE), total, file)));
  } catch (e) {
    error = e;
    Atomics.store(counters, STOP, 1);
  }
  await drain(workers, merge);

  // the first failure in map order decides; reproduce a worker's here to throw the real error
  let failed: { unit: number; message: string; mine: boolean } | undefined;
  for (const o of [mine, ...workers.map((w) => w.end!)]) {
    if (o.failed !== undefined && (failed === undefined || o.failed.unit < failed.unit)) failed = { ...o.failed, mine: o === mine };
  }
  if (failed !== undefined) {
    if (failed.mine) throw error;
    emitModule(ctx, plan.modules[failed.unit - 1]!, new Sink());
    throw new Error(failed.message);
  }
  if (error !== undefined) throw error; // a failure writing the map
  if (merge.error !== undefined) throw merge.error;
  if (!merge.complete) throw new Error('symbol map: a chunk of modules was not read');
  opts.onProgress?.(total, total, plan.modules[plan.modules.length - 1]?.file ?? plan.vmlinux);

  const skipped = new Map<number, string>();
  for (const o of [mine, ...workers.map((w) => w.end!)]) for (const k of o.skipped) skipped.set(k.index, k.file);
  const kept: ModuleEntry[] = [];
  plan.modules.forEach((m, i) => {
    const file = skipped.get(i);
    if (file !== undefined) plan.livepatch.push(modinfoSkip(plan.objtree, { ...m, file }));
    else kept.push(m);
  });
  plan.modules = kept;
  const lines = headerLines + merge.lines;
  return opts.write !== undefined ? mapResult([], plan, lines, size) : mapResult(collected, plan, lines);
}
