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
