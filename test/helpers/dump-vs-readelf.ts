// Normalises our dump records and `readelf -W -S -s -r` output to the same shape and compares
// them (used by the oracle test and after every edit in the edit tests).
import assert from 'node:assert/strict';
import type { DumpDoc } from '../../src/cli/commands/dump.js';
import type { ReadelfOut } from './readelf.js';

/** readelf's section type names (binutils readelf.c get_section_type_name), to numbers */
const READELF_SHT: Record<string, number> = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9, SHLIB: 10,
  DYNSYM: 11, INIT_ARRAY: 14, FINI_ARRAY: 15, PREINIT_ARRAY: 16, GROUP: 17, SYMTAB_SHNDX: 18, INDICES: 18, RELR: 19,
  GNU_ATTRIBUTES: 0x6ffffff5, GNU_HASH: 0x6ffffff6, GNU_LIBLIST: 0x6ffffff7, VERDEF: 0x6ffffffd, VERNEED: 0x6ffffffe,
  VERSYM: 0x6fffffff, LLVM_ADDRSIG: 0x6fff4c03, GNU_SFRAME: 0x6ffffff4, X86_64_UNWIND: 0x70000001,
  RISCV_ATTRIBUTES: 0x70000003, AARCH64_ATTRIBUTES: 0x70000003, LOPROC: 0x70000000,
};

/** flagLetters renders sh_flags as readelf's letters (sorted, for set comparison). */
function flagLetters(flags: bigint, machine: number): string {
  const f = Number(flags & 0xffffffffn) >>> 0;
  const l: string[] = [];
  const bits: [number, string][] = [[0x1, 'W'], [0x2, 'A'], [0x4, 'X'], [0x10, 'M'], [0x20, 'S'], [0x40, 'I'], [0x80, 'L'],
    [0x100, 'O'], [0x200, 'G'], [0x400, 'T'], [0x800, 'C']];
  for (const [b, c] of bits) if (f & b) l.push(c);
  if (f & 0x00200000) l.push('R'); // SHF_GNU_RETAIN
  if (f & 0x01000000) l.push('D'); // SHF_GNU_MBIND
  if (f & 0x0ff00000 & ~0x01200000) l.push('o');
  if (f & 0x80000000) l.push('E'); // SHF_EXCLUDE
  if (machine === 62 && (f & 0x10000000)) l.push('l'); // SHF_X86_64_LARGE
  if (f & 0xf0000000 & ~0x80000000 & ~(machine === 62 ? 0x10000000 : 0)) l.push('p');
  const unknown = f & ~0xfff00ff7 & ~0x0ff00000;
  if (unknown) l.push('x');
  return [...new Set(l)].sort().join('');
}

/** printable shows control characters the way readelf does (^B for 0x02, ^? for 0x7f). */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\x7f' ? '^?' : '^' + String.fromCharCode(c.charCodeAt(0) + 0x40)));
}

function sortLetters(s: string): string {
  return [...s].sort().join('');
}

export function compareWithReadelf(doc: DumpDoc, re: ReadelfOut, name: string): void {
  const m = doc.header.machine;
  // sections
  const ours = doc.sections!.map((s) => ({
    index: s.index, name: printable(s.name), type: s.type, addr: s.addr, offset: s.offset, size: s.size, entsize: s.entsize,
    flags: flagLetters(s.flags, m), link: s.link, info: s.info, align: s.align,
  }));
  const theirs = re.sections.map((s) => {
    let nm = s.name;
    let type = READELF_SHT[s.type];
    if (s.type === 'INDICES' && nm.endsWith(' SYMTAB SECTION')) nm = nm.slice(0, -' SYMTAB SECTION'.length).trimEnd();
    if (type === undefined) {
      const k = s.type.match(/^(LOOS|LOPROC|LOUSER)\+(0x)?([0-9a-f]+)$/);
      const base = k ? { LOOS: 0x60000000, LOPROC: 0x70000000, LOUSER: 0x80000000 }[k[1] as 'LOOS'] : undefined;
      type = base === undefined ? -1 : base + parseInt(k![3]!, 16);
    }
    return {
      index: s.index, name: nm, type, addr: BigInt('0x' + s.addr), offset: s.offset, size: s.size, entsize: s.entsize,
      flags: sortLetters(s.flags), link: s.link, info: s.info, align: s.align,
    };
  });
  assert.equal(ours.length, theirs.length, `${name}: section count`);
  for (let i = 0; i < ours.length; i++) assert.deepEqual(ours[i], theirs[i], `${name}: section ${i} (readelf type '${re.sections[i]!.type}')`);

  // symbols
  assert.deepEqual(doc.symtabs!.map((t) => t.name), re.symtabs.map((t) => t.name), `${name}: symbol tables`);
  doc.symtabs!.forEach((t, k) => {
    const rt = re.symtabs[k]!;
    assert.equal(t.symbols.length, rt.symbols.length, `${name}: ${t.name} count`);
    t.symbols.forEach((s, i) => {
      const r = rt.symbols[i]!;
      const x = s.shndx;
      const ndx = x >= 0xff20 && x <= 0xff3f ? `OS [0x${x.toString(16)}]` : x >= 0xff00 && x <= 0xff1f ? `PRC [0x${x.toString(16)}]` : s.ndx;
      assert.deepEqual(
        { num: s.num, value: s.value, size: s.size, type: s.type, bind: s.bind, vis: s.vis, ndx, name: printable(s.name) },
        { num: r.num, value: r.value, size: r.size, type: r.type, bind: r.bind, vis: r.vis, ndx: r.ndx, name: r.name },
        `${name}: ${t.name} symbol ${i}`);
    });
  });

  // relocations
  assert.deepEqual(doc.relocations!.map((r) => [r.name, r.offset]), re.relocs.map((r) => [r.name, r.offset]), `${name}: relocation sections`);
  doc.relocations!.forEach((rs, k) => {
    const rr = re.relocs[k]!;
    assert.equal(rs.relocs.length, rr.relocs.length, `${name}: ${rs.name} count`);
    rs.relocs.forEach((e, i) => {
      const r = rr.relocs[i]!;
      assert.deepEqual(
        { offset: e.offset, info: e.info, type: e.typeName, symName: printable(e.symName), addend: e.addend, symValue: e.sym === 0 ? undefined : e.symValue },
        { offset: r.offset, info: r.info, type: r.type, symName: r.symName, addend: r.addend, symValue: r.symValue },
        `${name}: ${rs.name} entry ${i}`);
    });
  });
}

