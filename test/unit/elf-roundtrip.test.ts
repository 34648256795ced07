// Round trip: every fixture parsed and written back with no edits is byte-identical to the
// input, both on the copy-through path and with every symbol, relocation and group table
// re-encoded from the model (which tests the encoders for each class and byte order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElfEditor, ElfFile } from '../../src/elf/index.js';
import { elfFixtures } from '../helpers/elf-fixtures.js';

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `first difference at byte 0x${i.toString(16)}`;
  return `lengths ${a.length} and ${b.length}`;
}

for (const f of elfFixtures()) {
  test(`write() of an unedited ${f.name} is byte-identical`, () => {
    const bytes = f.bytes();
    const out = new ElfEditor(ElfFile.parse(bytes, f.name)).write();
    assert.ok(Buffer.compare(out, bytes) === 0, firstDiff(out, bytes));
  });
  test(`write({ reencodeAll }) of an unedited ${f.name} is byte-identical`, () => {
    const bytes = f.bytes();
    const out = new ElfEditor(ElfFile.parse(bytes, f.name)).write({ reencodeAll: true });
    assert.ok(Buffer.compare(out, bytes) === 0, firstDiff(out, bytes));
  });
}
