/**
 * SymbolTable: a struct-of-arrays view of SHT_SYMTAB / SHT_DYNSYM.
 *
 * Bulk fields (st_name, st_info, st_other, st_shndx) are decoded once into typed arrays; names,
 * values and sizes are read on demand. Index 0 (the null symbol) is kept, so a symbol index
 * from r_info is an array index here. Names are decoded as latin1: one byte per UTF-16 unit, so
 * the default string sort is byte order (strcmp) and names round-trip to the same bytes.
 */
import { SHN_LORESERVE, SHN_UNDEF, SHN_XINDEX } from './constants.js';
import { ElfFormatError } from './errors.js';
import type { ElfFile } from './read.js';
import { latin1 } from './read.js';

/** whether this machine is little-endian (typed-array views then read little-endian files directly) */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A symbol table's entries and string table as read from the file (ElfFile.symbolBytes; a
 * SymbolTable is one too). `fileOffset` is where the entries start in the file, for messages.
 */
export interface SymbolBytes {
  readonly elf: ElfFile;
  /** the section index of the table */
  readonly section: number;
  readonly raw: Uint8Array;
  readonly strtab: Uint8Array;
  readonly count: number;
  readonly fileOffset: number;
}

/**
 * nameOffsets writes to `out` the st_name of every symbol from index 1 on whose type
 * (st_info & 0xf) is not in `skipTypes` (a mask of 1 << STT_*), in table order, and returns how
 * many it wrote. Every offset is checked to lie inside the string table (ELF_BAD_STRTAB_INDEX,
 * as SymbolTable checks). One pass over the entries, no per-field arrays: `out` must have room
 * for t.count entries.
 */
export function nameOffsets(t: SymbolBytes, skipTypes: number, out: Uint32Array): number {
  const raw = t.raw, strLen = t.strtab.length;
  const h = t.elf.header;
  const le = h.littleEndian, is64 = h.bits === 64;
  let k = 0;
  let max = 0;
  if (is64 && le) {
    // st_name from its four bytes: a Uint32Array view over the arena's buffer made per table cost
    // ~30 % of a full-corpus run in profiles (1,270 of 3,550 samples), the byte loads nothing seen
    for (let o = 0; o < raw.length; o += 24) {
      const name = (raw[o]! | (raw[o + 1]! << 8) | (raw[o + 2]! << 16) | (raw[o + 3]! << 24)) >>> 0;
      if (name > max) max = name;
      if (o !== 0 && ((skipTypes >>> (raw[o + 4]! & 0xf)) & 1) === 0) out[k++] = name; // entry 0 is checked, not listed
    }
  } else {
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const es = is64 ? 24 : 16, infoAt = is64 ? 4 : 12;
    for (let o = 0; o < raw.length; o += es) {
      const name = v.getUint32(o, le);
      if (name > max) max = name;
      if (o !== 0 && ((skipTypes >>> (raw[o + infoAt]! & 0xf)) & 1) === 0) out[k++] = name;
    }
  }
  if (namePastTable(max, strLen)) throw badNameOffset(t);
  return k;
}

/**
 * namePastTable tells whether a name offset `off` (or the largest of a table's) lies outside a
 * string table of strLen bytes; every offset 0 in an empty string table is allowed (no names).
 * The one rule of nameOffsets, SymbolTable and the 0.1 map's WebAssembly filter (namesort.ts).
 */
export function namePastTable(off: number, strLen: number): boolean {
  return off >= strLen && !(off === 0 && strLen === 0);
}

/** hasDefined tells whether a symbol (from index 1) of type `type` (STT_*) has st_shndx != SHN_UNDEF; it stops at the first. */
export function hasDefined(t: SymbolBytes, type: number): boolean {
  const raw = t.raw, h = t.elf.header;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const es = h.bits === 64 ? 24 : 16, infoAt = h.bits === 64 ? 4 : 12, shndxAt = h.bits === 64 ? 6 : 14;
  for (let i = 1, o = es; i < t.count; i++, o += es) {
    if ((raw[o + infoAt]! & 0xf) === type && v.getUint16(o + shndxAt, h.littleEndian) !== SHN_UNDEF) return true;
  }
  return false;
}

/** badNameOffset names the first symbol whose st_name lies outside the string table. */
function badNameOffset(t: SymbolBytes): ElfFormatError {
  const h = t.elf.header;
  const es = h.bits === 64 ? 24 : 16, strLen = t.strtab.length;
  const v = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  for (let i = 0; i < t.count; i++) {
    const name = v.getUint32(i * es, h.littleEndian);
    if (namePastTable(name, strLen)) {
      return new ElfFormatError(t.elf.file, 'ELF_BAD_STRTAB_INDEX',
        `symbol ${i}: st_name ${name} is past the end of the string table (${strLen} bytes)`, t.fileOffset + i * es);
    }
  }
  throw new Error('badNameOffset: every name is inside the string table');
}

/**
 * decodeFields fills the per-symbol arrays from the entries. The constructor's loops are
 * functions of their own: inside it they were compiled on-stack during vmlinux's 10^5 symbols,
 * and that code bailed out at the code after each loop, which it had never seen run.
 */
function decodeFields(raw: Uint8Array, v: DataView, n: number, is64: boolean, le: boolean,
  nameOff: Uint32Array, info: Uint8Array, other: Uint8Array, shndx: Uint16Array): void {
  if (is64 && le && HOST_LE && raw.byteOffset % 4 === 0) {
    // 32- and 16-bit views over the entries: indexed loads stay fast before the JIT has
    // optimised this loop, where a DataView call per field does not (it runs once per file)
    const w = new Uint32Array(raw.buffer, raw.byteOffset, n * 6);
    const h = new Uint16Array(raw.buffer, raw.byteOffset, n * 12);
    for (let i = 0, o = 0; i < n; i++, o += 24) {
      nameOff[i] = w[i * 6]!;
      info[i] = raw[o + 4]!;
      other[i] = raw[o + 5]!;
      shndx[i] = h[i * 12 + 3]!;
    }
  } else if (is64) {
    for (let i = 0, o = 0; i < n; i++, o += 24) {
      nameOff[i] = v.getUint32(o, le);
      info[i] = raw[o + 4]!;
      other[i] = raw[o + 5]!;
      shndx[i] = v.getUint16(o + 6, le);
    }
  } else {
    for (let i = 0, o = 0; i < n; i++, o += 16) {
      nameOff[i] = v.getUint32(o, le);
      info[i] = raw[o + 12]!;
      other[i] = raw[o + 13]!;
      shndx[i] = v.getUint16(o + 14, le);
    }
  }
}

/** maxOf returns the largest value of a (0 when empty) */
function maxOf(a: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

export class SymbolTable implements SymbolBytes {
  readonly count: number;
  readonly nameOff: Uint32Array;
  readonly info: Uint8Array;
  readonly other: Uint8Array;
  /** the raw st_shndx field (SHN_XINDEX stays SHN_XINDEX; see sectionIndex) */
  readonly shndx: Uint16Array;
  /** the real section index from SHT_SYMTAB_SHNDX, where present (0 otherwise) */
  readonly xindex: Uint32Array | undefined;
  private readonly view: DataView;
  private readonly le: boolean;
  private readonly is64: boolean;
  private readonly entsize: number;

  constructor(
    readonly elf: ElfFile,
    readonly sectionIndex_: number,
    readonly raw: Uint8Array,
    readonly strtab: Uint8Array,
    shndxTable: Uint8Array | undefined,
    readonly fileOffset: number,
  ) {
    const h = elf.header;
    this.le = h.littleEndian;
    this.is64 = h.bits === 64;
    this.entsize = this.is64 ? 24 : 16;
    this.count = raw.length / this.entsize;
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    this.view = v;
    const n = this.count;
    // the four fields in one buffer: one allocation per table, not four (a generator of the
    // extended map decodes one table per module, 4,230 of them)
    const fields = new ArrayBuffer(8 * n);
    this.nameOff = new Uint32Array(fields, 0, n);
    this.shndx = new Uint16Array(fields, 4 * n, n);
    this.info = new Uint8Array(fields, 6 * n, n);
    this.other = new Uint8Array(fields, 7 * n, n);
    decodeFields(raw, v, n, this.is64, this.le, this.nameOff, this.info, this.other, this.shndx);
    const strLen = strtab.length;
    const maxName = maxOf(this.nameOff);
    if (namePastTable(maxName, strLen)) {
      const nameOff = this.nameOff;
      const i = nameOff.findIndex((x) => namePastTable(x, strLen));
      throw new ElfFormatError(elf.file, 'ELF_BAD_STRTAB_INDEX',
        `symbol ${i}: st_name ${nameOff[i]} is past the end of the string table (${strLen} bytes)`, fileOffset + i * this.entsize);
    }
    if (shndxTable !== undefined) {
      const xv = new DataView(shndxTable.buffer, shndxTable.byteOffset, shndxTable.byteLength);
      this.xindex = new Uint32Array(n);
      for (let i = 0; i < n; i++) this.xindex[i] = xv.getUint32(i * 4, this.le);
    } else {
      this.xindex = undefined;
    }
  }

  /** section is the section index of this table (SymbolBytes). */
  get section(): number {
    return this.sectionIndex_;
  }

  /** symtabSection is the section index of this table. */
  get symtabSection(): number {
    return this.sectionIndex_;
  }

  /** nameEnd returns the offset of the NUL that ends symbol i's name in strtab. */
  nameEnd(i: number): number {
    const start = this.nameOff[i]!;
    const end = this.strtab.indexOf(0, start);
    if (end < 0) {
      throw new ElfFormatError(this.elf.file, 'ELF_BAD_STRTAB_INDEX', `symbol ${i}: name at st_name ${start} is not NUL-terminated`,
        this.fileOffset + i * this.entsize);
    }
    return end;
  }

  /** name returns symbol i's name (latin1). */
  name(i: number): string {
    const start = this.nameOff[i]!;
    if (this.strtab.length === 0) return '';
    return latin1(this.strtab, start, this.nameEnd(i));
  }

  /** nameBytes returns symbol i's name bytes, without the NUL, as a view into the string table. */
  nameBytes(i: number): Uint8Array {
    const start = this.nameOff[i]!;
    if (this.strtab.length === 0) return this.strtab;
    return this.strtab.subarray(start, this.nameEnd(i));
  }

  bind(i: number): number {
    return this.info[i]! >>> 4;
  }

  type(i: number): number {
    return this.info[i]! & 0xf;
  }

  value(i: number): bigint {
    return this.is64 ? this.view.getBigUint64(i * 24 + 8, this.le) : BigInt(this.view.getUint32(i * 16 + 4, this.le));
  }

  size(i: number): bigint {
    return this.is64 ? this.view.getBigUint64(i * 24 + 16, this.le) : BigInt(this.view.getUint32(i * 16 + 8, this.le));
  }

  /** valueHi/valueLo give the two 32-bit halves of st_value, for bulk sorting without bigint. */
  valueHi(i: number): number {
    return this.is64 ? this.view.getUint32(i * 24 + (this.le ? 12 : 8), this.le) : 0;
  }
  valueLo(i: number): number {
    return this.is64 ? this.view.getUint32(i * 24 + (this.le ? 8 : 12), this.le) : this.view.getUint32(i * 16 + 4, this.le);
  }

  /**
   * sectionIndex returns the real section index of a symbol that lives in a section (resolving
   * SHN_XINDEX through SHT_SYMTAB_SHNDX), or -1 for SHN_UNDEF and the reserved indexes
   * (SHN_ABS, SHN_COMMON, processor- and OS-specific values).
   */
  sectionIndex(i: number): number {
    const s = this.shndx[i]!;
    if (s === SHN_XINDEX) {
      if (this.xindex === undefined) {
        throw new ElfFormatError(this.elf.file, 'ELF_NO_SHNDX_TABLE', `symbol ${i}: st_shndx is SHN_XINDEX but there is no SHT_SYMTAB_SHNDX section`,
          this.fileOffset + i * this.entsize);
      }
      return this.xindex[i]!;
    }
    if (s === SHN_UNDEF || s >= SHN_LORESERVE) return -1;
    return s;
  }

  /** isUndef is true for st_shndx == SHN_UNDEF. */
  isUndef(i: number): boolean {
    return this.shndx[i] === SHN_UNDEF;
  }

  /** firstNonLocal is the symtab's sh_info as written in the file. */
  get firstNonLocal(): number {
    return this.elf.section(this.sectionIndex_).sh_info;
  }
}
