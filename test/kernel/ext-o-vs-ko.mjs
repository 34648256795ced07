#!/usr/bin/env node
// ext-o-vs-ko.mjs O_MAP KO_MAP: the extended map is built from each module's <name>.o (what the
// 2022 recipe reads), but the kernel counts positions over the linked <name>.ko, which adds the
// symbols of <name>.mod.o. This checks, for every module and every name that repeats in it, that
// both maps give the same candidates in the same order (position, file, binding, type, init).
// Prints one line per difference and exits 1 if there is any.
import { readFileSync } from 'node:fs';
import { loadSymbolMap } from '../../dist/src/klp/symbol-map.js';

const [oPath, koPath] = process.argv.slice(2);
const blocks = new Map(); // object -> Set(names)
let obj;
for (const line of readFileSync(oPath, 'latin1').split('\n').slice(1)) {
  if (line.startsWith('*')) { obj = line.slice(1).split(' ')[0]; blocks.set(obj, new Set()); continue; }
  if (line === '' || line.startsWith('@') || obj === 'vmlinux') continue;
  blocks.get(obj).add(line.split(' ')[0]);
}
const want = new Set([...blocks.values()].flatMap((s) => [...s]));
const om = loadSymbolMap(oPath, want);
const km = loadSymbolMap(koPath, want);
// files compare by basename: the .ko view has no .o files for the map to recover paths from
const base = (f) => (f === undefined ? '-' : f.slice(f.lastIndexOf('/') + 1));
const key = (c) => `${c.pos}/${c.count} ${base(c.file)} ${c.bind} ${c.type} ${c.init ? 'init' : ''}`;
let repeated = 0, diffs = 0, modules = 0;
for (const [o, names] of blocks) {
  modules++;
  for (const n of names) {
    const a = om.lookup(n).filter((c) => c.object === o && c.count > 0);
    if (a.length < 2) continue;
    repeated++;
    const b = km.lookup(n).filter((c) => c.object === o && c.count > 0);
    const sa = a.map(key).join(' | '), sb = b.map(key).join(' | ');
    if (sa !== sb) { diffs++; console.log(`${o}: '${n}': .o ${sa}  vs  .ko ${sb}`); }
  }
}
console.log(`modules ${modules}, repeated names ${repeated}, differences ${diffs}`);
process.exit(diffs === 0 && modules > 0 ? 0 : 1);
