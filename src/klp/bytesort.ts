/**
 * Stable byte-order sort of NUL-terminated names that live in one string table: what
 * `LC_ALL=C nm` does to a symbol list (strcmp order; glibc 2.36's qsort is a merge sort, so
 * equal names keep symbol-table order — and equal names print identical lines anyway).
 *
 * style.md §9 measured a default string sort at 200–290 ms for vmlinux's 189k names and a
 * Buffer.compare comparator at ~2 s. Both sorts here work on the raw bytes and never build a
 * string: sortNameOffsets is a most-significant-byte radix sort (counting sort per byte position,
 * stable), sortOffsetsInPlace a multikey quicksort; both use insertion sort for small buckets.
 * Kernel names share long prefixes (`__pfx_`, `__ksymtab_`, `__UNIQUE_ID_`), which both walk in
 * linear time per byte.
 */

const SMALL = 24;
const counts: Int32Array[] = [];

let tmp = new Uint32Array(1 << 16);

/**
 * sortOffsetsInPlace sorts name offsets themselves by the bytes they point at (strcmp order).
 * Not stable: for nm's output equal names print identical lines, so the items need no identity;
 * dropping the index indirection halves the memory reads.
 *
 * Multikey quicksort (Bentley & Sedgewick, "Fast algorithms for sorting and searching strings",
 * 1997): a three-way partition on the byte at `depth`, then the equal part moves on to the next
 * byte. Measured against the MSD radix sort below on vmlinux's 186k names in a fresh process (the
 * generator sorts each table once, so most of it runs before the JIT has warmed up): 37–42 ms
 * against 44–52 ms; no 257-entry count table per bucket.
 */
export function sortOffsetsInPlace(bytes: Uint8Array, offs: Uint32Array, n: number): void {
  if (n > 1) multikey(bytes, offs, 0, n, 0);
}

function multikey(b: Uint8Array, a: Uint32Array, lo: number, hi: number, depth: number): void {
  for (;;) {
    const n = hi - lo;
    if (n < SMALL_MK) {
      insertionDirect(b, a, lo, hi, depth);
      return;
    }
    // pivot: the median of the first, middle and last bytes
    const x = b[a[lo]! + depth]! | 0, y = b[a[lo + (n >> 1)]! + depth]! | 0, z = b[a[hi - 1]! + depth]! | 0;
    const v = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // [lo, lt) < v, [lt, i) == v, (gt, hi) > v
    let lt = lo, gt = hi - 1, i = lo;
    while (i <= gt) {
      const o = a[i]!;
      const c = b[o + depth]! | 0;
      if (c < v) {
        a[i++] = a[lt]!;
        a[lt++] = o;
      } else if (c > v) {
        a[i] = a[gt]!;
        a[gt--] = o;
      } else {
        i++;
      }
    }
    if (lt - lo > 1) multikey(b, a, lo, lt, depth);
    if (hi - gt > 2) multikey(b, a, gt + 1, hi, depth);
    if (v === 0) return; // the equal part's names all ended here: equal names
    lo = lt;
    hi = gt + 1;
    depth++;
  }
}

/** below this many names, insertion sort */
const SMALL_MK = 16;

function insertionDirect(b: Uint8Array, a: Uint32Array, lo: number, hi: number, depth: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= lo) {
      const y = a[j]!;
      let p = y + depth;
      let q = x + depth;
      let cy = b[p]! | 0;
      let cx = b[q]! | 0;
      while (cy === cx && cy !== 0) {
        cy = b[++p]! | 0;
        cx = b[++q]! | 0;
      }
      if (cy <= cx) break;
      a[j + 1] = y;
      j--;
    }
    a[j + 1] = x;
  }
}

/**
 * sortNameOffsets returns the permutation of 0..n-1 that orders the names starting at
 * `offs[0..n)` in `bytes` by strcmp, stable for equal names. `out` may be a reused buffer of at
 * least n entries; the result is its first n entries.
 */
export function sortNameOffsets(bytes: Uint8Array, offs: Uint32Array, n: number, out = new Uint32Array(n)): Uint32Array {
  for (let k = 0; k < n; k++) out[k] = k;
  if (n < 2) return out;
  if (tmp.length < n) tmp = new Uint32Array(Math.max(n, tmp.length * 2));
  sortRange(bytes, offs, out, 0, n, 0, 0);
  return out;
}


function sortRange(b: Uint8Array, offs: Uint32Array, idx: Uint32Array, lo: number, hi: number, depth: number, level: number): void {
  const count = counts[level] ?? (counts[level] = new Int32Array(257));
  for (;;) {
    if (hi - lo < SMALL) {
      insertion(b, offs, idx, lo, hi, depth);
      return;
    }
    count.fill(0);
    for (let j = lo; j < hi; j++) count[(b[offs[idx[j]!]! + depth]! | 0) + 1]!++;
    // a bucket holding everything: step to the next byte without moving anything
    const c0 = b[offs[idx[lo]!]! + depth]! | 0;
    if (count[c0 + 1] === hi - lo) {
      if (c0 === 0) return; // all names ended: equal, already in stable order
      depth++;
      continue;
    }
    for (let c = 1; c < 257; c++) count[c]! += count[c - 1]!;
    const t = tmp;
    for (let j = lo; j < hi; j++) {
      const x = idx[j]!;
      t[lo + count[b[offs[x]! + depth]! | 0]!++] = x;
    }
    for (let j = lo; j < hi; j++) idx[j] = t[j]!;
    // after distribution count[c] is the end of bucket c; bucket 0 (ended names) needs no work
    let start = lo + count[0]!;
    for (let c = 1; c < 256; c++) {
      const end = lo + count[c]!;
      if (end - start > 1) sortRange(b, offs, idx, start, end, depth + 1, level + 1);
      start = end;
    }
    return;
  }
}

function insertion(b: Uint8Array, offs: Uint32Array, idx: Uint32Array, lo: number, hi: number, depth: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const x = idx[i]!;
    const ox = offs[x]! + depth;
    let j = i - 1;
    while (j >= lo) {
      const y = idx[j]!;
      // strcmp(name[y] + depth, name[x] + depth) > 0 ?
      let p = offs[y]! + depth;
      let q = ox;
      let cy = b[p]! | 0;
      let cx = b[q]! | 0;
      while (cy === cx && cy !== 0) {
        cy = b[++p]! | 0;
        cx = b[++q]! | 0;
      }
      if (cy <= cx) break;
      idx[j + 1] = y;
      j--;
    }
    idx[j + 1] = x;
  }
}
