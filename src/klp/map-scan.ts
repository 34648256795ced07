/**
 * Finding a few dozen lines in a symbol map of ~1.3 M lines without parsing the rest: the
 * converter's map load (`kernel build -> symbols.klp -> module link -> convert -> livepatch load`).
 *
 * The map is read in chunks with positional reads (a 35 MB map never sits in memory whole),
 * straight into WebAssembly memory, where LineScan (wasm/linescan.c) searches each chunk for
 * all wanted lines and the object lines (`*...`) in one pass. Measured on the generic Debian
 * 6.12 map (30 MB, 60 names): one `String.prototype.indexOf` per name ~9 ms each, 0.55 s in all;
 * a JS pass over every line ~0.3 s; a Wu-Manber window search in TypeScript ~30 ms (with a
 * native byte search for `*` and a Buffer.indexOf and toString per object line); LineScan
 * ~7 ms warm, ~10 ms in a fresh process.
 *
 * Chunks end at their last newline and the next chunk starts at that newline, so every line is
 * whole in exactly one chunk and every pattern (`\n<name>\n`, `\n<name> `) starts in one chunk.
 */
import * as fs from 'node:fs';
import { WASM as LINESCAN_WASM } from './wasm/linescan.wasm.js';
import { LAYOUT_BASE, instantiate, pages } from './wasm/instance.js';

/**
 * LineScan finds every occurrence of a set of byte patterns that all end with the same
 * terminator byte (`<name>\n` in a 0.1 map, `<name> ` or `\n<name> ` in an ext map), and, with
 * `objects`, every line that starts with `*`. The loop is wasm/linescan.c: it visits each
 * terminator (SIMD compares, 64 bytes a step) and hashes the k bytes before it (k = the
 * shortest pattern body, at most 8) into a 65,536-bit filter; a filter hit compares the patterns
 * of that hash. Its tables, the patterns and one chunk buffer live in the module's memory; the
 * caller reads file bytes straight into chunk. Measured on the generic Debian 6.12 0.1 map
 * (30 MB, 60 names, scan only, warm): a Wu-Manber window search in TypeScript ~30 ms, the same
 * loop in WebAssembly ~27 ms (each step waits on the last: load, hash, table, jump); this ~7 ms.
 */
export class LineScan {
  private readonly memory: WebAssembly.Memory;
  private readonly lsScan: (s: number, b: number, i: number, end: number, out: number, cap: number, npat: number) => number;
  private readonly npat: number;
  private readonly outAt: number;
  private readonly cap: number;
  private readonly chunkAt: number;
  private readonly otextAt: number;
  private view!: Buffer;
  private outView!: Int32Array;
  private header!: Int32Array;
  private size = 0;

  /**
   * patterns: each at least 2 bytes, all ending with the same byte (none: objects only);
   * chunk: the first chunk size
   */
  constructor(readonly patterns: readonly Uint8Array[], objects: boolean, chunk: number) {
    const term = patterns.length > 0 ? patterns[0]![patterns[0]!.length - 1]! : 10;
    let minBody = 8, bodyBytes = 0;
    for (const p of patterns) {
      if (p.length < 2 || p[p.length - 1] !== term) throw new Error('LineScan: patterns must be 2 bytes or more and end with the same byte');
      minBody = Math.min(minBody, p.length - 1);
      bodyBytes += p.length - 1;
    }
    const k = Math.min(minBody, 8);
    this.npat = patterns.length;
    this.cap = Math.max(1 << 14, 128 * (this.npat + 1));
    // layout: struct ls | filter | head | next | pofs | plen | pattern bodies | out pairs |
    // object texts | 16 | chunk
    const filterAt = LAYOUT_BASE + 64;
    const headAt = filterAt + FILTER_BITS / 8;
    const nextAt = headAt + 4 * HEAD;
    const pofsAt = nextAt + 4 * this.npat;
    const plenAt = pofsAt + 4 * this.npat;
    const patAt = plenAt + 4 * this.npat + 8; // 8: tail hashes read 8 bytes before a body's end
    this.outAt = align16(patAt + bodyBytes);
    this.otextAt = this.outAt + 8 * this.cap;
    this.chunkAt = this.otextAt + OTEXT + 16; // b[-8, 0) is readable and holds no newline
    this.memory = new WebAssembly.Memory({ initial: pages(this.chunkAt + chunk + CHUNK_SLACK) });
    const ex = instantiate(LINESCAN_WASM, this.memory);
    this.lsScan = ex.ls_scan as LineScan['lsScan'];
    const lsHash = ex.ls_hash as (p: number, k: number) => number;
    const mem = Buffer.from(this.memory.buffer);
    const i32 = new Int32Array(this.memory.buffer);
    i32.set([filterAt, headAt, nextAt, pofsAt, plenAt, patAt, k, term, objects ? 1 : 0, 0, this.otextAt, OTEXT, 0, 0], LAYOUT_BASE / 4);
    i32.fill(-1, headAt / 4, headAt / 4 + HEAD);
    // a hash's chain lists longer bodies first: matches at one terminator come out in position order
    const order = patterns.map((_, n) => n).sort((x, y) => patterns[x]!.length - patterns[y]!.length || y - x);
    let at = patAt;
    const ofs = patterns.map((p) => {
      mem.set(p.subarray(0, p.length - 1), at);
      at += p.length - 1;
      return at;
    });
    for (const n of order) {
      const h = lsHash(ofs[n]!, k);
      mem[filterAt + (h >> 3)]! |= 1 << (h & 7);
      i32[nextAt / 4 + n] = i32[headAt / 4 + (h & (HEAD - 1))]!;
      i32[headAt / 4 + (h & (HEAD - 1))] = n;
      i32[pofsAt / 4 + n] = ofs[n]! - (patterns[n]!.length - 1) - patAt;
      i32[plenAt / 4 + n] = patterns[n]!.length - 1;
    }
    this.grow(chunk);
  }

  /** chunk is the buffer to read into (valid until the next grow) */
  get chunk(): Buffer {
    return this.view;
  }

  /** grow makes chunk at least `size` bytes */
  grow(size: number): void {
    const need = pages(this.chunkAt + size + CHUNK_SLACK);
    const have = this.memory.buffer.byteLength / 65536;
    if (need > have) this.memory.grow(need - have);
    this.size = size;
    this.view = Buffer.from(this.memory.buffer, this.chunkAt, size);
    this.outView = new Int32Array(this.memory.buffer, this.outAt, 2 * this.cap);
    this.header = new Int32Array(this.memory.buffer, LAYOUT_BASE, 16);
  }

  /**
   * scan appends, in position order, (pattern index, start) for each occurrence inside
   * chunk[0, end) and, with objects, (-1, offset of the `*`) for each object line, whose text
   * (without the `*`) it appends to `texts`.
   */
  scan(end: number, out: number[], texts: string[]): void {
    if (end > this.size) throw new RangeError('LineScan.scan: end is past the chunk');
    for (let i = 0; i < end;) {
      const n = this.lsScan(LAYOUT_BASE, this.chunkAt, i, end, this.outAt, this.cap, this.npat);
      const o = this.outView, h = this.header;
      // struct ls: .olen, .overflow; object texts in one decode unless one did not fit
      const copied = h[13] === 0 ? Buffer.from(this.memory.buffer, this.otextAt, h[12]!).toString('latin1').split('\n') : undefined;
      let t = 0;
      for (let q = 0; q < 2 * n; q += 2) {
        const k = o[q]!, at = o[q + 1]!;
        if (k >= 0) {
          out.push(k, at);
          continue;
        }
        out.push(-1, at);
        texts.push(copied !== undefined ? copied[t++]! : this.view.toString('latin1', at + 1, at - k));
      }
      i = h[9]!; // struct ls .resume
    }
  }
}

/** room for object line texts per ls_scan call (a chunk of an ext map holds ~300 KB of them) */
const OTEXT = 1 << 20;
const FILTER_BITS = 1 << 16;
/** chain heads, indexed by the hash's low bits (linescan.c HEAD) */
const HEAD = 4096;
/** bytes after the chunk: the SIMD loop loads 64 at a time */
const CHUNK_SLACK = 64;
const align16 = (n: number): number => (n + 15) & ~15;

/** a line of the map found by scanMap: the first pattern that matched it, where it starts, its text */
export interface FoundLine {
  pattern: number;
  /** file offset of the line's first byte */
  at: number;
  /** the line without its newline, latin1 */
  text: string;
}

/** an object line (`*...`): file offset and text without the `*` */
export interface ObjectLine {
  at: number;
  text: string;
}

/** the chunk size: fits in L2 with room; a 30 MB map takes 30 reads (4 MiB chunks cost ~1-2 ms more in first-touch page faults) */
const CHUNK = 1 << 20;

/**
 * Patterns shorter than this are searched with Buffer.indexOf, one native pass each: LineScan's
 * filter hashes the shortest body's bytes, and one or two bytes would pass most terminators.
 */
const SHORT = 5;

/**
 * scanMap reads a map file in chunks and returns, in file order, every line that contains one
 * of `patterns` (each line once) and, with `objects`, every object line. A pattern either
 * starts with the newline before its line or ends with the line's newline; all patterns end
 * with the same byte (LineScan). The caller has checked that the file ends with a newline.
 * `chunk` is the first read size (tests use tiny chunks to put lines across chunk ends).
 */
export function scanMap(fd: number, size: number, patterns: readonly Uint8Array[], objects: boolean, chunk = CHUNK): { lines: FoundLine[]; objects: ObjectLine[] } {
  const long: number[] = [], short: number[] = [];
  patterns.forEach((p, k) => (p.length >= SHORT ? long : short).push(k));
  const first = Math.min(chunk, Math.max(size, 1));
  const search = long.length > 0 || objects ? new LineScan(long.map((k) => patterns[k]!), objects, first) : undefined;
  const lines: FoundLine[] = [];
  const objs: ObjectLine[] = [];
  let buf = search?.chunk ?? Buffer.allocUnsafe(first);
  let base = 0;
  while (base < size - 1) {
    const len = readAt(fd, buf, base, Math.min(buf.length, size - base));
    // the chunk's lines end at its last newline; a line longer than the chunk grows it
    const last = base + len >= size ? len - 1 : buf.lastIndexOf(10, len - 1);
    if (last <= 0) {
      if (search !== undefined) {
        search.grow(buf.length * 2);
        buf = search.chunk;
      } else {
        buf = Buffer.allocUnsafe(buf.length * 2);
      }
      continue;
    }
    // only lines that end in this chunk count (the next chunk starts at its last newline)
    const hits: { k: number; at: number }[] = [];
    if (search !== undefined) {
      const found: number[] = [], texts: string[] = [];
      search.scan(len, found, texts);
      for (let f = 0, t = 0; f < found.length; f += 2) {
        const k = found[f]!, at = found[f + 1]!;
        const text = k < 0 ? texts[t++]! : '';
        if (at >= last) continue;
        if (k >= 0) hits.push({ k: long[k]!, at });
        else objs.push({ at: base + at, text });
      }
    }
    if (short.length > 0) {
      const view = buf.subarray(0, len);
      for (const k of short) for (let at = view.indexOf(patterns[k]!); at >= 0 && at < last; at = view.indexOf(patterns[k]!, at + 1)) hits.push({ k, at });
      hits.sort((a, b) => a.at - b.at);
    }
    // several patterns can match one line (a name and its __ksymtab_ line); they come together
    let prev = -1;
    for (const h of hits) {
      const start = patterns[h.k]![0] === 10 ? h.at + 1 : buf.lastIndexOf(10, h.at - 1) + 1;
      if (start === prev) continue;
      prev = start;
      lines.push({ pattern: h.k, at: base + start, text: buf.toString('latin1', start, buf.indexOf(10, h.at + 1)) });
    }
    base += last;
  }
  return { lines, objects: objs };
}

function readAt(fd: number, buf: Buffer, pos: number, len: number): number {
  let n = 0;
  while (n < len) {
    const r = fs.readSync(fd, buf, n, len - n, pos + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/**
 * readLinesAt returns the lines starting at file offset `at` for as long as `more(line)` holds.
 * Each read is decoded once and split with String indexOf (a Buffer method per line costs
 * ~1 µs in a fresh process; vmlinux's file table in an ext map has ~3,000 lines).
 */
export function readLinesAt(fd: number, size: number, at: number, more: (line: string) => boolean): string[] {
  const out: string[] = [];
  let buf = Buffer.allocUnsafe(1 << 16);
  let pos = at;
  for (;;) {
    const len = readAt(fd, buf, pos, Math.min(buf.length, size - pos));
    if (len === 0) return out;
    const text = buf.toString('latin1', 0, len); // latin1: one character per byte, offsets agree
    let s = 0;
    for (let e = text.indexOf('\n'); e >= 0; e = text.indexOf('\n', s)) {
      const line = text.slice(s, e);
      if (!more(line)) return out;
      out.push(line);
      s = e + 1;
    }
    if (s === 0) buf = Buffer.allocUnsafe(buf.length * 2);
    pos += s;
  }
}

/** lineNumberAt counts the lines before file offset `at` (1-based line of the byte at `at`). */
export function lineNumberAt(fd: number, at: number): number {
  const buf = Buffer.allocUnsafe(1 << 20);
  let line = 1;
  for (let pos = 0; pos < at;) {
    const len = readAt(fd, buf, pos, Math.min(buf.length, at - pos));
    if (len === 0) break;
    for (let q = buf.indexOf(10, 0); q >= 0 && q < len; q = buf.indexOf(10, q + 1)) line++;
    pos += len;
  }
  return line;
}
