/**
 * The sort and the copy of the 0.1 map's names (map01.ts): wasm/namesort.c, loaded here. Each
 * thread has its own instance and memory (threadNameSort), laid out as
 *
 *   module stack | emit state | output chunk | sink buffer | name offsets | sort keys | read arena
 *
 * The generator reads every object into the arena region (generate-map.ts: vmlinux through
 * `arena`, a plain module by map01.ts emitModule01 with positional reads straight into `region`,
 * which is free between objects), so a string table is in the module's memory as it comes from
 * the file and the sort works on it in place; ns_filter writes the name offsets straight into
 * the offsets region, and a streamed map's names are written into its Sink's buffer, which is
 * in the memory too (sinkBuffer). A table read elsewhere (a decompressed module's) is copied
 * into the arena first. The memory
 * never grows (growing would detach every view handed out): a table with more names than the
 * offsets region holds, or one that no longer fits the arena, goes to a one-off instance.
 */
import { nameOffsets, namePastTable, ReadArena, type SymbolBytes } from '../elf/index.js';
import { WASM as NAMESORT_WASM } from './wasm/namesort.wasm.js';
import { LAYOUT_BASE, instantiate, pages } from './wasm/instance.js';
import type { Sink } from './generate-map.js';

/** bytes ns_emit writes per call, copied into the Sink (one whose buffer is elsewhere: sinkBuffer) */
const OUT = 1 << 18;
/** the buffer of a streamed map's Sink (STREAM_SIZE in generate-map.ts), which ns_emit writes into directly */
const SINK = 1 << 20;
/** a thread's instance: room for this many names (vmlinux has ~200k) ... */
const THREAD_NAMES = 1 << 19;
/** ... and a read arena this large (a module's reads, vmlinux's .symtab and .strtab: ~9 MB). Untouched pages cost nothing. */
const THREAD_ARENA = 32 << 20;
/** readable bytes after the arena: keys load 8 bytes at a time, the copy 16 */
const SLACK = 64;

export class NameSort {
  /** reads that land in the memory (valid until its reset: ReadArena) */
  readonly arena: ReadArena;
  /** the arena's region of the memory (map01.ts's module reader reads into it directly) */
  readonly region: Buffer;
  /** what ns_ehdr and ns_shdrs found (struct elf_info in namesort.c) */
  readonly info: Int32Array;
  private readonly memory: WebAssembly.Memory;
  private readonly nsSort: (b: number, a: number, k: number, n: number) => number;
  private readonly nsEmit: (b: number, a: number, n: number, s: number, out: number, cap: number) => number;
  private readonly nsEhdr: (h: number, o: number) => number;
  private readonly nsShdrs: (win: number, before: number, o: number) => number;
  private readonly nsLivepatch: (p: number, n: number) => number;
  private readonly regionAt: number;
  private readonly nsFilter: (raw: number, n: number, es: number, infoAt: number, be: number, skip: number, out: number, max: number) => number;
  private readonly offs: Uint32Array;
  private readonly state: Int32Array;
  private readonly out: Uint8Array;
  private readonly sink: Uint8Array;
  private readonly offsAt: number;
  private readonly keysAt: number;

  /** room for `names` name offsets and an arena of `arenaBytes` */
  constructor(readonly names: number, arenaBytes: number) {
    const outAt = LAYOUT_BASE + 64;
    const sinkAt = outAt + OUT;
    this.offsAt = sinkAt + SINK;
    this.keysAt = align8(this.offsAt + 4 * names);
    const arenaAt = align8(this.keysAt + 8 * names);
    this.memory = new WebAssembly.Memory({ initial: pages(arenaAt + arenaBytes + SLACK) });
    const ex = instantiate(NAMESORT_WASM, this.memory);
    this.nsSort = ex.ns_sort as NameSort['nsSort'];
    this.nsEmit = ex.ns_emit as NameSort['nsEmit'];
    this.nsFilter = ex.ns_filter as NameSort['nsFilter'];
    this.nsEhdr = ex.ns_ehdr as NameSort['nsEhdr'];
    this.nsShdrs = ex.ns_shdrs as NameSort['nsShdrs'];
    this.nsLivepatch = ex.ns_livepatch as NameSort['nsLivepatch'];
    this.regionAt = arenaAt;
    const buf = this.memory.buffer;
    this.state = new Int32Array(buf, LAYOUT_BASE, 3);
    this.info = new Int32Array(buf, INFO_AT, 10);
    this.out = new Uint8Array(buf, outAt, OUT);
    this.sink = new Uint8Array(buf, sinkAt, SINK);
    this.offs = new Uint32Array(buf, this.offsAt, names);
    this.region = Buffer.from(buf, arenaAt, arenaBytes);
    this.arena = new ReadArena(this.region);
  }

  /**
   * sinkBuffer is a buffer in this memory for one streamed Sink (with a drain) of this thread: the
   * names are written into it where it stands, no copy (see run)
   */
  sinkBuffer(): Uint8Array {
    return this.sink;
  }

  /** offsets returns the region to write `count` name offsets into, or undefined when it is too small */
  offsets(count: number): Uint32Array | undefined {
    return count <= this.names ? this.offs : undefined;
  }

  /**
   * filter is nameOffsets(t, skipTypes, this.offsets(t.count)) done by ns_filter, in the memory:
   * it returns how many offsets it wrote, or -1 when the table has more entries than the
   * offsets region holds or its bytes do not fit the arena (the caller runs nameOffsets). A table
   * read elsewhere (a decompressed module's) is copied into the arena first. A name offset
   * outside the string table throws nameOffsets' error.
   */
  filter(t: SymbolBytes, skipTypes: number): number {
    if (t.count > this.names) return -1;
    let raw = t.raw;
    if (!this.holds(raw)) {
      raw = this.copy(raw);
      if (!this.holds(raw)) return -1;
    }
    const h = t.elf.header, is64 = h.bits === 64;
    const k = this.nsFilter(raw.byteOffset, t.count, is64 ? 24 : 16, is64 ? 4 : 12, h.littleEndian ? 0 : 1, skipTypes, this.offsAt, LAYOUT_BASE + 8);
    const max = this.state[2]! >>> 0, strLen = t.strtab.length;
    if (namePastTable(max, strLen)) return nameOffsets(t, skipTypes, this.offs); // throws
    return k;
  }

  /** ehdr: ns_ehdr on the 64 bytes at region[at] (true: an ELF64 LE header the module reader takes; info holds it) */
  ehdr(at: number): boolean {
    return this.nsEhdr(this.regionAt + at, INFO_AT) === 0;
  }

  /** shdrs: ns_shdrs on the section header table at region[at + before], after `before` bytes of the file (true: taken; info holds it) */
  shdrs(at: number, before: number): boolean {
    return this.nsShdrs(this.regionAt + at, before, INFO_AT) === 0;
  }

  /** livepatch: modinfoHasLivepatch of the n bytes at region[at] (ns_livepatch) */
  livepatch(at: number, n: number): boolean {
    return this.nsLivepatch(this.regionAt + at, n) !== 0;
  }

  /**
   * filterAt is filter for the ELF64 little-endian table of `count` entries at region[at] whose
   * string table has strLen bytes: the offsets it wrote, or -1 when a name offset lies outside
   * the string table (nothing thrown: the caller reads the module again through ElfFile).
   */
  filterAt(at: number, count: number, skipTypes: number, strLen: number): number {
    const k = this.nsFilter(this.regionAt + at, count, 24, 4, 0, skipTypes, this.offsAt, LAYOUT_BASE + 8);
    const max = this.state[2]! >>> 0;
    return namePastTable(max, strLen) ? -1 : k;
  }

  /** emitAt is emit of the first k offsets filterAt wrote, the string table at region[at] */
  emitAt(at: number, k: number, out: Sink): void {
    if (k > 0) this.run(this.regionAt + at, k, out);
  }

  /**
   * emit appends to `out` the names that start at strtab[offs[0..k)] in strcmp order, each
   * followed by a newline. Every name must end at a NUL inside strtab.
   */
  emit(strtab: Uint8Array, offs: Uint32Array, k: number, out: Sink): void {
    if (k === 0) return;
    if (k > this.names) return new NameSort(k, strtab.length).emit(strtab, offs, k, out);
    if (offs !== this.offs) this.offs.set(offs.subarray(0, k));
    if (!this.holds(strtab)) {
      strtab = this.copy(strtab);
      if (!this.holds(strtab)) return new NameSort(k, strtab.length).emit(strtab, this.offs, k, out);
    }
    this.run(strtab.byteOffset, k, out);
  }

  /** run sorts this.offs[0..k) by the names at memory[b + offset] and appends them to out */
  private run(b: number, k: number, out: Sink): void {
    this.nsSort(b, this.offsAt, this.keysAt, k);
    const s = this.state;
    s[0] = 0;
    s[1] = -1;
    if (out.drain !== undefined && out.buf.buffer === this.memory.buffer) {
      // a streamed Sink whose buffer is in this memory (sinkBuffer): written where it stands
      while (s[0]! < k) {
        out.reserve(16); // drains when the buffer is nearly full (it never grows for 16 bytes)
        out.len += this.nsEmit(b, this.offsAt, k, LAYOUT_BASE, out.buf.byteOffset + out.len, out.buf.length - out.len);
      }
    } else {
      while (s[0]! < k) {
        const n = this.nsEmit(b, this.offsAt, k, LAYOUT_BASE, this.out.byteOffset, OUT);
        out.reserve(n);
        out.buf.set(this.out.subarray(0, n), out.len);
        out.len += n;
      }
    }
    out.lines += k;
  }

  /** copy puts bytes into the arena (outside the memory when the arena has outgrown its region) */
  private copy(bytes: Uint8Array): Uint8Array {
    const c = this.arena.take(bytes.length);
    c.set(bytes);
    return c;
  }

  /** holds tells whether `bytes` lie in this memory's arena, with the slack the C code reads past them */
  private holds(bytes: Uint8Array): boolean {
    const a = this.region;
    return bytes.buffer === a.buffer && bytes.byteOffset >= a.byteOffset && bytes.byteOffset + bytes.length <= a.byteOffset + a.length;
  }
}

const align8 = (n: number): number => (n + 7) & ~7;

/** struct elf_info (namesort.c): after the emit state and filter's maximum */
const INFO_AT = LAYOUT_BASE + 16;

let mine: NameSort | undefined;

/** threadNameSort is this thread's NameSort (a worker thread loads this module afresh: its own) */
export function threadNameSort(): NameSort {
  return (mine ??= new NameSort(THREAD_NAMES, THREAD_ARENA));
}
