/**
 * Finding a few dozen lines in a symbol map of ~1.3 M lines without parsing the rest: the
 * converter's map load (`kernel build -> symbols.klp -> module link -> convert -> livepatch load`).
 *
 * The map is read in chunks with positional reads (a 35 MB map never sits in memory whole) and
 * each chunk is searched for all wanted lines at once with a Wu-Manber multi-pattern search: a
 * window as long as the shortest pattern slides over the bytes, and a table keyed on the
 * window's last three bytes says how far it may jump (usually the whole window), so most bytes
 * are never looked at. Measured on the generic Debian 6.12 map (30 MB, 60 names): one
 * `String.prototype.indexOf` per name costs ~9 ms each, 0.55 s in all; a JS pass over every
 * line ~0.3 s; this ~20 ms. Object lines (`*...`) are found with a native byte search for `*`,
 * which is rare in maps.
 *
 * Chunks end at their last newline and the next chunk starts at that newline, so every line is
 * whole in exactly one chunk and every pattern (`\n<name>\n`, `\n<name> `) starts in one chunk.
 */
import * as fs from 'node:fs';

/** MultiSearch finds every occurrence of a set of byte patterns (Wu-Manber, 3-byte blocks). */
export class MultiSearch {
  private readonly min: number;
  private readonly shift: Uint8Array;
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  constructor(readonly patterns: readonly Uint8Array[]) {
    let min = Infinity;
    for (const p of patterns) min = Math.min(min, p.length);
    if (!(min >= BLOCK)) throw new Error(`MultiSearch: patterns must be at least ${BLOCK} bytes`);
    this.min = Math.min(min, 255 + BLOCK - 1);
    const m = this.min;
    this.shift = new Uint8Array(TABLE).fill(m - BLOCK + 1);
    this.head = new Int32Array(TABLE).fill(-1);
    this.next = new Int32Array(patterns.length);
    patterns.forEach((p, k) => {
      for (let j = BLOCK - 1; j < m; j++) {
        const h = hash(p[j - 2]!, p[j - 1]!, p[j]!);
        const s = m - 1 - j;
        if (s < this.shift[h]!) this.shift[h] = s;
      }
      const h = hash(p[m - 3]!, p[m - 2]!, p[m - 1]!);
      this.next[k] = this.head[h]!;
      this.head[h] = k;
    });
  }

  /**
   * scan appends (pattern index, position) to `out` for every occurrence inside b[0, end), in
   * position order.
   */
  scan(b: Uint8Array, end: number, out: number[]): void {
    const m = this.min, shift = this.shift, head = this.head, next = this.next, pats = this.patterns;
    let i = m - 1;
    while (i < end) {
      const h = hash(b[i - 2]!, b[i - 1]!, b[i]!);
      const s = shift[h]!;
      if (s !== 0) {
        i += s;
        continue;
      }
      const at = i - m + 1;
      for (let k = head[h]!; k >= 0; k = next[k]!) {
        const p = pats[k]!;
        if (at + p.length > end) continue;
        let j = 0;
        while (j < p.length && b[at + j] === p[j]) j++;
        if (j === p.length) out.push(k, at);
      }
      i++;
    }
  }

  /**
   * warmUp runs the search once over its own patterns, so that V8 has seen every path of scan()
   * (hits included) before the long scan: optimised code compiled while a path had never run
   * was thrown away ("insufficient type feedback") at the first hit, costing ~30 % of a map scan.
   */
  warmUp(): void {
    let n = 0;
    for (const p of this.patterns) n += p.length + 1;
    const b = Buffer.alloc(n); // a Buffer, like the chunks: a plain Uint8Array has another map
    let at = 0;
    for (const p of this.patterns) {
      b.set(p, at);
      at += p.length + 1;
    }
    this.scan(b, n, []);
  }
}

const BLOCK = 3;
const TABLE = 1 << 15;

function hash(a: number, b: number, c: number): number {
  return ((a << 10) ^ (b << 5) ^ c) & (TABLE - 1);
}

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

/** the chunk size: a 1.3 M-line map takes ~10 reads */
const CHUNK = 4 << 20;

/**
 * Patterns shorter than this are searched with Buffer.indexOf, one native pass each: the
 * multi-pattern search can jump at most as far as its shortest pattern is long.
 */
const SHORT = 8;

/**
 * scanMap reads a map file in chunks and returns, in file order, every line that contains one
 * of `patterns` (each line once) and, with `objects`, every object line. A pattern either
 * starts with the newline before its line or ends with the line's newline. The caller has
 * checked that the file ends with a newline. `chunk` is the first read size (tests use tiny
 * chunks to put lines across chunk ends).
 */
export function scanMap(fd: number, size: number, patterns: readonly Uint8Array[], objects: boolean, chunk = CHUNK): { lines: FoundLine[]; objects: ObjectLine[] } {
  const long: number[] = [], short: number[] = [];
  patterns.forEach((p, k) => (p.length >= SHORT ? long : short).push(k));
  const search = long.length > 0 ? new MultiSearch(long.map((k) => patterns[k]!)) : undefined;
  search?.warmUp();
  const lines: FoundLine[] = [];
  const objs: ObjectLine[] = [];
  let buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(size, 1)));
  let base = 0;
  while (base < size - 1) {
    const len = readAt(fd, buf, base, Math.min(buf.length, size - base));
    // the chunk's lines end at its last newline; a line longer than the chunk grows it
    const last = base + len >= size ? len - 1 : buf.lastIndexOf(10, len - 1);
    if (last <= 0) {
      buf = Buffer.allocUnsafe(buf.length * 2);
      continue;
    }
    const hits: { k: number; at: number }[] = [];
    const accept = (k: number, at: number): void => {
      // only lines that end in this chunk (the next chunk starts at its last newline)
      if (at < last) hits.push({ k, at });
    };
    if (search !== undefined) {
      const found: number[] = [];
      search.scan(buf, len, found);
      for (let f = 0; f < found.length; f += 2) accept(long[found[f]!]!, found[f + 1]!);
    }
    if (short.length > 0) {
      const view = buf.subarray(0, len);
      for (const k of short) for (let at = view.indexOf(patterns[k]!); at >= 0; at = view.indexOf(patterns[k]!, at + 1)) accept(k, at);
      hits.sort((a, b) => a.at - b.at);
    }
    let prev = -1;
    for (const h of hits) {
      const start = patterns[h.k]![0] === 10 ? h.at + 1 : buf.lastIndexOf(10, h.at - 1) + 1;
      if (start === prev) continue;
      prev = start;
      lines.push({ pattern: h.k, at: base + start, text: buf.toString('latin1', start, buf.indexOf(10, h.at + 1)) });
    }
    if (objects) {
      for (let q = buf.indexOf(0x2a, 0); q >= 0 && q < last; q = buf.indexOf(0x2a, q + 1)) {
        if (q > 0 && buf[q - 1] === 10) objs.push({ at: base + q, text: buf.toString('latin1', q + 1, buf.indexOf(10, q)) });
      }
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

/** readLinesAt returns the lines starting at file offset `at` for as long as `more(line)` holds. */
export function readLinesAt(fd: number, size: number, at: number, more: (line: string) => boolean): string[] {
  const out: string[] = [];
  let buf = Buffer.allocUnsafe(1 << 16);
  let pos = at;
  for (;;) {
    const len = readAt(fd, buf, pos, Math.min(buf.length, size - pos));
    if (len === 0) return out;
    let s = 0;
    for (;;) {
      const e = buf.indexOf(10, s);
      if (e < 0 || e >= len) break;
      const line = buf.toString('latin1', s, e);
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
