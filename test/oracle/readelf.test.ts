// Oracle: our `dump` records against GNU `readelf -W -S -s -r`, on every ELF fixture
// (test/fixtures/bin/<arch>/*, built by test/fixtures/build-fixtures.sh with gcc and Debian's
// cross compilers; see test/fixtures/MANIFEST for the exact commands). Both sides are normalised
// to comparable records: per section name/type/flags/addr/offset/size/entsize/link/info/align,
// per symbol value/size/type/bind/vis/ndx/name, per relocation offset/info/type name/symbol
// name/addend. Skips cleanly when readelf is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../../src/elf/index.js';
import { buildDump } from '../../src/cli/commands/dump.js';
import { compareWithReadelf } from '../helpers/dump-vs-readelf.js';
import { elfFixtures } from '../helpers/elf-fixtures.js';
import { haveReadelf, readelf } from '../helpers/readelf.js';

const fixtures = elfFixtures();
const skip = haveReadelf() ? false : 'GNU readelf not found (install binutils-multiarch); oracle skipped';

test('the oracle has fixtures to run on', { skip }, () => {
  assert.ok(fixtures.length > 0, 'no ELF fixtures under test/fixtures/bin');
});

for (const f of fixtures) {
  test(`dump agrees with readelf -W -S -s -r on ${f.name}`, { skip }, () => {
    const elf = ElfFile.parse(f.bytes(), f.name);
    const doc = buildDump(elf, { sections: true, symbols: true, relocs: true });
    const re = readelf(f.path);
    assert.equal(re.status, 0, `readelf failed: ${re.stderr}`);
    compareWithReadelf(doc, re, f.name);
  });
}

// Relocation type names: for one fixture per machine, write a RELA section holding every type
// number once and compare each name with readelf's (numbers readelf does not know are skipped;
// ours print as R_<ARCH>_0x<n>).
import { ElfEditor, relocTypeName, SHT_PROGBITS } from '../../src/elf/index.js';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const perMachine = new Map<string, (typeof fixtures)[number]>();
for (const f of fixtures) {
  const e = ElfFile.parse(f.bytes(), f.name);
  const key = `${e.header.e_machine}/${e.header.bits}/${e.header.littleEndian}`;
  if (e.header.e_type === 1 && e.symtabIndex() !== undefined && !perMachine.has(key) && e.sections.some((s) => s.sh_type === SHT_PROGBITS)) perMachine.set(key, f);
}
for (const [key, f] of perMachine) {
  test(`relocation type names agree with readelf for every type number (${key}, ${f.name})`, { skip }, () => {
    const elf = ElfFile.parse(f.bytes(), f.name);
    const ed = new ElfEditor(elf);
    const text = elf.sections.find((s) => s.sh_type === SHT_PROGBITS)!.index;
    const k = ed.createRelaSection('.rela.alltypes', text);
    const max = elf.header.bits === 32 ? 255 : elf.header.e_machine === 183 ? 1300 : 255;
    for (let t = 0; t <= max; t++) ed.relocations(k).push({ offset: BigInt(t), sym: 0, type: t, addend: 0n });
    const dir = mkdtempSync(join(tmpdir(), 'klp-reloc-names-'));
    try {
      const p = join(dir, 'alltypes.o');
      writeFileSync(p, ed.write());
      const re = readelf(p).relocs.find((r) => r.name === '.rela.alltypes')!;
      const diffs: string[] = [];
      let known = 0;
      re.relocs.forEach((r, t) => {
        if (!r.type.startsWith('R_')) return; // readelf: "unrecognized: 2b"
        known++;
        const ours = relocTypeName(elf.header.e_machine, t);
        if (ours !== r.type) diffs.push(`${t}: ours ${ours}, readelf ${r.type}`);
      });
      assert.ok(known > 10, `readelf named only ${known} types`);
      assert.deepEqual(diffs, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
