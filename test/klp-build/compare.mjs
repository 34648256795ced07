#!/usr/bin/env node
// node test/klp-build/compare.mjs OURS.ko FINISHED.ko
// Compares the klp relocations (object, base section, offset, type, symbol, addend) and the klp
// and tombstone symbols (name, binding, type, st_shndx) of our conversion with klp-build's
// finished module, as multisets, each read by our dump and by readelf; checks that no ordinary
// relocation of ours still uses a klp or tombstone symbol and that the finished module's are
// R_X86_64_NONE; and that dump agrees with readelf on the finished module. One `ok ...` or
// `FAIL ...` line per check (test/klp-build/interop.sh prints them); exit 0 only if all are ok.
// Needs the compiled tests (npm run build).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { viewByDump, viewByReadelf } = await import(join(repo, 'dist/test/helpers/klp-build.js'));
const { readelf } = await import(join(repo, 'dist/test/helpers/readelf.js'));
const { compareWithReadelf } = await import(join(repo, 'dist/test/helpers/dump-vs-readelf.js'));
const { buildDump } = await import(join(repo, 'dist/src/cli/commands/dump.js'));
const { ElfFile } = await import(join(repo, 'dist/src/elf/index.js'));

const [ours, theirs] = process.argv.slice(2);
if (!ours || !theirs) {
  console.error('usage: compare.mjs OURS.ko FINISHED.ko');
  process.exit(64);
}
let failed = 0;
function check(what, f) {
  try {
    const note = f();
    console.log(`ok ${what}${note ? ` (${note})` : ''}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${what}: ${String(e?.message ?? e).split('\n').slice(0, 12).join(' | ')}`);
  }
}
function sameMultiset(a, b, label) {
  const onlyA = a.filter((x) => !b.includes(x));
  const onlyB = b.filter((x) => !a.includes(x));
  if (a.length !== b.length || onlyA.length || onlyB.length) {
    throw new Error(`${label}: ${a.length} vs ${b.length}; only ours: ${onlyA.slice(0, 5).join('; ') || '-'}; only klp-build's: ${onlyB.slice(0, 5).join('; ') || '-'}`);
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${label}: entry ${i}: ${a[i]} vs ${b[i]}`);
}

const od = viewByDump(ours), td = viewByDump(theirs);
const or = viewByReadelf(ours), tr = viewByReadelf(theirs);
check('klp relocations equal as multisets (dump)', () => (sameMultiset(od.relocs, td.relocs, 'klp relocations'), `${od.relocs.length} entries`));
check('klp relocations equal as multisets (readelf)', () => (sameMultiset(or.relocs, tr.relocs, 'klp relocations'), `${or.relocs.length} entries`));
check('klp symbols equal as multisets (dump)', () => (sameMultiset(od.symbols, td.symbols, 'klp symbols'), `${od.symbols.length} symbols`));
check('klp symbols equal as multisets (readelf)', () => (sameMultiset(or.symbols, tr.symbols, 'klp symbols'), `${or.symbols.length} symbols`));
check('dump and readelf agree on both modules', () => {
  sameMultiset(od.relocs, or.relocs, 'ours'); sameMultiset(od.symbols, or.symbols, 'ours');
  sameMultiset(td.relocs, tr.relocs, 'klp-build'); sameMultiset(td.symbols, tr.symbols, 'klp-build');
});
check('originals: ours removed, klp-build\'s R_X86_64_NONE', () => {
  const klpRef = (o) => / \.klp\.(sym|tombstone)\./.test(o);
  const left = od.ordinary.filter(klpRef);
  if (left.length) throw new Error(`ours still has ${left.length}: ${left.slice(0, 3).join('; ')}`);
  const active = td.ordinary.filter((o) => klpRef(o) && !/ R_X86_64_NONE /.test(o));
  if (active.length) throw new Error(`klp-build's has ${active.length} active: ${active.slice(0, 3).join('; ')}`);
  const kept = td.ordinary.filter((o) => !klpRef(o));
  sameMultiset(od.ordinary, kept, 'the other ordinary relocations');
  return `${td.ordinary.length - kept.length} NONE in klp-build's, ${od.ordinary.length} others equal`;
});
check('dump of the finished module agrees with readelf', () => {
  compareWithReadelf(buildDump(ElfFile.parse(readFileSync(theirs), theirs), { sections: true, symbols: true, relocs: true }), readelf(theirs), theirs);
});
process.exit(failed ? 1 : 0);
