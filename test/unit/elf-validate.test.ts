// The structural validator must itself fail on broken files, or the edit tests prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElfFile } from '../../src/elf/index.js';
import { elfFixtures } from '../helpers/elf-fixtures.js';
import { validateElf } from '../helpers/validate-elf.js';

const f = elfFixtures().find((x) => x.name === 'x86_64/lp_basic.o') ?? elfFixtures().find((x) => x.name.endsWith('.o'))!;

function patch(field: (elf: ElfFile) => { at: number; value: number; width: 4 | 8 }): Uint8Array {
  const b = f.bytes().slice();
  const elf = ElfFile.parse(b);
  const { at, value, width } = field(elf);
  const v = new DataView(b.buffer);
  if (width === 8) v.setBigUint64(at, BigInt(value), elf.header.littleEndian);
  else v.setUint32(at, value, elf.header.littleEndian);
  return b;
}

function shdrField(elf: ElfFile, index: number, off64: number, off32: number): number {
  return elf.section(index).headerOffset + (elf.header.bits === 64 ? off64 : off32);
}

test('validateElf accepts an unmodified fixture', () => {
  assert.deepEqual(validateElf(f.bytes()), []);
});

test('validateElf reports a wrong .symtab sh_info', () => {
  const b = patch((e) => ({ at: shdrField(e, e.symtabIndex()!, 44, 28), value: e.section(e.symtabIndex()!).sh_info + 1, width: 4 }));
  assert.ok(validateElf(b).some((m) => /sh_info .* first non-local/.test(m)), validateElf(b).join('\n'));
});

test('validateElf reports overlapping sections', () => {
  const b = patch((e) => {
    const st = e.section(e.symtabIndex()!);
    const str = e.section(st.sh_link);
    return { at: shdrField(e, str.index, 24, 16), value: st.sh_offset, width: e.header.bits === 64 ? 8 : 4 };
  });
  assert.ok(validateElf(b).some((m) => /overlaps/.test(m)), validateElf(b).join('\n'));
});

test('validateElf reports a relocation section linked to a non-symbol table', () => {
  const b = patch((e) => {
    const r = e.sections.find((s) => s.sh_type === 4)!;
    return { at: shdrField(e, r.index, 40, 24), value: 1, width: 4 };
  });
  assert.ok(validateElf(b).some((m) => /is not a symbol table/.test(m)), validateElf(b).join('\n'));
});

test('validateElf reports a bad entry size', () => {
  const b = patch((e) => ({ at: shdrField(e, e.symtabIndex()!, 56, 36), value: 7, width: e.header.bits === 64 ? 8 : 4 }));
  assert.ok(validateElf(b).length > 0);
});
