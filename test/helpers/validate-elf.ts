// A structural validator for ELF files the editor writes, independent of the writer's own
// bookkeeping (style guide §10: "a separate layout checker validates output"). It parses with
// the reader and checks the invariants a linker or the kernel's module loader relies on.
// validateElf returns one message per problem; an empty list means the file is sound.
import {
  ElfFile, LAYOUT, SHT_DYNSYM, SHT_GROUP, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX,
  SHN_LORESERVE, SHN_XINDEX, SHN_UNDEF, STB_LOCAL, ET_REL,
} from '../../src/elf/index.js';

export function validateElf(bytes: Uint8Array, file = '<output>'): string[] {
  const errs: string[] = [];
  let elf: ElfFile;
  try {
    elf = ElfFile.parse(bytes, file);
  } catch (e) {
    return [`does not parse: ${(e as Error).message}`];
  }
  const h = elf.header;
  const L = LAYOUT[h.bits];
  const n = elf.sections.length;
  const secName = (i: number): string => `section ${i} '${elf.sections[i]?.name ?? '?'}'`;

  // extents: ELF header, section header table, section contents must not overlap or run past EOF
  const extents: { lo: number; hi: number; what: string }[] = [{ lo: 0, hi: L.ehdr, what: 'ELF header' }];
  if (n > 0) extents.push({ lo: h.e_shoff, hi: h.e_shoff + n * h.e_shentsize, what: 'section header table' });
  for (const s of elf.sections) {
    if (s.index === 0 || s.sh_type === SHT_NOBITS || s.sh_size === 0) continue;
    if (s.sh_offset + s.sh_size > bytes.length) errs.push(`${secName(s.index)}: contents run past end of file`);
    extents.push({ lo: s.sh_offset, hi: s.sh_offset + s.sh_size, what: secName(s.index) });
    if (s.sh_addralign > 1 && h.e_type === ET_REL && s.sh_offset % s.sh_addralign !== 0) {
      errs.push(`${secName(s.index)}: offset 0x${s.sh_offset.toString(16)} is not aligned to ${s.sh_addralign}`);
    }
  }
  extents.sort((a, b) => a.lo - b.lo);
  for (let i = 1; i < extents.length; i++) {
    if (extents[i]!.lo < extents[i - 1]!.hi) errs.push(`${extents[i]!.what} overlaps ${extents[i - 1]!.what}`);
  }
  if (h.shstrndx >= n && n > 0) errs.push(`e_shstrndx ${h.shstrndx} out of range`);
  else if (n > 0 && elf.sections[h.shstrndx]!.sh_type !== SHT_STRTAB) errs.push('e_shstrndx does not name a string table');
  // extended numbering must be used exactly when needed
  if (n >= SHN_LORESERVE && h.e_shnum !== 0) errs.push(`e_shnum ${h.e_shnum} with ${n} sections (needs extended numbering)`);
  if (n < SHN_LORESERVE && h.e_shnum !== n) errs.push(`e_shnum ${h.e_shnum} but ${n} sections`);
  if (h.shstrndx >= SHN_LORESERVE && h.e_shstrndx !== SHN_XINDEX) errs.push('e_shstrndx needs SHN_XINDEX');

  // string tables: every sh_name inside .shstrtab and NUL-terminated
  const names = n > 0 ? elf.data(h.shstrndx) : new Uint8Array(0);
  for (const s of elf.sections) {
    if (s.sh_name >= names.length && !(s.sh_name === 0 && names.length === 0)) errs.push(`${secName(s.index)}: sh_name ${s.sh_name} past end of name table`);
  }
  if (names.length > 0 && names[0] !== 0) errs.push('section name table does not start with NUL');
  if (names.length > 0 && names[names.length - 1] !== 0) errs.push('section name table does not end with NUL');

  const symCounts = new Map<number, number>();
  for (const s of elf.sections) {
    const t = s.sh_type;
    if (t === SHT_SYMTAB || t === SHT_DYNSYM) {
      if (s.sh_entsize !== L.sym) errs.push(`${secName(s.index)}: sh_entsize ${s.sh_entsize}, want ${L.sym}`);
      if (s.sh_size % L.sym !== 0) errs.push(`${secName(s.index)}: sh_size not a multiple of ${L.sym}`);
      const str = elf.sections[s.sh_link];
      if (str === undefined || str.sh_type !== SHT_STRTAB) { errs.push(`${secName(s.index)}: sh_link ${s.sh_link} is not a string table`); continue; }
      let tab;
      try { tab = elf.symbols(s.index); } catch (e) { errs.push(`${secName(s.index)}: ${(e as Error).message}`); continue; }
      symCounts.set(s.index, tab.count);
      let firstGlobal = tab.count;
      for (let i = 1; i < tab.count; i++) if (tab.bind(i) !== STB_LOCAL) { firstGlobal = i; break; }
      for (let i = firstGlobal; i < tab.count; i++) if (tab.bind(i) === STB_LOCAL) errs.push(`${secName(s.index)}: local symbol ${i} '${tab.name(i)}' after the first global`);
      if (t === SHT_SYMTAB && s.sh_info !== firstGlobal) errs.push(`${secName(s.index)}: sh_info ${s.sh_info}, first non-local is ${firstGlobal}`);
      for (let i = 0; i < tab.count; i++) {
        try { tab.name(i); } catch (e) { errs.push((e as Error).message); }
        const x = tab.shndx[i]!;
        if (x !== SHN_UNDEF && x < SHN_LORESERVE && x >= n) errs.push(`symbol ${i} '${tab.name(i)}': st_shndx ${x} out of range`);
        if (x === SHN_XINDEX) {
          try {
            const real = tab.sectionIndex(i);
            if (real >= n || real === 0) errs.push(`symbol ${i}: extended index ${real} out of range`);
          } catch (e) { errs.push((e as Error).message); }
        }
      }
    }
  }
  for (const s of elf.sections) {
    const t = s.sh_type;
    if (t === SHT_REL || t === SHT_RELA) {
      const want = t === SHT_RELA ? L.rela : L.rel;
      if (s.sh_entsize !== want) errs.push(`${secName(s.index)}: sh_entsize ${s.sh_entsize}, want ${want}`);
      if (s.sh_size % want !== 0) errs.push(`${secName(s.index)}: sh_size not a multiple of ${want}`);
      const count = symCounts.get(s.sh_link);
      if (count === undefined) { errs.push(`${secName(s.index)}: sh_link ${s.sh_link} is not a symbol table`); continue; }
      const target = elf.sections[s.sh_info];
      if (h.e_type === ET_REL && (target === undefined || s.sh_info === 0)) { errs.push(`${secName(s.index)}: sh_info ${s.sh_info} is not a section`); continue; }
      try {
        const r = elf.relocations(s.index);
        for (let i = 0; i < r.count; i++) {
          if (r.sym(i) >= count) errs.push(`${secName(s.index)} entry ${i}: symbol ${r.sym(i)} out of range (${count})`);
          if (h.e_type === ET_REL && target !== undefined && target.sh_type !== SHT_NOBITS && r.offset(i) >= BigInt(Math.max(target.sh_size, 1))) {
            errs.push(`${secName(s.index)} entry ${i}: r_offset 0x${r.offset(i).toString(16)} outside '${target.name}' (size 0x${target.sh_size.toString(16)})`);
          }
        }
      } catch (e) { errs.push((e as Error).message); }
    } else if (t === SHT_GROUP) {
      const count = symCounts.get(s.sh_link);
      if (count === undefined) errs.push(`${secName(s.index)}: sh_link is not a symbol table`);
      else if (s.sh_info >= count) errs.push(`${secName(s.index)}: signature symbol ${s.sh_info} out of range`);
      if (s.sh_entsize !== 4) errs.push(`${secName(s.index)}: sh_entsize ${s.sh_entsize}, want 4`);
      try { elf.group(s.index); } catch (e) { errs.push((e as Error).message); }
    } else if (t === SHT_SYMTAB_SHNDX) {
      const count = symCounts.get(s.sh_link);
      if (count === undefined) errs.push(`${secName(s.index)}: sh_link is not a symbol table`);
      else if (s.sh_size !== count * 4) errs.push(`${secName(s.index)}: ${s.sh_size} bytes for ${count} symbols`);
    } else if (t === SHT_STRTAB) {
      const d = elf.data(s.index);
      if (d.length > 0 && (d[0] !== 0 || d[d.length - 1] !== 0)) errs.push(`${secName(s.index)}: string table must start and end with NUL`);
    }
  }
  return errs;
}
