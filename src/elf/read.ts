/**
 * The ELF reader: one class-independent model for ELF32/ELF64, little and big endian.
 *
 * openElf() reads the ELF header and the section header table eagerly and everything else on
 * demand, so a 400 MB debug vmlinux costs only the bytes of the sections asked for. Every
 * offset and size taken from the file is checked against the file size before it is used to
 * read or to allocate; a malformed file gives an ElfFormatError, never a RangeError.
 *
 * Field naming: raw header fields keep the spec names (sh_info, st_shndx); derived values are
 * camelCase. Offsets, sizes and counts are numbers (checked safe integers); addresses, 64-bit
 * flags, r_offset, r_addend are bigint.
 */
import {
  ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX,
  SHT_NOBITS, SHT_REL, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, SHT_DYNSYM, SHT_GROUP, ET_REL, hasElfIdentMagic,
} from './constants.js';
import { ElfFormatError } from './errors.js';
import { BufferSource, FileSource, type ByteSource, type ReadArena } from './source.js';
import { RelocTable } from './reloc.js';
import { SymbolTable, type SymbolBytes } from './symtab.js';

export interface ElfHeader {
  /** 32 or 64 */
  readonly bits: 32 | 64;
  readonly littleEndian: boolean;
  readonly ident: Uint8Array; // the 16 e_ident bytes
  readonly osabi: number;
  readonly e_type: number;
  readonly e_machine: number;
  readonly e_version: number;
  readonly e_entry: bigint;
  readonly e_phoff: number;
  readonly e_shoff: number;
  readonly e_flags: number;
  readonly e_ehsize: number;
  readonly e_phentsize: number;
  readonly e_phnum: number;
  readonly e_shentsize: number;
  /** the raw e_shnum field (0 when the count is in section 0's sh_size) */
  readonly e_shnum: number;
  /** the raw e_shstrndx field (SHN_XINDEX when the index is in section 0's sh_link) */
  readonly e_shstrndx: number;
  /** the real number of sections */
  readonly shnum: number;
  /** the real index of the section name string table (0: none) */
  readonly shstrndx: number;
}

export interface SectionHeader {
  readonly index: number;
  readonly name: string;
  readonly sh_name: number;
  readonly sh_type: number;
  readonly sh_flags: bigint;
  readonly sh_addr: bigint;
  readonly sh_offset: number;
  readonly sh_size: number;
  readonly sh_link: number;
  readonly sh_info: number;
  readonly sh_addralign: number;
  readonly sh_entsize: number;
  /** byte offset of this header in the file, for messages */
  readonly headerOffset: number;
}

/** sizes of the on-disk structures per class */
export const LAYOUT = {
  32: { ehdr: 52, shdr: 40, sym: 16, rel: 8, rela: 12, addr: 4 },
  64: { ehdr: 64, shdr: 64, sym: 24, rel: 16, rela: 24, addr: 8 },
} as const;

/** hasFlag tests one flag bit (given as a number) in a bigint sh_flags. */
export function hasFlag(flags: bigint, bit: number): boolean {
  return (flags & BigInt(bit)) !== 0n;
}

/** readCString returns the NUL-terminated latin1 string at off, or undefined if no NUL follows. */
export function readCString(bytes: Uint8Array, off: number): string | undefined {
  const end = bytes.indexOf(0, off);
  if (end < 0) return undefined;
  return latin1(bytes, off, end);
}

export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Buffer.prototype.latin1Slice is the fast path; fall back for plain Uint8Arrays
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

export class ElfFile {
  readonly header: ElfHeader;
  /** the section headers' fields, checked (SectionTable): SectionHeader objects are made on demand */
  private readonly table: SectionTable;
  private objects: readonly SectionHeader[] | undefined;
  private readonly dataCache = new Map<number, Uint8Array>();
  private symCache: Map<number, SymbolTable> | undefined;
  private byName: Map<string, number[]> | undefined;

  private constructor(readonly file: string, private readonly src: ByteSource) {
    const tail: Tail = {};
    this.header = parseHeader(file, src, tail);
    this.table = parseSections(file, src, this.header, tail);
  }

  /**
   * the section headers, made on first use: a caller that needs only a few sections' contents
   * (symtabIndex, findSectionsByName, symbolBytes, data) never makes them. With an arena (open),
   * like every view read, they are valid until the arena is reset.
   */
  get sections(): readonly SectionHeader[] {
    return (this.objects ??= this.table.headers());
  }

  /**
   * openElf-style constructor over a file on disk, reading lazily with positional reads; with an
   * `arena`, every read lands in it (ReadArena: valid until the caller resets the arena).
   */
  static open(path: string, opts: { arena?: ReadArena } = {}): ElfFile {
    const src = new FileSource(path, opts.arena);
    try {
      return new ElfFile(path, src);
    } catch (e) {
      src.close();
      throw e;
    }
  }

  /**
   * fromSource builds an ElfFile over any ByteSource (tests use it to wrap a source that checks
   * every read stays inside the file). The caller keeps ownership of the source.
   */
  static fromSource(src: ByteSource, file: string): ElfFile {
    return new ElfFile(file, src);
  }

  /** parse builds an ElfFile over bytes already in memory; `file` names it in messages. */
  static parse(bytes: Uint8Array, file = '<memory>'): ElfFile {
    return new ElfFile(file, new BufferSource(bytes));
  }

  get size(): number {
    return this.src.size;
  }

  close(): void {
    this.src.close();
  }

  error(code: string, message: string, offset?: number): ElfFormatError {
    return new ElfFormatError(this.file, code, message, offset);
  }

  section(index: number): SectionHeader {
    this.checkIndex(index);
    return this.sections[index]!;
  }

  private checkIndex(index: number): void {
    if (!(index >= 0 && index < this.table.count) || !Number.isInteger(index)) {
      throw this.error('ELF_BAD_SECTION_INDEX', `section index ${index} is out of range (${this.table.count} sections)`);
    }
  }

  /** findSection returns the first section of that name, or undefined. */
  findSection(name: string): SectionHeader | undefined {
    const idx = this.findSectionsByName(name)[0];
    return idx === undefined ? undefined : this.sections[idx];
  }

  findSectionsByName(name: string): readonly number[] {
    // before the headers are made: compare the name table's bytes, making no name strings
    if (this.objects === undefined) return this.table.named(name);
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const s of this.sections) {
        const l = this.byName.get(s.name);
        if (l) l.push(s.index);
        else this.byName.set(s.name, [s.index]);
      }
    }
    return this.byName.get(name) ?? [];
  }

  /** data returns a section's bytes (empty for SHT_NOBITS), read once and cached. */
  data(index: number): Uint8Array {
    const cached = this.dataCache.get(index);
    if (cached) return cached;
    this.checkIndex(index);
    const t = this.table;
    const off = t.offset(index), size = t.size(index);
    let d: Uint8Array;
    if (t.type(index) === SHT_NOBITS || size === 0) {
      d = new Uint8Array(0);
    } else {
      if (off + size > this.src.size) {
        throw this.error('ELF_SECTION_PAST_EOF',
          `section ${index} '${this.sectionName(index)}': contents 0x${off.toString(16)}+0x${size.toString(16)} extend past end of file (0x${this.src.size.toString(16)} bytes)`,
          t.headerOffset(index));
      }
      d = this.src.read(off, size);
    }
    this.dataCache.set(index, d);
    return d;
  }

  /**
   * load reads the contents of several sections into the cache with as few reads as possible:
   * sections whose contents lie within NEARBY bytes of each other (a symbol table and its string
   * table, typically) are read together. Each section is checked as data() checks it.
   */
  load(indexes: readonly number[]): void {
    const t = this.table;
    // the sections still to read, by file offset (an insertion sort: a caller passes two or three)
    const todo: number[] = [];
    for (const i of indexes) {
      this.checkIndex(i);
      if (this.dataCache.has(i) || t.type(i) === SHT_NOBITS || t.size(i) === 0) continue;
      let j = todo.length;
      todo.push(i);
      for (; j > 0 && t.offset(todo[j - 1]!) > t.offset(i); j--) todo[j] = todo[j - 1]!;
      todo[j] = i;
    }
    for (let i = 0; i < todo.length;) {
      let j = i + 1;
      let end = t.offset(todo[i]!) + t.size(todo[i]!);
      while (j < todo.length && t.offset(todo[j]!) <= end + NEARBY) {
        end = Math.max(end, t.offset(todo[j]!) + t.size(todo[j]!));
        j++;
      }
      if (j - i > 1 && end <= this.src.size) {
        const start = t.offset(todo[i]!);
        const span = this.src.read(start, end - start);
        for (let k = i; k < j; k++) {
          const s = todo[k]!, at = t.offset(s) - start;
          this.dataCache.set(s, span.subarray(at, at + t.size(s)));
        }
      }
      i = j; // single sections, and spans past the end, are read (and checked) by data()
    }
  }

  /** rawBytes reads an arbitrary checked range of the file (used by the editor to copy gaps). */
  rawBytes(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.src.size) {
      throw this.error('ELF_RANGE', `range 0x${offset.toString(16)}+0x${length.toString(16)} is outside the file`);
    }
    return this.src.read(offset, length);
  }

  /** symtabIndex returns the index of the (first) SHT_SYMTAB section, or undefined. */
  symtabIndex(): number | undefined {
    const t = this.table;
    for (let i = 0; i < t.count; i++) if (t.type(i) === SHT_SYMTAB) return i;
    return undefined;
  }

  /** symbols returns the symbol table in section `index` (default: .symtab). */
  symbols(index?: number): SymbolTable {
    const idx = index ?? this.symtabIndex();
    if (idx === undefined) throw this.error('ELF_NO_SYMTAB', 'no symbol table (SHT_SYMTAB) in file');
    const cached = this.symCache?.get(idx);
    if (cached) return cached;
    const { str, count } = this.symtabLayout(idx);
    const s = this.section(idx);
    let shndxTable: Uint8Array | undefined;
    const x = this.sections.find((t) => t.sh_type === SHT_SYMTAB_SHNDX && t.sh_link === idx);
    if (x !== undefined) {
      shndxTable = this.data(x.index);
      if (shndxTable.length < count * 4) {
        throw this.error('ELF_BAD_SIZE', `section ${x.index} '${x.name}': ${shndxTable.length} bytes for ${count} symbols`, x.headerOffset);
      }
    }
    this.load([idx, str]);
    const tab = new SymbolTable(this, idx, this.data(idx), this.data(str), shndxTable, s.sh_offset);
    (this.symCache ??= new Map()).set(idx, tab);
    return tab;
  }

  /**
   * symbolBytes returns a symbol table's entries and its string table as read, checked like
   * symbols() checks them but not decoded (no typed array per field): for a caller that passes
   * over the table once (nameOffsets in symtab.ts). SHT_SYMTAB_SHNDX is not read.
   */
  symbolBytes(index?: number): SymbolBytes {
    const idx = index ?? this.symtabIndex();
    if (idx === undefined) throw this.error('ELF_NO_SYMTAB', 'no symbol table (SHT_SYMTAB) in file');
    const cached = this.symCache?.get(idx);
    if (cached) return cached;
    const { str, count } = this.symtabLayout(idx);
    this.load([idx, str]);
    return { elf: this, section: idx, raw: this.data(idx), strtab: this.data(str), count, fileOffset: this.table.offset(idx) };
  }

  /** symtabLayout checks section `idx` as a symbol table (type, entry size, size, string table link). */
  private symtabLayout(idx: number): { str: number; count: number } {
    this.checkIndex(idx);
    const t = this.table;
    const type = t.type(idx), at = t.headerOffset(idx);
    if (type !== SHT_SYMTAB && type !== SHT_DYNSYM) {
      throw this.error('ELF_NOT_SYMTAB', `section ${idx} '${this.sectionName(idx)}' is not a symbol table`, at);
    }
    const L = LAYOUT[this.header.bits];
    const entsize = t.entsize(idx), size = t.size(idx), link = t.link(idx);
    if (entsize !== L.sym) {
      throw this.error('ELF_BAD_ENTSIZE', `section ${idx} '${this.sectionName(idx)}': sh_entsize ${entsize}, expected ${L.sym}`, at);
    }
    if (size % L.sym !== 0) {
      throw this.error('ELF_BAD_SIZE', `section ${idx} '${this.sectionName(idx)}': sh_size ${size} is not a multiple of ${L.sym}`, at);
    }
    if (link >= t.count || t.type(link) !== SHT_STRTAB) {
      throw this.error('ELF_BAD_LINK', `section ${idx} '${this.sectionName(idx)}': sh_link ${link} is not a string table`, at);
    }
    return { str: link, count: size / L.sym };
  }

  /**
   * checkRelocationSections refuses a relocatable file whose relocation sections a reader could
   * pass over without a word (checkRelocatableLinks): call it before choosing relocation
   * sections by sh_link or sh_info. It reads no contents; other file types pass.
   */
  checkRelocationSections(): void {
    if (this.header.e_type === ET_REL) checkRelocatableLinks(this.file, this.table);
  }

  /** relocations returns a view of an SHT_REL or SHT_RELA section's entries. */
  relocations(index: number): RelocTable {
    const s = this.section(index);
    if (s.sh_type !== SHT_REL && s.sh_type !== SHT_RELA) {
      throw this.error('ELF_NOT_RELOC', `section ${index} '${s.name}' is not a relocation section`, s.headerOffset);
    }
    const L = LAYOUT[this.header.bits];
    const want = s.sh_type === SHT_RELA ? L.rela : L.rel;
    if (s.sh_entsize !== want) {
      throw this.error('ELF_BAD_ENTSIZE', `section ${index} '${s.name}': sh_entsize ${s.sh_entsize}, expected ${want}`, s.headerOffset);
    }
    if (s.sh_size % want !== 0) {
      throw this.error('ELF_BAD_SIZE', `section ${index} '${s.name}': sh_size ${s.sh_size} is not a multiple of ${want}`, s.headerOffset);
    }
    return new RelocTable(this.header, s, this.data(index));
  }

  /** groupMembers returns the section indexes listed in an SHT_GROUP section and its flag word. */
  group(index: number): { flags: number; members: number[] } {
    const s = this.section(index);
    if (s.sh_type !== SHT_GROUP) throw this.error('ELF_NOT_GROUP', `section ${index} '${s.name}' is not a group`, s.headerOffset);
    const d = this.data(index);
    if (d.length % 4 !== 0 || d.length < 4) {
      throw this.error('ELF_BAD_SIZE', `section ${index} '${s.name}': group size ${d.length} is not a positive multiple of 4`, s.headerOffset);
    }
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const le = this.header.littleEndian;
    const members: number[] = [];
    for (let o = 4; o < d.length; o += 4) {
      const m = v.getUint32(o, le);
      if (m >= this.table.count) {
        throw this.error('ELF_BAD_GROUP_MEMBER', `section ${index} '${s.name}': member ${m} is out of range`, s.sh_offset + o);
      }
      members.push(m);
    }
    return { flags: v.getUint32(0, le), members };
  }

  /** sectionNameOf names a symbol's section for messages; reserved indexes print as numbers. */
  sectionName(index: number): string {
    return this.sections[index]?.name ?? `#${index}`;
  }

  /** sectionCount is the number of sections (sections.length, without making the headers) */
  get sectionCount(): number {
    return this.table.count;
  }
}

/**
 * u64 reads a 64-bit offset or size as a number from two 32-bit halves: no bigint per field
 * (four per section header showed up in profiles of files with many sections). `what` names the
 * field in the error; `section` >= 0 prefixes it with the section index.
 */
function u64(v: DataView, off: number, le: boolean, file: string, what: string, section = -1): number {
  const lo = v.getUint32(off + (le ? 0 : 4), le);
  const hi = v.getUint32(off + (le ? 4 : 0), le);
  if (hi > 0x1fffff) {
    const x = v.getBigUint64(off, le);
    const name = section >= 0 ? `section ${section} ${what}` : what;
    throw new ElfFormatError(file, 'ELF_VALUE_TOO_LARGE', `${name} 0x${x.toString(16)} is too large`, off);
  }
  return hi * 0x100000000 + lo;
}

/**
 * Tail: the section header table read by parseHeader with what lies before it (up to NEARBY
 * bytes, for parseSections) and one byte more: a read that comes back without that byte has
 * reached the end of the file, which tells a FileSource its size (no stat).
 */
interface Tail {
  /** file offset of bytes[0] */
  at?: number;
  bytes?: Uint8Array;
}

/** the largest section header table parseHeader reads before it knows the file's size */
const TAIL_MAX = 1 << 20;

function parseHeader(file: string, src: ByteSource, tail: Tail): ElfHeader {
  // one read for e_ident and the rest of the header (the ELF64 header is the larger one); a
  // source that can read up to its end is read before its size is asked for
  const head = src.readUpTo !== undefined ? src.readUpTo(0, LAYOUT[64].ehdr) : src.read(0, Math.min(src.size, LAYOUT[64].ehdr));
  if (head.length < 16) throw new ElfFormatError(file, 'ELF_TRUNCATED', `file is ${src.size} bytes, too short for an ELF header`, 0);
  const ident = head.slice(0, 16);
  if (!hasElfIdentMagic(ident)) {
    throw new ElfFormatError(file, 'ELF_BAD_MAGIC', 'not an ELF file (bad magic)', 0);
  }
  const cls = ident[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new ElfFormatError(file, 'ELF_BAD_CLASS', `unknown ELF class ${cls}`, 4);
  const data = ident[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw new ElfFormatError(file, 'ELF_BAD_DATA', `unknown ELF data encoding ${data}`, 5);
  const bits = cls === ELFCLASS64 ? 64 : 32;
  const L = LAYOUT[bits];
  if (head.length < L.ehdr) throw new ElfFormatError(file, 'ELF_TRUNCATED', `file is ${src.size} bytes, too short for an ELF${bits} header`, 0);
  const v = new DataView(head.buffer, head.byteOffset, L.ehdr);
  const le = data === ELFDATA2LSB;
  let e_entry: bigint, e_phoff: number, e_shoff: number, o: number;
  if (bits === 64) {
    e_entry = v.getBigUint64(24, le);
    e_phoff = u64(v, 32, le, file, 'e_phoff');
    e_shoff = u64(v, 40, le, file, 'e_shoff');
    o = 48;
  } else {
    e_entry = BigInt(v.getUint32(24, le));
    e_phoff = v.getUint32(28, le);
    e_shoff = v.getUint32(32, le);
    o = 36;
  }
  const e_flags = v.getUint32(o, le);
  const e_ehsize = v.getUint16(o + 4, le);
  const e_phentsize = v.getUint16(o + 6, le);
  const e_phnum = v.getUint16(o + 8, le);
  const e_shentsize = v.getUint16(o + 10, le);
  const e_shnum = v.getUint16(o + 12, le);
  const e_shstrndx = v.getUint16(o + 14, le);
  let shnum = e_shnum;
  let shstrndx = e_shstrndx;
  if (e_shoff !== 0) {
    if (e_shentsize < L.shdr) {
      throw new ElfFormatError(file, 'ELF_BAD_SHENTSIZE', `e_shentsize ${e_shentsize} is smaller than an ELF${bits} section header (${L.shdr})`, o + 10);
    }
    if (src.readUpTo !== undefined && e_shnum !== 0 && e_shstrndx !== SHN_XINDEX) {
      const before = Math.min(e_shoff, NEARBY), length = before + e_shnum * e_shentsize + 1;
      if (length <= TAIL_MAX) {
        tail.at = e_shoff - before;
        tail.bytes = src.readUpTo(tail.at, length);
      }
    }
    if (e_shoff + L.shdr > src.size) {
      throw new ElfFormatError(file, 'ELF_SHDR_PAST_EOF', `section header table at 0x${e_shoff.toString(16)} is past end of file (0x${src.size.toString(16)} bytes)`, bits === 64 ? 40 : 32);
    }
    // extended numbering: section 0 holds the real count and string table index
    if (e_shnum === 0 || e_shstrndx === SHN_XINDEX) {
      const s0 = src.read(e_shoff, L.shdr);
      const v0 = new DataView(s0.buffer, s0.byteOffset, s0.byteLength);
      if (e_shnum === 0) shnum = bits === 64 ? u64(v0, 32, le, file, 'section 0 sh_size') : v0.getUint32(20, le);
      if (e_shstrndx === SHN_XINDEX) shstrndx = v0.getUint32(bits === 64 ? 40 : 24, le);
    }
    if (shnum * e_shentsize > src.size - e_shoff) {
      throw new ElfFormatError(file, 'ELF_SHDR_PAST_EOF',
        `section header table (${shnum} entries of ${e_shentsize} bytes at 0x${e_shoff.toString(16)}) extends past end of file (0x${src.size.toString(16)} bytes)`,
        bits === 64 ? 40 : 32);
    }
    if (shstrndx !== SHN_UNDEF && shstrndx >= shnum) {
      throw new ElfFormatError(file, 'ELF_BAD_SHSTRNDX', `e_shstrndx ${shstrndx} is out of range (${shnum} sections)`, o + 14);
    }
  } else {
    shnum = 0;
    shstrndx = 0;
  }
  return {
    bits, littleEndian: le, ident, osabi: ident[7] ?? 0,
    e_type: v.getUint16(16, le), e_machine: v.getUint16(18, le), e_version: v.getUint32(20, le),
    e_entry, e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx,
    shnum, shstrndx,
  };
}

/**
 * One parsed section header. sh_flags and sh_addr are kept as 32-bit halves and made bigint
 * when asked for: two bigints per section were most of what a module's headers allocated
 * (~550k bigints over 4,230 distribution modules, read only by the few callers that look).
 */
class Section implements SectionHeader {
  name = '';
  flagsLo = 0;
  flagsHi = 0;
  addrLo = 0;
  addrHi = 0;
  sh_offset = 0;
  sh_size = 0;
  sh_link = 0;
  sh_info = 0;
  sh_addralign = 0;
  sh_entsize = 0;
  constructor(readonly index: number, readonly sh_name: number, readonly sh_type: number, readonly headerOffset: number) {}
  get sh_flags(): bigint {
    return this.flagsHi === 0 ? BigInt(this.flagsLo) : (BigInt(this.flagsHi) << 32n) | BigInt(this.flagsLo);
  }
  get sh_addr(): bigint {
    return this.addrHi === 0 ? BigInt(this.addrLo) : (BigInt(this.addrHi) << 32n) | BigInt(this.addrLo);
  }
}

/** sections whose contents are at most this far apart are read with one read (see ElfFile.load; map01.ts's module reader reads as it does) */
export const NEARBY = 4096;

/**
 * SectionTable: the section header table as read (the bytes stay where they were read: with an
 * arena, like every view read, valid until it is reset), checked once by parseSections, fields
 * decoded when asked for, with the section name table's bytes. It makes no object and no string
 * per section: headers() makes the SectionHeader objects, with their names, for the callers that
 * want them. A module read for its symbols alone needs three or four of its ~40–70 sections;
 * making all their objects and names was most of what reading it allocated.
 */
class SectionTable {
  private readonly is64: boolean;
  private readonly le: boolean;
  private readonly e_shoff: number;
  private readonly e_shentsize: number;
  /** the section name table's bytes (set by parseSections once checked); undefined when there is none: every name is '' */
  names: Uint8Array | undefined;
  constructor(readonly count: number, private readonly v: DataView, h: ElfHeader) {
    this.is64 = h.bits === 64;
    this.le = h.littleEndian;
    this.e_shoff = h.e_shoff;
    this.e_shentsize = h.e_shentsize;
  }
  /** a 32-bit field at `at` of section i's header */
  private u32(i: number, at: number): number {
    return this.v.getUint32(i * this.e_shentsize + at, this.le);
  }
  /** a 64-bit offset or size (checked below 2^53 by parseSections) at `at` of an ELF64 header */
  private n64(i: number, at: number): number {
    const o = i * this.e_shentsize + at, le = this.le;
    return this.v.getUint32(o + (le ? 4 : 0), le) * 0x100000000 + this.v.getUint32(o + (le ? 0 : 4), le);
  }
  nameOffset(i: number): number { return this.u32(i, 0); }
  type(i: number): number { return this.u32(i, 4); }
  offset(i: number): number { return this.is64 ? this.n64(i, 24) : this.u32(i, 16); }
  size(i: number): number { return this.is64 ? this.n64(i, 32) : this.u32(i, 20); }
  link(i: number): number { return this.u32(i, this.is64 ? 40 : 24); }
  info(i: number): number { return this.u32(i, this.is64 ? 44 : 28); }
  entsize(i: number): number { return this.is64 ? this.n64(i, 56) : this.u32(i, 36); }
  headerOffset(i: number): number { return this.e_shoff + i * this.e_shentsize; }
  /** label names section i for messages: "section 4 '.rela.rodata'" (the name as one string, made only for an error) */
  label(i: number): string {
    const b = this.names, o = this.nameOffset(i);
    const end = b === undefined ? -1 : b.indexOf(0, o);
    return end < 0 ? `section ${i}` : `section ${i} '${latin1(b!, o, end)}'`;
  }

  /** named returns the indexes of the sections called `name`, comparing bytes (names are latin1) */
  named(name: string): number[] {
    const out: number[] = [];
    const b = this.names;
    if (b === undefined || b.length === 0) {
      if (name === '') for (let i = 0; i < this.count; i++) out.push(i);
      return out;
    }
    const n = name.length;
    for (let i = 0; i < this.count; i++) {
      const o = this.nameOffset(i);
      // checked when parsed: o < b.length and a NUL follows
      if (o + n >= b.length || b[o + n] !== 0) continue;
      let k = 0;
      while (k < n && b[o + k] === name.charCodeAt(k)) k++;
      if (k === n) out.push(i);
    }
    return out;
  }

  /** headers makes the SectionHeader objects, names decoded once as latin1 and sliced per section */
  headers(): SectionHeader[] {
    const b = this.names;
    const text = b === undefined || b.length === 0 ? '' : latin1(b, 0, b.length);
    const out: SectionHeader[] = [];
    const le = this.le;
    for (let i = 0; i < this.count; i++) {
      const r = new Section(i, this.nameOffset(i), this.type(i), this.headerOffset(i));
      if (this.is64) {
        r.flagsLo = this.u32(i, le ? 8 : 12);
        r.flagsHi = this.u32(i, le ? 12 : 8);
        r.addrLo = this.u32(i, le ? 16 : 20);
        r.addrHi = this.u32(i, le ? 20 : 16);
        r.sh_info = this.u32(i, 44);
        r.sh_addralign = this.n64(i, 48);
      } else {
        r.flagsLo = this.u32(i, 8);
        r.addrLo = this.u32(i, 12);
        r.sh_info = this.u32(i, 28);
        r.sh_addralign = this.u32(i, 32);
      }
      r.sh_offset = this.offset(i);
      r.sh_size = this.size(i);
      r.sh_link = this.link(i);
      r.sh_entsize = this.entsize(i);
      if (text.length !== 0) r.name = text.slice(r.sh_name, text.indexOf('\0', r.sh_name));
      out.push(r);
    }
    return out;
  }
}

function parseSections(file: string, src: ByteSource, h: ElfHeader, tail: Tail): SectionTable {
  if (h.shnum === 0) return new SectionTable(0, new DataView(new ArrayBuffer(0)), h);
  // linkers and objcopy put the section name table just before the header table: read a little
  // before it in the same read, saving a read per file when the names are there
  const tableSize = h.shnum * h.e_shentsize;
  const before = Math.min(h.e_shoff, NEARBY);
  // parseHeader's read when it holds the table (it does unless the file is too short, checked there)
  const window = tail.bytes !== undefined && tail.at === h.e_shoff - before && tail.bytes.length >= before + tableSize
    ? tail.bytes.subarray(0, before + tableSize) : src.read(h.e_shoff - before, before + tableSize);
  const table = window.subarray(before);
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const le = h.littleEndian;
  // the 64-bit offsets and sizes must be safe integers (u64 throws for the first that is not)
  if (h.bits === 64) {
    for (let i = 0; i < h.shnum; i++) {
      const o = i * h.e_shentsize;
      u64(v, o + 24, le, file, 'sh_offset', i);
      u64(v, o + 32, le, file, 'sh_size', i);
      u64(v, o + 48, le, file, 'sh_addralign', i);
      u64(v, o + 56, le, file, 'sh_entsize', i);
    }
  }
  const t = new SectionTable(h.shnum, v, h);
  // section names
  let names: Uint8Array | undefined;
  if (h.shstrndx !== SHN_UNDEF) {
    const off = t.offset(h.shstrndx), size = t.size(h.shstrndx);
    if (t.type(h.shstrndx) === SHT_NOBITS) {
      throw new ElfFormatError(file, 'ELF_BAD_SHSTRTAB', `section name table ${h.shstrndx} has no contents (SHT_NOBITS)`, t.headerOffset(h.shstrndx));
    }
    if (off + size > src.size) {
      throw new ElfFormatError(file, 'ELF_SECTION_PAST_EOF', `section name table ${h.shstrndx} extends past end of file`, t.headerOffset(h.shstrndx));
    }
    const at = off - (h.e_shoff - before);
    names = at >= 0 && at + size <= before ? window.subarray(at, at + size) : src.read(off, size);
  }
  // every name is checked here, as when each was decoded: in range, and NUL-terminated (at or
  // before the table's last NUL)
  if (names !== undefined) {
    const lastNul = names.lastIndexOf(0);
    for (let i = 0; i < h.shnum; i++) {
      const sh_name = t.nameOffset(i);
      if (sh_name >= names.length && !(sh_name === 0 && names.length === 0)) {
        throw new ElfFormatError(file, 'ELF_BAD_STRTAB_INDEX', `section ${i}: sh_name ${sh_name} is past the end of the section name table (${names.length} bytes)`, t.headerOffset(i));
      }
      if (names.length !== 0 && sh_name > lastNul) {
        throw new ElfFormatError(file, 'ELF_BAD_STRTAB_INDEX', `section ${i}: name at sh_name ${sh_name} is not NUL-terminated`, t.headerOffset(i));
      }
    }
  }
  t.names = names;
  return t;
}

/**
 * checkRelocatableLinks holds a relocatable file to the gABI's reading of its relocation
 * sections: there is one symbol table (SHT_SYMTAB), every SHT_REL/SHT_RELA section's sh_link
 * names it and its sh_info names the section it applies to. Readers that pick relocation sections
 * by sh_link would otherwise skip a section linked elsewhere without a word, while a loader that
 * applies every section against the one symbol table (as a kernel's module loader does) still
 * uses its entries; and a section whose sh_info names no section applies to nothing. The readers
 * of relocations call it (ElfFile.checkRelocationSections); opening a file does not, so a reader
 * that wants only symbols (a map's modules) is not refused what it does not read. Files of other
 * types (an executable may leave sh_link 0) are not held to it.
 */
function checkRelocatableLinks(file: string, t: SectionTable): void {
  let symtab: number | undefined;
  for (let i = 1; i < t.count; i++) {
    if (t.type(i) !== SHT_SYMTAB) continue;
    if (symtab !== undefined) {
      throw new ElfFormatError(file, 'ELF_MANY_SYMTABS',
        `${t.label(i)} is a second SHT_SYMTAB (the first is ${t.label(symtab)}); a relocatable file has one symbol table`, t.headerOffset(i));
    }
    symtab = i;
  }
  for (let i = 1; i < t.count; i++) {
    const type = t.type(i);
    if (type !== SHT_REL && type !== SHT_RELA) continue;
    const link = t.link(i), info = t.info(i);
    if (link !== symtab || symtab === undefined) {
      const what = link === 0 ? 'names no section' : link >= t.count ? `is out of range (${t.count} sections)` : `names ${t.label(link)}`;
      const fix = symtab === undefined ? 'the file has no symbol table (SHT_SYMTAB) for its relocations (was it stripped?)' : `its relocations are against the file's one symbol table, ${t.label(symtab)}: set sh_link to ${symtab}`;
      throw new ElfFormatError(file, 'ELF_RELOC_LINK', `${t.label(i)}: sh_link ${link} ${what}, not the symbol table; ${fix}`, t.headerOffset(i));
    }
    if (info === 0 || info >= t.count) {
      throw new ElfFormatError(file, 'ELF_RELOC_INFO',
        `${t.label(i)}: sh_info ${info} ${info === 0 ? 'names no section' : `is out of range (${t.count} sections)`}; it must be the index of the section the relocations apply to`, t.headerOffset(i));
    }
  }
}

/** isDefinedShndx is true for st_shndx values that name a real section (not UNDEF, not reserved). */
export function isSectionIndex(shndx: number): boolean {
  return shndx > SHN_UNDEF && shndx < SHN_LORESERVE;
}
