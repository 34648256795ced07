// NameSort (src/klp/namesort.ts, wasm/namesort.c): the 0.1 map's names in strcmp order, each
// followed by a newline, held to a naive sort (Buffer.compare) on seeded random name sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameSort } from '../../src/klp/namesort.js';
import { Sink } from '../../src/klp/generate-map.js';

/** naive: the names sorted by Buffer.compare (byte order, as LC_ALL=C nm), each with its newline */
function naive(names: Buffer[]): Buffer {
  return Buffer.concat(names.slice().sort(Buffer.compare).flatMap((n) => [n, Buffer.from('\n')]));
}

/**
 * lay writes the names, NUL-terminated, into `into` (from byte 1: offset 0 is the empty name, as
 * in an ELF string table) and their offsets into `offs`; a name equal to an earlier one may reuse
 * its bytes (the linker merges strings) and a name may be the tail of another. Returns the table's length.
 */
function lay(names: Buffer[], into: Uint8Array, offs: Uint32Array, rnd: (n: number) => number): number {
  let at = 1;
  into[0] = 0;
  const placed = new Map<string, number>();
  names.forEach((n, i) => {
    const key = n.toString('latin1');
    const old = placed.get(key);
    if (n.length === 0 && rnd(2) === 0) offs[i] = 0;
    else if (old !== undefined && rnd(2) === 0) offs[i] = old;
    else {
      into.set(n, at);
      into[at + n.length] = 0;
      offs[i] = at;
      placed.set(key, at);
      // the tail of this name, as a name of its own, now and then (suffix merging)
      if (n.length > 2 && i + 1 < names.length && rnd(8) === 0) names[i + 1] = Buffer.from(n.subarray(1 + rnd(n.length - 1)));
      at += n.length + 1;
    }
  });
  return at;
}

function randomNames(size: number, rnd: (n: number) => number, maxLen: number): Buffer[] {
  const prefixes = ['', '', '__pfx_', '__ksymtab_', '__UNIQUE_ID_', '__UNIQUE_ID_ddebug', 'a'];
  const alphabet = [0x5f, 0x5f, 0x61, 0x62, 0x5a, 0x2e, 0x30, 0xe9, 0x7f, 0x80, 0xff, 0x01];
  const names: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    if (i > 0 && rnd(4) === 0) {
      names.push(names[rnd(i)]!); // equal names
      continue;
    }
    const bytes = [...Buffer.from(prefixes[rnd(prefixes.length)]!)];
    const len = rnd(maxLen + 1);
    for (let k = 0; k < len; k++) bytes.push(alphabet[rnd(alphabet.length)]!);
    names.push(Buffer.from(bytes));
  }
  return names;
}

function run(sorter: NameSort, strtab: Uint8Array, offs: Uint32Array, n: number, sink = new Sink(64)): Buffer {
  sorter.emit(strtab, offs, n, sink);
  assert.equal(sink.lines, n);
  return Buffer.from(sink.result());
}

test('NameSort writes names in byte order: shared prefixes, empty, equal and merged names, bytes >= 0x80', () => {
  let seed = 20261202;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const sorter = new NameSort(1 << 14, 1 << 20);
  for (const size of [0, 1, 2, 3, 15, 16, 17, 40, 100, 1000, 10000]) {
    for (const maxLen of [0, 3, 9, 24]) {
      const names = randomNames(size, rnd, maxLen);
      const offs = sorter.offsets(size)!;
      const tab = sorter.arena.take(1 << 19); // read into the sorter's memory, as the generator does
      const len = lay(names, tab, offs, rnd);
      assert.deepEqual(run(sorter, tab.subarray(0, len), offs, size), naive(names), `size ${size}, names up to ${maxLen} bytes`);
      sorter.arena.reset();
    }
  }
});

test('NameSort: prefixes first, high bytes last, like LC_ALL=C', () => {
  const names = ['ab', 'a', '', 'A', 'a\xff', 'a\x01', '_a', 'b', 'abcdefgh', 'abcdefg', 'abcdefghi', 'abcdefgh\x80'].map((s) => Buffer.from(s, 'latin1'));
  const sorter = new NameSort(64, 1 << 12);
  const offs = sorter.offsets(names.length)!;
  const tab = sorter.arena.take(1 << 10);
  const len = lay(names, tab, offs, () => 1);
  assert.equal(run(sorter, tab.subarray(0, len), offs, names.length).toString('latin1'),
    ['', 'A', '_a', 'a', 'a\x01', 'ab', 'abcdefg', 'abcdefgh', 'abcdefghi', 'abcdefgh\x80', 'a\xff', 'b', ''].join('\n'));
});

test('NameSort: output past one write chunk, a name longer than a chunk, long equal names', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const long = Buffer.alloc(300_000, 0x61);
  long[long.length - 1] = 0x62;
  const names = [...randomNames(4000, rnd, 300), long, Buffer.from(long), Buffer.alloc(299_999, 0x61)];
  const sorter = new NameSort(1 << 13, 4 << 20);
  const offs = sorter.offsets(names.length)!;
  const tab = sorter.arena.take(3 << 20);
  const len = lay(names, tab, offs, rnd);
  // a streamed Sink (drained as it fills) and a growing one give the same bytes
  const drained: Buffer[] = [];
  const streamed = new Sink(1 << 16, (b) => drained.push(Buffer.from(b)));
  const want = naive(names);
  assert.ok(want.length > 1 << 20);
  run(sorter, tab.subarray(0, len), offs, names.length, streamed);
  streamed.flush();
  assert.deepEqual(Buffer.concat(drained), want);
  assert.deepEqual(run(sorter, tab.subarray(0, len), offs, 0), Buffer.alloc(0));
});

test('NameSort: a table outside its memory, or with more names than it has room for, is sorted all the same', () => {
  let seed = 99;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const names = randomNames(500, rnd, 12);
  const strtab = new Uint8Array(1 << 16);
  const offs = new Uint32Array(names.length);
  const len = lay(names, strtab, offs, rnd);
  const small = new NameSort(100, 1 << 12);
  assert.equal(small.offsets(names.length), undefined);
  assert.deepEqual(run(small, strtab.subarray(0, len), offs, names.length), naive(names));
  // copied into the arena (it has room for the table once), then with the arena outgrown
  const roomy = new NameSort(1000, len + 100);
  assert.deepEqual(run(roomy, strtab.subarray(0, len), offs, names.length), naive(names));
  assert.deepEqual(run(roomy, strtab.subarray(0, len), offs, names.length), naive(names));
});
