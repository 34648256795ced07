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

// a relocatable file's relocation sections are held to the gABI before they are read: a reader
// that picks them by sh_link must not be able to skip one that a loader still applies
function relocRefused(field: (elf: ElfFile) => { at: number; value: number; width: 4 | 8 }, code: string, message: RegExp): void {
  const b = patch(field);
  assert.throws(() => ElfFile.parse(b, 'm.ko').checkRelocationSections(), (e: unknown) => {
    const x = e as { code?: string; message: string; file?: string; offset?: number };
    assert.equal(x.code, code, x.message);
    assert.match(x.message, message);
    assert.equal(x.file, 'm.ko');
    assert.equal(typeof x.offset, 'number');
    return true;
  });
}

const firstRela = (e: ElfFile) => e.sections.find((s) => s.sh_type === 4)!;

test('a relocation section linked to itself is refused, naming it and the symbol table', () => {
  const e = ElfFile.parse(f.bytes());
  const r = firstRela(e), st = e.symtabIndex()!;
  relocRefused((x) => ({ at: shdrField(x, r.index, 40, 24), value: r.index, width: 4 }), 'ELF_RELOC_LINK',
    new RegExp(`section ${r.index} '${r.name.replace(/\./g, '\\.')}': sh_link ${r.index} names section ${r.index} .*set sh_link to ${st}`));
});

test('a relocation section linked to no section, or past the last, is refused', () => {
  const e = ElfFile.parse(f.bytes());
  const r = firstRela(e);
  relocRefused((x) => ({ at: shdrField(x, r.index, 40, 24), value: 0, width: 4 }), 'ELF_RELOC_LINK', /sh_link 0 names no section/);
  relocRefused((x) => ({ at: shdrField(x, r.index, 40, 24), value: e.sectionCount, width: 4 }), 'ELF_RELOC_LINK', /is out of range/);
});

test('a relocation section whose sh_info names no section is refused', () => {
  const e = ElfFile.parse(f.bytes());
  const r = firstRela(e);
  relocRefused((x) => ({ at: shdrField(x, r.index, 44, 28), value: e.sectionCount, width: 4 }), 'ELF_RELOC_INFO', /sh_info \d+ is out of range/);
  relocRefused((x) => ({ at: shdrField(x, r.index, 44, 28), value: 0, width: 4 }), 'ELF_RELOC_INFO', /sh_info 0 names no section/);
});

test('a second SHT_SYMTAB in a relocatable file is refused', () => {
  const e = ElfFile.parse(f.bytes());
  const other = e.sections.find((s) => s.index > 0 && s.sh_type === 1)!; // a PROGBITS section made SHT_SYMTAB
  relocRefused((x) => ({ at: shdrField(x, other.index, 4, 4), value: 2, width: 4 }), 'ELF_MANY_SYMTABS', /is a second SHT_SYMTAB \(the first is section \d+/);
});

test('every relocatable fixture passes the relocation-section rules (gcc, klp-build, converted)', () => {
  let n = 0;
  for (const x of elfFixtures()) {
    const e = ElfFile.parse(x.bytes(), x.name);
    e.checkRelocationSections();
    if (e.header.e_type === 1) n++;
  }
  assert.ok(n > 100, `${n} relocatable fixtures`);
});
