/**
 * ElfEditor: a mutable model of a relocatable ELF file, and its writer.
 *
 * Edits keep existing indexes stable where they can: symbols are renamed in place, new
 * sections are appended to the section header table, new global symbols are appended, and a
 * new local symbol is inserted at the end of the locals with every later index shifted in all
 * relocation and group sections. Removing sections or symbols renumbers what follows them and
 * rewrites every reference (st_shndx, sh_link, sh_info, group members, r_info, e_shstrndx).
 *
 * Layout policy (write): the output starts as a copy of the input. A section whose bytes did
 * not change stays where it was; a changed section that still fits is written in place and the
 * rest of its old extent is zeroed; a grown or new section goes after the end of the input,
 * aligned to its sh_addralign. The section header table stays in place while it fits, else it
 * moves to the end. So a file written with no edits is the input, byte for byte, and a small
 * edit changes only the bytes it has to. Growth is refused for files with program headers
 * (ET_EXEC/ET_DYN), where moving sections would break segments.
 */
import {
  SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX, SHT_GROUP, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_SYMTAB,
  SHT_SYMTAB_SHNDX, SHT_DYNSYM, SHT_HASH, SHT_DYNAMIC, SHT_GNU_HASH, SHT_GNU_versym, SHT_GNU_verdef,
  SHT_GNU_verneed, SHF_INFO_LINK, SHF_LINK_ORDER, STB_LOCAL, STT_SECTION, SHT_STRTAB,
} from './constants.js';
import { ElfEditError, ElfFormatError } from './errors.js';
import { LAYOUT, hasFlag, type ElfFile, type ElfHeader } from './read.js';
import type { Reloc } from './reloc.js';
import { relocNoneType } from './arch/relocs.js';
import { writeFileAtomic } from './file-io.js';

export interface EditSymbol {
  name: string;
  value: bigint;
  size: bigint;
  info: number;
  other: number;
  /** raw st_shndx (a section index below 0xff00, a reserved value, or SHN_XINDEX) */
  shndx: number;
  /** the real section index when shndx is SHN_XINDEX */
  xindex: number;
  /** st_name in the original string table, or -1 once renamed / for new symbols */
  nameOff: number;
}

export interface EditSection {
  name: string;
  sh_name: number; // -1: to be allocated in .shstrtab
  sh_type: number;
  sh_flags: bigint;
  sh_addr: bigint;
  sh_link: number;
  sh_info: number;
  sh_addralign: number;
  sh_entsize: number;
  /** index in the input file, or -1 for a new section */
  readonly origIndex: number;
  /** explicit new contents; undefined keeps the input's (or the derived encoding when dirty) */
  data: Uint8Array | undefined;
  /** size for SHT_NOBITS sections */
  nobitsSize: number;
}

export interface NewSection {
  name: string;
  sh_type: number;
  sh_flags: bigint;
  sh_link?: number;
  sh_info?: number;
  sh_addralign?: number;
  sh_entsize?: number;
  sh_addr?: bigint;
  data?: Uint8Array;
}

export interface WriteOptions {
  /** re-encode symbol, relocation and group tables even when unchanged (tests the encoders) */
  reencodeAll?: boolean;
}

function isSymtabType(t: number): boolean {
  return t === SHT_SYMTAB || t === SHT_DYNSYM;
}

/** sh_link holds a section index for these types (gABI "sh_link and sh_info interpretation"). */
function linkIsSection(s: EditSection): boolean {
  switch (s.sh_type) {
    case SHT_SYMTAB: case SHT_DYNSYM: case SHT_REL: case SHT_RELA: case SHT_HASH: case SHT_DYNAMIC:
    case SHT_GROUP: case SHT_SYMTAB_SHNDX: case SHT_GNU_HASH: case SHT_GNU_versym: case SHT_GNU_verdef: case SHT_GNU_verneed:
      return true;
    default:
      return hasFlag(s.sh_flags, SHF_LINK_ORDER);
  }
}

/** sh_info holds a section index for relocation sections and for SHF_INFO_LINK sections. */
function infoIsSection(s: EditSection): boolean {
  return ((s.sh_type === SHT_REL || s.sh_type === SHT_RELA) && s.sh_info !== 0) || hasFlag(s.sh_flags, SHF_INFO_LINK);
}

export class ElfEditor {
  readonly header: ElfHeader;
  readonly sections: EditSection[];
  /** symbols of the (single) SHT_SYMTAB; empty when the file has none */
  readonly symbols: EditSymbol[] = [];
  private symtab: EditSection | undefined;
  private symDirty = false;
  private readonly relocs = new Map<EditSection, Reloc[]>();
  private readonly groups = new Map<EditSection, { flags: number; members: EditSection[] }>();
  private readonly appendedStrings = new Map<EditSection, { extra: number[]; map: Map<string, number>; base: number }>();
  private shstrtab: EditSection | undefined;

  constructor(readonly elf: ElfFile) {
    this.header = elf.header;
    this.sections = elf.sections.map((s) => ({
      name: s.name, sh_name: s.sh_name, sh_type: s.sh_type, sh_flags: s.sh_flags, sh_addr: s.sh_addr,
      sh_link: s.sh_link, sh_info: s.sh_info, sh_addralign: s.sh_addralign, sh_entsize: s.sh_entsize,
      origIndex: s.index, data: undefined, nobitsSize: s.sh_type === SHT_NOBITS ? s.sh_size : 0,
    }));
    this.shstrtab = elf.header.shstrndx === 0 ? undefined : this.sections[elf.header.shstrndx];
    // section references must be in range before any edit renumbers them, and a relocatable
    // file's relocation sections must all apply against its one symbol table (no edit below
    // may skip one that a loader still applies)
    elf.checkRelocationSections();
    const n = this.sections.length;
    elf.sections.forEach((os, i) => {
      const s = this.sections[i]!;
      if (linkIsSection(s) && s.sh_link >= n) {
        throw elf.error('ELF_BAD_LINK', `section ${i} '${s.name}': sh_link ${s.sh_link} is out of range (${n} sections)`, os.headerOffset);
      }
      if (infoIsSection(s) && s.sh_info >= n) {
        throw elf.error('ELF_BAD_INFO', `section ${i} '${s.name}': sh_info ${s.sh_info} is out of range (${n} sections)`, os.headerOffset);
      }
    });
    const stIndex = elf.symtabIndex();
    if (stIndex !== undefined) {
      if (elf.sections.filter((s) => s.sh_type === SHT_SYMTAB).length > 1) {
        throw elf.error('ELF_MANY_SYMTABS', 'more than one SHT_SYMTAB section; cannot edit');
      }
      this.symtab = this.sections[stIndex];
      const t = elf.symbols(stIndex);
      // the writer keeps locals before globals and needs an SHT_SYMTAB_SHNDX for SHN_XINDEX;
      // an input that breaks either is malformed (gABI), not a misuse of the editor
      let seenGlobal = false;
      if (t.count > 0 && t.shndx[0] === SHN_XINDEX) t.sectionIndex(0);
      for (let i = 1; i < t.count; i++) {
        if (t.bind(i) !== STB_LOCAL) seenGlobal = true;
        else if (seenGlobal) {
          throw elf.error('ELF_LOCAL_AFTER_GLOBAL', `symbol ${i} '${t.name(i)}' is LOCAL but follows a non-local symbol`, elf.section(stIndex).sh_offset + i * LAYOUT[elf.header.bits].sym);
        }
        if (t.shndx[i] === SHN_XINDEX) t.sectionIndex(i); // throws ELF_NO_SHNDX_TABLE
      }
      for (let i = 0; i < t.count; i++) {
        this.symbols.push({
          name: t.name(i), value: t.value(i), size: t.size(i), info: t.info[i]!, other: t.other[i]!,
          shndx: t.shndx[i]!, xindex: t.xindex?.[i] ?? 0, nameOff: t.nameOff[i]!,
        });
      }
      // check relocation symbol indexes once, so later edits can trust them
      for (const s of elf.sections) {
        if ((s.sh_type === SHT_REL || s.sh_type === SHT_RELA) && s.sh_link === stIndex) {
          const r = elf.relocations(s.index);
          for (let i = 0; i < r.count; i++) {
            if (r.sym(i) >= t.count) {
              throw elf.error('ELF_BAD_RELOC_SYMBOL', `section '${s.name}' entry ${i}: symbol index ${r.sym(i)} is out of range (${t.count} symbols)`, r.entryOffset(i));
            }
          }
        }
      }
    }
  }

  // ---- lookups -------------------------------------------------------------------------------

  indexOf(s: EditSection): number {
    const i = this.sections.indexOf(s);
    if (i < 0) throw new ElfEditError('EDIT_NO_SECTION', `section '${s.name}' is not in this file`);
    return i;
  }

  section(index: number): EditSection {
    const s = this.sections[index];
    if (s === undefined) throw new ElfEditError('EDIT_NO_SECTION', `section index ${index} is out of range`);
    return s;
  }

  findSection(name: string): number | undefined {
    const i = this.sections.findIndex((s) => s.name === name);
    return i < 0 ? undefined : i;
  }

  symtabIndex(): number | undefined {
    return this.symtab === undefined ? undefined : this.indexOf(this.symtab);
  }

  /** symbolSection returns the real section index of symbol i, or -1 (UNDEF or reserved). */
  symbolSection(i: number): number {
    const s = this.symbols[i]!;
    if (s.shndx === SHN_XINDEX) return s.xindex;
    if (s.shndx === SHN_UNDEF || s.shndx >= SHN_LORESERVE) return -1;
    return s.shndx;
  }

  firstGlobal(): number {
    const i = this.symbols.findIndex((s, k) => k > 0 && (s.info >>> 4) !== STB_LOCAL);
    return i < 0 ? this.symbols.length : i;
  }

  /** relocations returns the mutable entry list of a REL/RELA section (loaded on first use). */
  relocations(index: number): Reloc[] {
    const s = this.section(index);
    let r = this.relocs.get(s);
    if (r === undefined) {
      if (s.sh_type !== SHT_REL && s.sh_type !== SHT_RELA) {
        throw new ElfEditError('EDIT_NOT_RELOC', `section '${s.name}' is not a relocation section`);
      }
      r = s.origIndex >= 0 && s.data === undefined ? this.elf.relocations(s.origIndex).all() : [];
      this.relocs.set(s, r);
    }
    return r;
  }

  private groupOf(s: EditSection): { flags: number; members: EditSection[] } {
    let g = this.groups.get(s);
    if (g === undefined) {
      const raw = this.elf.group(s.origIndex);
      g = { flags: raw.flags, members: raw.members.map((m) => this.sections[m]!) };
      this.groups.set(s, g);
    }
    return g;
  }

  // ---- symbol edits --------------------------------------------------------------------------

  renameSymbol(i: number, name: string): void {
    const s = this.requireSymbol(i);
    if (s.name === name) return;
    s.name = name;
    s.nameOff = -1;
    this.symDirty = true;
  }

  /** setSymbolShndx stores a raw st_shndx value (any 16-bit value but SHN_XINDEX). */
  setSymbolShndx(i: number, shndx: number): void {
    const s = this.requireSymbol(i);
    if (!Number.isInteger(shndx) || shndx < 0 || shndx > 0xffff || shndx === SHN_XINDEX) {
      throw new ElfEditError('EDIT_BAD_SHNDX', `st_shndx ${shndx} is not a 16-bit value other than SHN_XINDEX`);
    }
    s.shndx = shndx;
    s.xindex = 0;
    this.symDirty = true;
  }

  /** setSymbolSection points a symbol at a real section, using SHN_XINDEX when needed. */
  setSymbolSection(i: number, sectionIndex: number): void {
    const s = this.requireSymbol(i);
    this.section(sectionIndex);
    if (sectionIndex < SHN_LORESERVE) {
      s.shndx = sectionIndex;
      s.xindex = 0;
    } else {
      s.shndx = SHN_XINDEX;
      s.xindex = sectionIndex;
    }
    this.symDirty = true;
  }

  setSymbolInfo(i: number, info: number): void {
    const s = this.requireSymbol(i);
    const wasLocal = (s.info >>> 4) === STB_LOCAL;
    if (wasLocal !== ((info >>> 4) === STB_LOCAL)) {
      throw new ElfEditError('EDIT_BIND_CHANGE', 'changing a symbol between LOCAL and non-LOCAL would reorder the symbol table');
    }
    s.info = info & 0xff;
    this.symDirty = true;
  }

  /**
   * addSymbol appends a symbol and returns its index. A LOCAL symbol is inserted after the last
   * local; the globals after it shift by one and every r_info and group signature that named them
   * is updated.
   */
  addSymbol(sym: { name: string; info: number; other?: number; shndx: number; value?: bigint; size?: bigint }): number {
    if (this.symtab === undefined) throw new ElfEditError('EDIT_NO_SYMTAB', 'the file has no symbol table');
    if (sym.shndx === SHN_XINDEX) throw new ElfEditError('EDIT_BAD_SHNDX', 'use setSymbolSection for SHN_XINDEX');
    const e: EditSymbol = {
      name: sym.name, value: sym.value ?? 0n, size: sym.size ?? 0n, info: sym.info & 0xff, other: sym.other ?? 0,
      shndx: sym.shndx, xindex: 0, nameOff: -1,
    };
    this.symDirty = true;
    if ((e.info >>> 4) !== STB_LOCAL) {
      this.symbols.push(e);
      return this.symbols.length - 1;
    }
    const at = this.firstGlobal();
    this.symbols.splice(at, 0, e);
    this.remapSymbols((old) => (old >= at ? old + 1 : old));
    return at;
  }

  /** removeSymbols deletes symbols; no remaining relocation may refer to them. */
  removeSymbols(indexes: Iterable<number>): void {
    const gone = new Set(indexes);
    if (gone.size === 0) return;
    if (gone.has(0)) throw new ElfEditError('EDIT_NULL_SYMBOL', 'the null symbol cannot be removed');
    const map = new Int32Array(this.symbols.length);
    let n = 0;
    for (let i = 0; i < this.symbols.length; i++) map[i] = gone.has(i) ? -1 : n++;
    this.remapSymbols((old) => {
      const m = map[old]!;
      if (m < 0) throw new ElfEditError('EDIT_SYMBOL_IN_USE', `symbol ${old} '${this.symbols[old]?.name}' is still referenced`);
      return m;
    });
    const kept = this.symbols.filter((_, i) => !gone.has(i));
    this.symbols.length = 0;
    this.symbols.push(...kept);
    this.symDirty = true;
  }

  private remapSymbols(f: (old: number) => number): void {
    if (this.symtab === undefined) return;
    for (const s of this.sections) {
      if ((s.sh_type === SHT_REL || s.sh_type === SHT_RELA) && s.sh_link === this.indexOf(this.symtab)) {
        for (const r of this.relocations(this.indexOf(s))) if (r.sym !== 0) r.sym = f(r.sym);
      }
      if (s.sh_type === SHT_GROUP && s.sh_link === this.indexOf(this.symtab)) {
        this.groupOf(s);
        s.sh_info = f(s.sh_info);
      }
    }
  }

  private requireSymbol(i: number): EditSymbol {
    const s = this.symbols[i];
    if (s === undefined || i === 0) throw new ElfEditError('EDIT_NO_SYMBOL', `symbol index ${i} is out of range or the null symbol`);
    return s;
  }

  // ---- section edits -------------------------------------------------------------------------

  /** addSection appends a section at the end of the section header table and returns its index. */
  addSection(n: NewSection): number {
    if (this.sections.some((s) => s.name === n.name)) {
      throw new ElfEditError('EDIT_DUPLICATE_SECTION', `a section named '${n.name}' already exists`);
    }
    const s: EditSection = {
      name: n.name, sh_name: -1, sh_type: n.sh_type, sh_flags: n.sh_flags, sh_addr: n.sh_addr ?? 0n,
      sh_link: n.sh_link ?? 0, sh_info: n.sh_info ?? 0, sh_addralign: n.sh_addralign ?? 1, sh_entsize: n.sh_entsize ?? 0,
      origIndex: -1, data: n.data ?? new Uint8Array(0), nobitsSize: 0,
    };
    this.sections.push(s);
    if (s.sh_type === SHT_REL || s.sh_type === SHT_RELA) {
      s.data = undefined;
      this.relocs.set(s, []);
    }
    return this.sections.length - 1;
  }

  /** createRelaSection adds an empty SHT_RELA section for base section `target`. */
  createRelaSection(name: string, target: number, extraFlags = 0n): number {
    if (this.symtab === undefined) throw new ElfEditError('EDIT_NO_SYMTAB', 'the file has no symbol table');
    this.section(target);
    const L = LAYOUT[this.header.bits];
    return this.addSection({
      name, sh_type: SHT_RELA, sh_flags: BigInt(SHF_INFO_LINK) | extraFlags, sh_link: this.indexOf(this.symtab),
      sh_info: target, sh_addralign: L.addr, sh_entsize: L.rela,
    });
  }

  renameSection(index: number, name: string): void {
    const s = this.section(index);
    s.name = name;
    s.sh_name = -1;
  }

  setSectionData(index: number, data: Uint8Array): void {
    const s = this.section(index);
    if (s.sh_type === SHT_REL || s.sh_type === SHT_RELA || isSymtabType(s.sh_type) || s.sh_type === SHT_GROUP) {
      throw new ElfEditError('EDIT_DERIVED_SECTION', `section '${s.name}' is written from the model; edit its entries instead`);
    }
    s.data = data;
  }

  /** sectionData returns a section's current bytes (new contents if set, else the input's). */
  sectionData(index: number): Uint8Array {
    const s = this.section(index);
    if (s.data !== undefined) return s.data;
    return s.origIndex >= 0 ? this.elf.data(s.origIndex) : new Uint8Array(0);
  }

  /**
   * referencedSections returns the sections that the sh_link/sh_info fields of the sections
   * outside `excluding` point at (what removeSections would refuse to remove).
   */
  referencedSections(excluding: ReadonlySet<number>): Set<number> {
    const out = new Set<number>();
    this.sections.forEach((s, i) => {
      if (excluding.has(i)) return;
      if (linkIsSection(s) && s.sh_link !== 0) out.add(s.sh_link);
      if (infoIsSection(s)) out.add(s.sh_info);
    });
    return out;
  }

  /** setRelocNone turns relocation entry i into the machine's NONE type against symbol 0. */
  setRelocNone(index: number, i: number): void {
    const none = relocNoneType(this.header.e_machine);
    // an unknown machine is unsupported input, not a caller bug
    if (none === undefined) throw this.elf.error('ELF_UNKNOWN_MACHINE', `no NONE relocation type is known for machine ${this.header.e_machine}`);
    const r = this.relocations(index)[i];
    if (r === undefined) throw new ElfEditError('EDIT_NO_RELOC', `relocation ${i} is out of range`);
    r.type = none;
    r.sym = 0;
    r.addend = 0n;
  }

  /**
   * removeSections deletes sections and renumbers the rest. STT_SECTION symbols of removed
   * sections are removed with them; any other symbol still defined in one is an error, as is a
   * remaining section whose sh_link/sh_info or group names a removed one.
   */
  removeSections(indexes: Iterable<number>): void {
    const gone = new Set<EditSection>();
    for (const i of indexes) {
      if (i === 0) throw new ElfEditError('EDIT_NULL_SECTION', 'section 0 cannot be removed');
      gone.add(this.section(i));
    }
    if (gone.size === 0) return;
    if (this.symtab !== undefined && gone.has(this.symtab)) throw new ElfEditError('EDIT_SYMTAB_REMOVED', 'the symbol table cannot be removed');
    if (this.shstrtab !== undefined && gone.has(this.shstrtab)) throw new ElfEditError('EDIT_SHSTRTAB_REMOVED', 'the section name table cannot be removed');
    const goneIdx = new Set([...gone].map((s) => this.indexOf(s)));
    // symbols
    const symGone: number[] = [];
    this.symbols.forEach((s, i) => {
      if (i === 0) return;
      const sec = this.symbolSection(i);
      if (sec >= 0 && goneIdx.has(sec)) {
        if ((s.info & 0xf) === STT_SECTION) symGone.push(i);
        else throw new ElfEditError('EDIT_SECTION_IN_USE', `symbol '${s.name}' is defined in removed section '${this.sections[sec]!.name}'`);
      }
    });
    this.removeSymbols(symGone);
    // groups first (they need the old indexes to load)
    for (const s of this.sections) if (s.sh_type === SHT_GROUP && !gone.has(s)) this.groupOf(s);
    for (const s of this.sections) if ((s.sh_type === SHT_REL || s.sh_type === SHT_RELA) && !gone.has(s)) this.relocations(this.indexOf(s));
    // references by index: convert to objects, filter, convert back
    const before = [...this.sections];
    const ref = (i: number, what: string, owner: EditSection): EditSection => {
      const t = before[i];
      if (t === undefined) throw new ElfEditError('EDIT_BAD_LINK', `section '${owner.name}': ${what} ${i} is out of range`);
      if (gone.has(t)) throw new ElfEditError('EDIT_SECTION_IN_USE', `section '${owner.name}' still refers to removed section '${t.name}' (${what})`);
      return t;
    };
    const links = new Map<EditSection, { link?: EditSection; info?: EditSection }>();
    for (const s of before) {
      if (gone.has(s)) continue;
      const l: { link?: EditSection; info?: EditSection } = {};
      if (linkIsSection(s) && s.sh_link !== 0) l.link = ref(s.sh_link, 'sh_link', s);
      if (infoIsSection(s)) l.info = ref(s.sh_info, 'sh_info', s);
      links.set(s, l);
    }
    const symSec = this.symbols.map((_, i) => (i === 0 ? undefined : this.symbolSection(i) >= 0 ? before[this.symbolSection(i)] : undefined));
    for (const g of this.groups.values()) g.members = g.members.filter((m) => !gone.has(m));
    const kept = before.filter((s) => !gone.has(s));
    this.sections.length = 0;
    this.sections.push(...kept);
    for (const [s, l] of links) {
      if (l.link) s.sh_link = this.indexOf(l.link);
      if (l.info) s.sh_info = this.indexOf(l.info);
    }
    symSec.forEach((sec, i) => {
      if (sec !== undefined) this.setSymbolSection(i, this.indexOf(sec));
    });
    for (const s of gone) {
      this.relocs.delete(s);
      this.groups.delete(s);
    }
    this.symDirty = true;
  }

  // ---- writing -------------------------------------------------------------------------------

  /** write returns the bytes of the edited file (see the layout policy at the top). */
  write(opts: WriteOptions = {}): Uint8Array {
    const h = this.header;
    const L = LAYOUT[h.bits];
    const le = h.littleEndian;
    const elf = this.elf;
    if (opts.reencodeAll) {
      this.symDirty = this.symtab !== undefined || this.symDirty;
      for (const s of this.sections) {
        if (s.sh_type === SHT_REL || s.sh_type === SHT_RELA) this.relocations(this.indexOf(s));
        if (s.sh_type === SHT_GROUP && s.origIndex >= 0) this.groupOf(s);
      }
    }
    // 1. names: allocate new sh_name / st_name entries
    for (const s of this.sections) {
      if (s.sh_name < 0) {
        if (this.shstrtab === undefined) throw this.elf.error('ELF_NO_SHSTRTAB', `cannot name section '${s.name}': the file has no section name table (e_shstrndx 0)`);
        s.sh_name = this.appendString(this.shstrtab, s.name);
      }
    }
    const contents = new Map<EditSection, Uint8Array>();
    if (this.symtab !== undefined && this.symDirty) {
      const strSec = this.sections[this.symtab.sh_link];
      if (strSec === undefined || strSec.sh_type !== SHT_STRTAB) throw new ElfEditError('EDIT_BAD_LINK', 'symbol table sh_link is not a string table');
      for (const sym of this.symbols) if (sym.nameOff < 0) sym.nameOff = sym.name === '' ? 0 : this.appendString(strSec, sym.name);
      const fg = this.firstGlobal();
      for (let i = fg; i < this.symbols.length; i++) {
        if ((this.symbols[i]!.info >>> 4) === STB_LOCAL) {
          throw new ElfEditError('EDIT_LOCAL_AFTER_GLOBAL', `local symbol ${i} '${this.symbols[i]!.name}' follows a global`);
        }
      }
      this.symtab.sh_info = fg;
      contents.set(this.symtab, this.encodeSymbols());
      const x = this.sections.find((s) => s.sh_type === SHT_SYMTAB_SHNDX && this.sections[s.sh_link] === this.symtab);
      const needX = this.symbols.some((s) => s.shndx === SHN_XINDEX);
      if (x !== undefined) contents.set(x, this.encodeXindex());
      else if (needX) throw new ElfEditError('EDIT_NEED_SHNDX', 'a symbol needs SHN_XINDEX but the file has no SHT_SYMTAB_SHNDX section');
    }
    for (const [s, list] of this.relocs) contents.set(s, this.encodeRelocs(s, list));
    for (const [s, g] of this.groups) {
      const b = new Uint8Array(4 * (g.members.length + 1));
      const v = new DataView(b.buffer);
      v.setUint32(0, g.flags, le);
      g.members.forEach((m, k) => v.setUint32(4 + 4 * k, this.indexOf(m), le));
      contents.set(s, b);
    }
    for (const [s, a] of this.appendedStrings) {
      const orig = s.data ?? (s.origIndex >= 0 ? elf.data(s.origIndex) : new Uint8Array(0));
      const b = new Uint8Array(a.base + a.extra.length);
      b.set(orig.subarray(0, a.base));
      b.set(a.extra, a.base);
      contents.set(s, b);
    }
    for (const s of this.sections) if (s.data !== undefined && !contents.has(s)) contents.set(s, s.data);

    // 2. layout
    const orig = elf.rawBytes(0, elf.size);
    // start at the input's size: an unedited write allocates no more than the file; growth doubles
    const out: { bytes: Uint8Array; len: number } = { bytes: new Uint8Array(orig.length), len: orig.length };
    out.bytes.set(orig);
    const origSecs = elf.sections;
    const offsets = new Map<EditSection, number>();
    const sizes = new Map<EditSection, number>();
    const grow: EditSection[] = [];
    const canMove = h.e_phnum === 0;
    // zero the extents of removed sections
    const keptOrig = new Set(this.sections.map((s) => s.origIndex));
    for (const os of origSecs) {
      if (!keptOrig.has(os.index) && os.sh_type !== SHT_NOBITS && os.sh_size > 0 && os.index !== 0) {
        out.bytes.fill(0, os.sh_offset, os.sh_offset + os.sh_size);
      }
    }
    for (const s of this.sections) {
      const os = s.origIndex >= 0 ? origSecs[s.origIndex]! : undefined;
      const c = contents.get(s);
      if (s.sh_type === SHT_NOBITS) {
        offsets.set(s, os?.sh_offset ?? 0);
        sizes.set(s, s.nobitsSize);
        continue;
      }
      if (c === undefined) {
        if (os === undefined) throw new ElfEditError('EDIT_NO_DATA', `section '${s.name}' has no contents`);
        offsets.set(s, os.sh_offset);
        sizes.set(s, os.sh_size);
        continue;
      }
      sizes.set(s, c.length);
      if (os !== undefined && os.sh_type !== SHT_NOBITS && c.length <= os.sh_size && (os.sh_size === 0 || os.sh_offset + os.sh_size <= orig.length)) {
        out.bytes.fill(0, os.sh_offset, os.sh_offset + os.sh_size);
        out.bytes.set(c, os.sh_offset);
        offsets.set(s, c.length === 0 && os.sh_size === 0 ? os.sh_offset : os.sh_offset);
      } else {
        if (!canMove) throw elf.error('ELF_CANNOT_GROW', `section '${s.name}' grew, and sections of a file with program headers cannot move`);
        if (os !== undefined && os.sh_type !== SHT_NOBITS) out.bytes.fill(0, os.sh_offset, os.sh_offset + os.sh_size);
        grow.push(s);
      }
    }
    for (const s of grow) {
      const c = contents.get(s)!;
      // a moved section is padded to its alignment: refuse alignments that are not a power of two
      // or are absurd (a flipped bit must not turn into a multi-gigabyte allocation)
      const a = s.sh_addralign;
      if (a > 1 && ((a & (a - 1)) !== 0 || a > MAX_MOVED_ALIGN || !Number.isSafeInteger(a))) {
        throw elf.error('ELF_BAD_ALIGN', `section '${s.name}': sh_addralign ${a} is not a power of two up to 0x${MAX_MOVED_ALIGN.toString(16)}; cannot move it`);
      }
      const at = alignUp(out.len, Math.max(1, a));
      ensure(out, at + c.length);
      out.bytes.fill(0, out.len, at);
      out.bytes.set(c, at);
      out.len = at + c.length;
      offsets.set(s, at);
    }
    // 3. section header table
    const n = this.sections.length;
    const origCount = origSecs.length;
    let shoff = h.e_shoff;
    if (origCount > 0) out.bytes.fill(0, h.e_shoff, h.e_shoff + origCount * h.e_shentsize);
    if (n > origCount || h.e_shoff === 0) {
      if (!canMove && n > origCount) throw elf.error('ELF_CANNOT_GROW', 'the section header table grew in a file with program headers');
      shoff = alignUp(out.len, L.addr);
      ensure(out, shoff + n * h.e_shentsize);
      out.bytes.fill(0, out.len, shoff);
      out.len = shoff + n * h.e_shentsize;
    }
    const shstrndx = this.shstrtab === undefined ? 0 : this.indexOf(this.shstrtab);
    const v = new DataView(out.bytes.buffer, out.bytes.byteOffset, out.bytes.byteLength);
    for (let i = 0; i < n; i++) {
      const s = this.sections[i]!;
      const o = shoff + i * h.e_shentsize;
      let size = sizes.get(s) ?? 0;
      let link = s.sh_link;
      let off = offsets.get(s) ?? 0;
      if (i === 0) {
        // extended numbering lives in section 0
        size = n >= SHN_LORESERVE ? n : 0;
        link = shstrndx >= SHN_LORESERVE ? shstrndx : 0;
        const os0 = origSecs[0];
        if (os0 !== undefined) {
          if (n < SHN_LORESERVE) size = h.e_shnum === 0 ? 0 : os0.sh_size;
          if (shstrndx < SHN_LORESERVE) link = h.e_shstrndx === SHN_XINDEX ? 0 : os0.sh_link;
          off = os0.sh_offset;
        }
      }
      v.setUint32(o, s.sh_name, le);
      v.setUint32(o + 4, s.sh_type, le);
      if (h.bits === 64) {
        v.setBigUint64(o + 8, s.sh_flags, le);
        v.setBigUint64(o + 16, s.sh_addr, le);
        v.setBigUint64(o + 24, BigInt(off), le);
        v.setBigUint64(o + 32, BigInt(size), le);
        v.setUint32(o + 40, link, le);
        v.setUint32(o + 44, s.sh_info, le);
        v.setBigUint64(o + 48, BigInt(s.sh_addralign), le);
        v.setBigUint64(o + 56, BigInt(s.sh_entsize), le);
      } else {
        v.setUint32(o + 8, Number(s.sh_flags & 0xffffffffn), le);
        v.setUint32(o + 12, Number(s.sh_addr & 0xffffffffn), le);
        v.setUint32(o + 16, off, le);
        v.setUint32(o + 20, size, le);
        v.setUint32(o + 24, link, le);
        v.setUint32(o + 28, s.sh_info, le);
        v.setUint32(o + 32, s.sh_addralign, le);
        v.setUint32(o + 36, s.sh_entsize, le);
      }
      if (h.e_shentsize > L.shdr) out.bytes.fill(0, o + L.shdr, o + h.e_shentsize);
    }
    // 4. ELF header fields that can change
    if (h.bits === 64) v.setBigUint64(40, BigInt(shoff), le);
    else v.setUint32(32, shoff, le);
    const ho = h.bits === 64 ? 48 : 36;
    v.setUint16(ho + 12, n >= SHN_LORESERVE ? 0 : n, le);
    v.setUint16(ho + 14, shstrndx >= SHN_LORESERVE ? SHN_XINDEX : shstrndx, le);
    return out.bytes.slice(0, out.len);
  }

  /** writeFile writes atomically: a temporary file in the target directory, then rename. */
  writeFile(target: string, opts: WriteOptions = {}): void {
    writeFileAtomic(target, this.write(opts));
  }

  private appendString(sec: EditSection, str: string): number {
    let a = this.appendedStrings.get(sec);
    if (a === undefined) {
      const base = sec.data?.length ?? (sec.origIndex >= 0 ? this.elf.data(sec.origIndex).length : 0);
      a = { extra: [], map: new Map(), base: base === 0 ? 0 : base };
      if (base === 0) a.extra.push(0); // a string table starts with NUL
      this.appendedStrings.set(sec, a);
    }
    const known = a.map.get(str);
    if (known !== undefined) return known;
    const off = a.base + a.extra.length;
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      if (c === 0 || c > 0xff) throw new ElfEditError('EDIT_BAD_NAME', `name '${str}' has a character that is not a non-NUL latin1 byte`);
      a.extra.push(c);
    }
    a.extra.push(0);
    a.map.set(str, off);
    return off;
  }

  private encodeSymbols(): Uint8Array {
    const h = this.header;
    const le = h.littleEndian;
    const es = LAYOUT[h.bits].sym;
    const b = new Uint8Array(this.symbols.length * es);
    const v = new DataView(b.buffer);
    this.symbols.forEach((s, i) => {
      const o = i * es;
      v.setUint32(o, s.nameOff, le);
      if (h.bits === 64) {
        b[o + 4] = s.info;
        b[o + 5] = s.other;
        v.setUint16(o + 6, s.shndx, le);
        v.setBigUint64(o + 8, s.value, le);
        v.setBigUint64(o + 16, s.size, le);
      } else {
        v.setUint32(o + 4, Number(s.value & 0xffffffffn), le);
        v.setUint32(o + 8, Number(s.size & 0xffffffffn), le);
        b[o + 12] = s.info;
        b[o + 13] = s.other;
        v.setUint16(o + 14, s.shndx, le);
      }
    });
    return b;
  }

  private encodeXindex(): Uint8Array {
    const b = new Uint8Array(this.symbols.length * 4);
    const v = new DataView(b.buffer);
    this.symbols.forEach((s, i) => v.setUint32(i * 4, s.shndx === SHN_XINDEX ? s.xindex : 0, this.header.littleEndian));
    return b;
  }

  private encodeRelocs(s: EditSection, list: readonly Reloc[]): Uint8Array {
    const h = this.header;
    const le = h.littleEndian;
    const rela = s.sh_type === SHT_RELA;
    const L = LAYOUT[h.bits];
    const es = rela ? L.rela : L.rel;
    const b = new Uint8Array(list.length * es);
    const v = new DataView(b.buffer);
    list.forEach((r, i) => {
      const o = i * es;
      if (h.bits === 64) {
        v.setBigUint64(o, r.offset, le);
        v.setBigUint64(o + 8, (BigInt(r.sym) << 32n) | BigInt(r.type >>> 0), le);
        if (rela) v.setBigInt64(o + 16, r.addend, le);
      } else {
        if (r.sym > 0xffffff || r.type > 0xff) throw new ElfEditError('EDIT_RELOC_RANGE', `ELF32 r_info cannot hold symbol ${r.sym} type ${r.type}`);
        v.setUint32(o, Number(r.offset & 0xffffffffn), le);
        v.setUint32(o + 4, ((r.sym << 8) | r.type) >>> 0, le);
        if (rela) v.setInt32(o + 8, Number(BigInt.asIntN(32, r.addend)), le);
      }
    });
    return b;
  }
}

/** the largest sh_addralign honoured when a section moves to the end of the file (16 MiB) */
const MAX_MOVED_ALIGN = 1 << 24;

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

function ensure(out: { bytes: Uint8Array; len: number }, need: number): void {
  if (need <= out.bytes.length) return;
  const b = new Uint8Array(Math.max(need, out.bytes.length * 2));
  b.set(out.bytes.subarray(0, out.len));
  out.bytes = b;
}

export { ElfFormatError };
