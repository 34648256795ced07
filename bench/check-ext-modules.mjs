// Slow-tier check of ext module positions on a real tree: readelf -sW order over defined symbols
// for every 23rd module of modules.order against loadSymbolMap(). Usage: node bench/check-ext-modules.mjs TREE MAP
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const { loadSymbolMap } = await import(new URL('../dist/src/klp/symbol-map.js', import.meta.url).href);
const { kernelModuleName } = await import(new URL('../dist/src/klp/modname.js', import.meta.url).href);
const tree = process.argv[2];
const mods = readFileSync(tree + '/modules.order', 'latin1').split('\n').filter(Boolean);
const sample = mods.filter((_, i) => i % 23 === 0);
const m = loadSymbolMap(process.argv[3]);
let checked = 0, bad = 0, dupNames = 0;
for (const e of sample) {
  const obj = kernelModuleName(e);
  const out = execFileSync('readelf', ['-sW', tree + '/' + e], { encoding: 'latin1', maxBuffer: 1 << 28 });
  const want = new Map();
  let inSym = false;
  for (const l of out.split('\n')) {
    if (l.startsWith('Symbol table')) inSym = l.includes("'.symtab'");
    const r = /^\s*(\d+):\s+[0-9a-f]+\s+\d+\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s?(.*)$/.exec(l);
    if (!inSym || !r || r[1] === '0' || r[3] === 'UND' || r[2] === 'SECTION' || r[2] === 'FILE' || !r[4]) continue;
    want.set(r[4], (want.get(r[4]) ?? 0) + 1);
  }
  for (const [n, cnt] of want) {
    const c = m.lookup(n).filter((x) => x.object === obj);
    if (cnt > 1) dupNames++;
    if (c.length !== cnt || c.some((x, i) => x.pos !== i + 1 || x.count !== cnt)) { if (bad++ < 5) console.log('MISMATCH', obj, n, cnt, c.length); }
    checked++;
  }
}
console.log('modules', sample.length, 'names checked', checked, 'duplicated', dupNames, 'mismatches', bad);
