// The converter's map load without parsing what it does not need (src/klp/map-scan.ts and
// scanSymbolMap in src/klp/symbol-map.ts): the WebAssembly line scan against a naive search, and
// the scanned load against the full parser on seeded random maps of both formats, with chunks so
// small that lines and patterns fall across chunk ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineScan } from '../../src/klp/map-scan.js';
import { loadSymbolMap, scanSymbolMap, type SymbolMap } from '../../src/klp/symbol-map.js';
import { SymbolMapError } from '../../src/klp/errors.js';
import { mulberry32 } from '../helpers/prng.js';

/** naive: every (pattern, start) of `pats` in `text` and every object line, in position order */
function naive(text: Buffer, pats: readonly Buffer[], objects: boolean): { pairs: string[]; texts: string[] } {
  const found: [number, string][] = [];
  const texts: [number, string][] = [];
  pats.forEach((p, k) => {
    for (let at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + 1)) found.push([at, `${at}:${k}`]);
  });
  if (objects) {
    for (let q = 1; q < text.length; q++) {
      if (text[q] !== 0x2a || text[q - 1] !== 10) continue;
      const e = text.indexOf(10, q);
      found.push([q, `${q}:obj`]);
      texts.push([q, text.toString('latin1', q + 1, e < 0 ? text.length : e)]);
    }
  }
  const byPos = (x: [number, string], y: [number, string]): number => x[0] - y[0] || (x[1] < y[1] ? -1 : 1);
  return { pairs: found.sort(byPos).map((f) => f[1]), texts: texts.sort(byPos).map((t) => t[1]) };
}

function lineScan(text: Buffer, pats: readonly Buffer[], objects: boolean): { pairs: string[]; texts: string[] } {
  // the chunk holds bytes past `end` (a reused chunk does): they must not count
  const s = new LineScan(pats, objects, text.length + 100);
  for (let at = 0; at < s.chunk.length; at += text.length) s.chunk.set(text.subarray(0, Math.min(text.length, s.chunk.length - at)), at);
  const got: number[] = [], texts: string[] = [];
  s.scan(text.length, got, texts);
  const pairs: [number, string][] = [];
  for (let i = 0; i < got.length; i += 2) pairs.push([got[i + 1]!, got[i]! < 0 ? `${got[i + 1]}:obj` : `${got[i + 1]}:${got[i]}`]);
  // equal positions (an object line and a pattern cannot share one) keep the naive order
  return { pairs: pairs.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)).map((p) => p[1]), texts };
}

test('LineScan finds exactly the occurrences and object lines a naive search finds', () => {
  const rnd = mulberry32(13);
  const alpha = 'ab_\n *';
  for (let round = 0; round < 200; round++) {
    const term = round % 2 === 0 ? '\n' : ' ';
    const text = Buffer.from(Array.from({ length: 50 + Math.floor(rnd() * 3000) }, () => alpha[Math.floor(rnd() * alpha.length)]).join(''), 'latin1');
    const pats: Buffer[] = [];
    for (let k = 0; k < 1 + Math.floor(rnd() * 12); k++) {
      // bodies of 1 to 11 bytes (k, the hashed tail, then is 1 to 8), some starting with a newline
      const len = 1 + Math.floor(rnd() * 11);
      const at = Math.floor(rnd() * (text.length - len));
      const body = rnd() < 0.7 ? text.toString('latin1', at, at + len) : 'b_a\nab_ba_b'.slice(0, len);
      pats.push(Buffer.from((rnd() < 0.2 ? '\n' : '') + body.replaceAll(term, 'a') + term, 'latin1'));
    }
    const objects = rnd() < 0.7;
    assert.deepEqual(lineScan(text, pats, objects), naive(text, pats, objects), `round ${round}`);
  }
});

test('LineScan: more hits than its output holds, object texts past its text buffer, a match at offset 0', () => {
  // 100,000 hits in one chunk: the scan stops and resumes many times
  const many = Buffer.from('xa\n'.repeat(100_000), 'latin1');
  const pats = [Buffer.from('xa\n', 'latin1'), Buffer.from('a\n', 'latin1')];
  assert.deepEqual(lineScan(many, pats, true), naive(many, pats, true));
  // 40,000 object lines of 40 bytes (1.6 MB of object text in one call): copied while they fit,
  // then read from the chunk
  const objs = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `\n*object_${String(i).padStart(30, '0')}`).join('') + '\n', 'latin1');
  const o = lineScan(objs, [Buffer.from('object_0000000000000000000000000001\n', 'latin1')], true);
  assert.deepEqual(o, naive(objs, [Buffer.from('object_0000000000000000000000000001\n', 'latin1')], true));
  assert.equal(o.texts.length, 40_000);
  // a pattern that starts at the chunk's first byte
  const first = Buffer.from('abcd\nzz\n', 'latin1');
  assert.deepEqual(lineScan(first, [Buffer.from('abcd\n', 'latin1')], false).pairs, ['0:0']);
});

/** a random map: few distinct name parts, so names repeat, share endings and have export lines */
function randomMap(rnd: () => number, ext: boolean): { text: string; names: string[] } {
  const parts = ['foo', 'bar', 'x', 'do_it', 'a_very_long_symbol_name', 'init', 'q'];
  const pick = (): string => parts[Math.floor(rnd() * parts.length)]!;
  const names = new Set<string>();
  const lines = [ext ? (rnd() < 0.5 ? 'klp-convert-symbol-data-ext.1' : 'klp-convert-symbol-data-ext.2') : 'klp-convert-symbol-data.0.1'];
  const objects = 1 + Math.floor(rnd() * 6);
  for (let o = 0; o < objects; o++) {
    lines.push(ext ? `*${o === 0 ? 'vmlinux vmlinux' : `mod_${o} drivers/mod-${o}.ko`}` : `*${o === 0 ? 'vmlinux' : `mod-${o}`}`);
    const files = ext ? Math.floor(rnd() * 3) : 0;
    for (let f = 0; f < files; f++) lines.push(`@${f} file${f}.c`);
    for (let i = 0; i < Math.floor(rnd() * 40); i++) {
      let n = pick();
      if (rnd() < 0.4) n += '_' + pick();
      if (ext && rnd() < 0.05) n += ' ' + pick(); // names may hold spaces in ext
      const r = rnd();
      if (r < 0.1) n = '__ksymtab_' + n;
      else if (r < 0.15) n = '__export_symbol_' + n;
      names.add(n);
      if (!ext) {
        lines.push(n);
        continue;
      }
      if (rnd() < 0.15) {
        lines.push(`${n} U`);
        continue;
      }
      const flags = 'lgw'[Math.floor(rnd() * 3)]! + 'nof'[Math.floor(rnd() * 3)]! + (rnd() < 0.2 ? 'i' : '') + (rnd() < 0.3 ? 'x' : '');
      lines.push(files > 0 && flags[0] === 'l' && rnd() < 0.7 ? `${n} ${flags} ${Math.floor(rnd() * files)}` : `${n} ${flags}`);
    }
  }
  return { text: lines.join('\n') + '\n', names: [...names] };
}

function same(scanned: SymbolMap, full: SymbolMap, names: Iterable<string>, label: string): void {
  assert.deepEqual(scanned.objects(), full.objects(), label);
  for (const n of names) {
    assert.deepEqual(scanned.lookup(n), full.lookup(n), `${label}: lookup('${n}')`);
    assert.equal(scanned.isExported(n), full.isExported(n), `${label}: isExported('${n}')`);
    assert.deepEqual(scanned.referencedBy(n), full.referencedBy(n), `${label}: referencedBy('${n}')`);
  }
}

test('scanSymbolMap gives what the full parser gives for the wanted names, whatever the chunk size', () => {
  const d = mkdtempSync(join(tmpdir(), 'klp-scan-'));
  try {
    const rnd = mulberry32(7);
    for (let round = 0; round < 60; round++) {
      const ext = round % 2 === 1;
      const { text, names } = randomMap(rnd, ext);
      const p = join(d, `m${round}`);
      writeFileSync(p, text, 'latin1');
      const full = loadSymbolMap(p);
      const wanted = new Set(names.filter(() => rnd() < 0.3));
      for (const n of [...wanted]) if (rnd() < 0.5) wanted.add('__ksymtab_' + n).add('__export_symbol_' + n);
      wanted.add('not_in_the_map');
      for (const chunk of [16, 64, 257, 1 << 20]) {
        const scanned = scanSymbolMap(p, wanted, chunk);
        assert.ok(scanned, 'a well-formed map is scanned');
        same(scanned, full, wanted, `round ${round} (${ext ? 'ext' : '0.1'}), chunk ${chunk}`);
        // names nobody asked for: no candidates, but exports are still answered (searched again)
        for (const n of names.slice(0, 5)) {
          if (!wanted.has(n)) {
            assert.deepEqual(scanned.lookup(n), []);
            assert.equal(scanned.isExported(n), full.isExported(n), `round ${round}: isExported('${n}') not wanted`);
          }
        }
      }
      // loadSymbolMap takes the scan path for a wanted set
      same(loadSymbolMap(p, wanted), full, wanted, `round ${round} via loadSymbolMap`);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('scanSymbolMap reports a wanted name before the first object line with its line number', () => {
  const d = mkdtempSync(join(tmpdir(), 'klp-scan-'));
  try {
    const p = join(d, 'bad01');
    writeFileSync(p, 'klp-convert-symbol-data.0.1\nfoo\nbar\n*vmlinux\nbar\n', 'latin1');
    assert.throws(() => loadSymbolMap(p, new Set(['bar'])), (e: unknown) => e instanceof SymbolMapError && e.code === 'MAP_NAME_BEFORE_OBJECT' && e.line === 3);
    const q = join(d, 'badext');
    writeFileSync(q, 'klp-convert-symbol-data-ext.1\n*vmlinux vmlinux\n@0 a.c\nfoo lf 4\n', 'latin1');
    assert.throws(() => loadSymbolMap(q, new Set(['foo'])), (e: unknown) => e instanceof SymbolMapError && e.line === 4 && /file index 4/.test(e.message));
    // no trailing newline, unknown header: left to the full parser (same errors as before)
    const r = join(d, 'nonl');
    writeFileSync(r, 'klp-convert-symbol-data.0.1\n*vmlinux\nfoo', 'latin1');
    assert.equal(scanSymbolMap(r, new Set(['foo'])), undefined);
    assert.deepEqual(loadSymbolMap(r, new Set(['foo'])).lookup('foo').length, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
