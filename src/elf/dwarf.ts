/**
 * A small DWARF reader (versions 2-5, 32- and 64-bit DWARF): the compile units of .debug_info
 * with their DW_AT_name and DW_AT_comp_dir, and the addresses a unit defines (DW_TAG_subprogram
 * DW_AT_low_pc, DW_TAG_variable DW_AT_location of the form DW_OP_addr). Nothing else is decoded:
 * every other attribute is skipped by its form.
 *
 * Sources: DWARF 5 (dwarfstd.org, §7.5 unit headers, abbreviations and forms), DWARF 4 §7.5,
 * GNU extensions from binutils include/dwarf2.def (DW_FORM_GNU_*).
 *
 * Relocatable objects (ET_REL: a kernel module, a .o) keep their .debug_info fields unrelocated:
 * string offsets, abbreviation offsets and addresses come from .rela.debug_info (or .rel). The
 * reader applies them while reading a field: an address becomes (section index, offset), which
 * is how symbols of an ET_REL file are placed too. Linked files (ET_EXEC, ET_DYN) are read as
 * stored. Compressed sections (SHF_COMPRESSED, zlib) are inflated (compress.ts).
 *
 * What is read, for uncompressed sections: of each unit, its first HEAD_BYTES (header and unit
 * DIE); of the relocation table, small windows found by interpolation (RelocIndex); of the
 * string sections, the strings the unit DIEs name (resolveStrings); of a range list section, the
 * lists asked for; .debug_abbrev whole (the unit DIE's abbreviation comes late in its table, so
 * most of every table is scanned anyway); a unit's DIEs and relocations only when its addresses
 * are asked for.
 *
 * Malformed input gives ElfFormatError (code DWARF_MALFORMED; DWARF_UNSUPPORTED for a version,
 * address size or form this reader does not know) naming the section and offset; every read
 * is bounds-checked against its unit or section, and every loop advances, so a corrupt file
 * cannot hang the reader or make it allocate more than the sections it reads.
 */
import { ET_REL, SHT_NOBITS, SHT_REL, SHT_RELA } from './constants.js';
import { isCompressed, sectionContents } from './compress.js';
import { ElfFormatError } from './errors.js';
import { latin1, type ElfFile, type SectionHeader } from './read.js';
import type { SymbolTable } from './symtab.js';

export const DW_TAG_compile_unit = 0x11;
export const DW_TAG_partial_unit = 0x3c;
export const DW_TAG_skeleton_unit = 0x4a;
export const DW_TAG_subprogram = 0x2e;
export const DW_TAG_variable = 0x34;
export const DW_AT_sibling = 0x01;
export const DW_AT_location = 0x02;
export const DW_AT_name = 0x03;
export const DW_AT_low_pc = 0x11;
export const DW_AT_comp_dir = 0x1b;
export const DW_AT_str_offsets_base = 0x72;
export const DW_AT_high_pc = 0x12;
export const DW_AT_ranges = 0x55;
export const DW_OP_addr = 0x03;
export const DW_UT_compile = 0x01;
export const DW_UT_partial = 0x03;

// forms (DWARF 5 §7.5.6; GNU: dwarf2.def)
const F_addr = 0x01, F_block2 = 0x03, F_block4 = 0x04, F_data2 = 0x05, F_data4 = 0x06, F_data8 = 0x07, F_string = 0x08,
  F_block = 0x09, F_block1 = 0x0a, F_data1 = 0x0b, F_flag = 0x0c, F_sdata = 0x0d, F_strp = 0x0e, F_udata = 0x0f,
  F_ref_addr = 0x10, F_ref1 = 0x11, F_ref2 = 0x12, F_ref4 = 0x13, F_ref8 = 0x14, F_ref_udata = 0x15, F_indirect = 0x16,
  F_sec_offset = 0x17, F_exprloc = 0x18, F_flag_present = 0x19, F_strx = 0x1a, F_addrx = 0x1b, F_ref_sup4 = 0x1c,
  F_strp_sup = 0x1d, F_data16 = 0x1e, F_line_strp = 0x1f, F_ref_sig8 = 0x20, F_implicit_const = 0x21, F_loclistx = 0x22,
  F_rnglistx = 0x23, F_ref_sup8 = 0x24, F_strx1 = 0x25, F_strx2 = 0x26, F_strx3 = 0x27, F_strx4 = 0x28, F_addrx1 = 0x29,
  F_addrx2 = 0x2a, F_addrx3 = 0x2b, F_addrx4 = 0x2c, F_GNU_addr_index = 0x1f01, F_GNU_str_index = 0x1f02,
  F_GNU_ref_alt = 0x1f20, F_GNU_strp_alt = 0x1f21;

/** one compile (or partial) unit of .debug_info */
export interface DwarfUnit {
  /** offset of the unit header in .debug_info */
  readonly offset: number;
  readonly version: number;
  /** DW_UT_* (DWARF 5), DW_UT_compile for older versions */
  readonly unitType: number;
  readonly addressSize: number;
  readonly offsetSize: 4 | 8;
  readonly abbrevOffset: number;
  /** offset of the unit DIE; the unit ends at `end` */
  readonly dieOffset: number;
  readonly end: number;
  /** tag of the unit DIE (DW_TAG_compile_unit ...), 0 when the unit has none */
  readonly tag: number;
  /** DW_AT_name and DW_AT_comp_dir as stored (latin1), when present and readable */
  readonly name: string | undefined;
  readonly compDir: string | undefined;
  /**
   * the unit DIE's code addresses: DW_AT_low_pc, DW_AT_high_pc (made absolute), DW_AT_ranges (a
   * section offset); undefined in relocatable files, where codeRanges reads them when asked
   * (their relocations cost a look-up each, for every unit)
   */
  readonly lowPc: DwarfAddress | undefined;
  readonly highPc: bigint | undefined;
  readonly rangesOffset: number | undefined;
}

type UnitDie = Pick<DwarfUnit, 'tag' | 'name' | 'compDir' | 'lowPc' | 'highPc' | 'rangesOffset'>;
const NO_DIE: UnitDie = { tag: 0, name: undefined, compDir: undefined, lowPc: undefined, highPc: undefined, rangesOffset: undefined };

/** an address in the file: `section` is the section index for ET_REL files (-1 when absolute) */
export interface DwarfAddress {
  readonly section: number;
  readonly value: bigint;
}

/** code at [start, end) of a section (`section` as in DwarfAddress) */
export interface DwarfRange {
  readonly section: number;
  readonly start: bigint;
  readonly end: bigint;
}

interface Abbrev {
  readonly tag: number;
  /** DW_CHILDREN_yes */
  readonly children: boolean;
  /** attribute, form pairs */
  readonly specs: Uint32Array;
  /** DW_FORM_implicit_const values, by pair index */
  readonly implicit: Map<number, number> | undefined;
}

/** one abbreviation table: where each code's entry starts, decoded on first use */
interface AbbrevTable {
  readonly at: Map<number, number>;
  readonly decoded: Map<number, Abbrev>;
  /** where indexing stopped (the next entry), -1 once the table's end was reached */
  next: number;
}

interface Reloc {
  sym: number;
  addend: bigint;
  rela: boolean;
}

/**
 * RelocIndex finds the relocation at an offset of .debug_info. A module's .rela.debug_info is
 * often larger than its .debug_info (10^4-10^6 entries) and the reader needs a few entries per
 * unit, so the table is read in small windows as the search touches them, never as a whole.
 * Assemblers and ld -r write these tables sorted by r_offset, and their offsets spread over
 * .debug_info about as evenly as the units do, so the search guesses the entry's position from
 * the offsets it already knows (interpolation; from the fourth step every other step a bisection,
 * so it never takes more than about twice as many reads as a binary search) and reads a window of
 * WINDOW_ENTRIES entries there: two or three reads of 768 bytes per unit. The last window is
 * kept, so the unit DIE's fields (the entries right after the unit header's) mostly need no read.
 * Every window read is checked (in order, and within the bounds the earlier ones set), and a
 * table found out of order is read whole and sorted once.
 */
class RelocIndex {
  private readonly tabs: LazyRelocs[];
  constructor(elf: ElfFile, sections: readonly SectionHeader[], private readonly symtab: SymbolTable, infoSize: number) {
    this.tabs = sections.map((s) => new LazyRelocs(elf, s, infoSize));
  }
  find(at: number): Reloc | undefined {
    for (const t of this.tabs) {
      const r = t.find(at, this.symtab);
      if (r !== undefined) return r;
    }
    return undefined;
  }
}

/** relocations read per search step (24 bytes each in ELF64 RELA) */
const WINDOW_ENTRIES = 32;

/** consecutive entries of a relocation table as read: `first` is the index of entry 0 */
class RelocRun {
  constructor(readonly first: number, readonly n: number, readonly v: DataView, private readonly entsize: number,
    private readonly is64: boolean, private readonly le: boolean) {}
  /** off returns r_offset of entry k (values past 2^53 lose precision: no .debug_info is that large) */
  off(k: number): number {
    const o = k * this.entsize, v = this.v, le = this.le;
    if (!this.is64) return v.getUint32(o, le);
    return v.getUint32(o + (le ? 4 : 0), le) * 0x100000000 + v.getUint32(o + (le ? 0 : 4), le);
  }
}

class LazyRelocs {
  private readonly count: number;
  private readonly entsize: number;
  private readonly rela: boolean;
  private readonly is64: boolean;
  private readonly le: boolean;
  /** the last window a search read (the next field of a unit is usually in it too) */
  private win: RelocRun | undefined;
  /** set when the table is out of order: all offsets sorted, with the entry index of each, and the whole table */
  private sorted: { offs: Float64Array; order: Uint32Array; all: RelocRun } | undefined;

  constructor(private readonly elf: ElfFile, private readonly sec: SectionHeader, private readonly infoSize: number) {
    this.rela = sec.sh_type === SHT_RELA;
    this.is64 = elf.header.bits === 64;
    this.le = elf.header.littleEndian;
    const want = this.is64 ? (this.rela ? 24 : 16) : (this.rela ? 12 : 8);
    if (sec.sh_entsize !== want) throw elf.error('ELF_BAD_ENTSIZE', `section ${sec.index} '${sec.name}': sh_entsize ${sec.sh_entsize}, expected ${want}`, sec.headerOffset);
    if (sec.sh_size % want !== 0) throw elf.error('ELF_BAD_SIZE', `section ${sec.index} '${sec.name}': sh_size ${sec.sh_size} is not a multiple of ${want}`, sec.headerOffset);
    if (sec.sh_offset + sec.sh_size > elf.size) throw elf.error('ELF_SECTION_PAST_EOF', `section ${sec.index} '${sec.name}': contents extend past end of file`, sec.headerOffset);
    this.entsize = want;
    this.count = sec.sh_size / want;
  }

  /** load reads entries [first, first+n) (no order check) */
  private load(first: number, n: number): RelocRun {
    const b = n === 0 ? new Uint8Array(0) : this.elf.rawBytes(this.sec.sh_offset + first * this.entsize, n * this.entsize);
    return new RelocRun(first, n, new DataView(b.buffer, b.byteOffset, b.byteLength), this.entsize, this.is64, this.le);
  }

  /** read is load, checked in order; undefined (and the table sorted whole) when it is not */
  private read(first: number, n: number): RelocRun | undefined {
    const r = this.load(first, n);
    for (let i = 1, prev = n > 0 ? r.off(0) : 0; i < n; i++) {
      const o = r.off(i);
      if (o < prev) {
        this.sortAll();
        return undefined;
      }
      prev = o;
    }
    return r;
  }

  private sortAll(): void {
    if (this.sorted !== undefined) return;
    const all = this.load(0, this.count);
    const offs = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) offs[i] = all.off(i);
    const order = Uint32Array.from({ length: this.count }, (_, i) => i).sort((a, b) => offs[a]! - offs[b]! || a - b);
    this.sorted = { offs: Float64Array.from(order, (i) => offs[i]!), order, all };
    this.win = undefined;
  }

  /**
   * lowerBound finds the first entry whose offset is at least `at` in a sorted table: the run
   * holding it and its index there, { run: undefined } when every entry is below `at`, or
   * undefined when the table turned out to be out of order (this.sorted is then set).
   * Invariant: entries below lo are below `at` (offLo: the offset of entry lo-1, -1 while lo is
   * 0), entries from hi on are not (hiRun holds entry hi, offHi its offset, -1 while hi = count).
   */
  private lowerBound(at: number): { run: RelocRun | undefined; k: number } | undefined {
    let lo = 0, hi = this.count, offLo = -1, offHi = -1;
    let hiRun: RelocRun | undefined;
    let w = this.win;
    for (let step = 0; lo < hi; step++) {
      if (w === undefined) {
        const span = hi - lo;
        let start = lo;
        if (span > WINDOW_ENTRIES) {
          let g: number;
          if (step < 3 || step % 2 === 0) {
            const a = offLo < 0 ? 0 : offLo, b = offHi < 0 ? Math.max(this.infoSize, at + 1) : offHi;
            g = b > a ? lo + Math.floor(((at - a) / (b - a)) * span) : lo;
          } else {
            g = (lo + hi) >>> 1;
          }
          start = Math.min(hi - WINDOW_ENTRIES, Math.max(lo, g - (WINDOW_ENTRIES >> 1)));
        }
        w = this.read(start, Math.min(WINDOW_ENTRIES, span));
        if (w === undefined) return undefined;
        if ((offLo >= 0 && w.off(0) < offLo) || (offHi >= 0 && w.off(w.n - 1) > offHi)) {
          this.sortAll();
          return undefined;
        }
        this.win = w;
      }
      const n = w.n, s = w.first, first = w.off(0), last = w.off(n - 1);
      if (last < at) {
        lo = s + n;
        offLo = last;
      } else if (first >= at) {
        hi = s;
        offHi = first;
        hiRun = w;
      } else {
        let a = 0, b = n - 1; // off(a) < at <= off(b)
        while (b - a > 1) {
          const m = (a + b) >>> 1;
          if (w.off(m) < at) a = m;
          else b = m;
        }
        return { run: w, k: b };
      }
      w = undefined;
    }
    return { run: hiRun, k: 0 };
  }

  /** entry decodes entry k of a run */
  entry(r: RelocRun, k: number, st: SymbolTable): Reloc {
    const v = r.v, o = k * this.entsize, idx = r.first + k;
    let sym: number, addend = 0n;
    if (this.is64) {
      sym = v.getUint32(o + (this.le ? 12 : 8), this.le);
      if (this.rela) addend = v.getBigInt64(o + 16, this.le);
    } else {
      sym = v.getUint32(o + 4, this.le) >>> 8;
      if (this.rela) addend = BigInt(v.getInt32(o + 8, this.le));
    }
    if (sym >= st.count) throw this.elf.error('DWARF_MALFORMED', `${this.sec.name}: relocation ${idx}: symbol ${sym} is out of range (${st.count} symbols)`, this.sec.sh_offset + idx * this.entsize);
    return { sym, addend, rela: this.rela };
  }

  find(at: number, st: SymbolTable): Reloc | undefined {
    if (this.sorted === undefined) {
      const r = this.lowerBound(at);
      if (r !== undefined) return r.run !== undefined && r.run.off(r.k) === at ? this.entry(r.run, r.k, st) : undefined;
    }
    const { offs, order, all } = this.sorted!;
    let lo = 0, hi = offs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offs[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    return lo < offs.length && offs[lo] === at ? this.entry(all, order[lo]!, st) : undefined;
  }
}

/** thrown by a Cursor that reached the end of a partial read of its unit: read the whole unit */
const SHORT_CHUNK = Symbol('short chunk');

/**
 * A bounded cursor over part of a section: `chunk` holds the section's bytes from `base`, `pos`
 * counts in section offsets, `limit` ends the current unit (or the chunk, when only the start of
 * the unit was read: then running out throws SHORT_CHUNK instead of an error).
 */
class Cursor {
  pos: number;
  limit: number;
  readonly v: DataView;
  constructor(readonly d: Uint8Array, readonly base: number, limit: number, readonly unitEnd: number, readonly le: boolean,
    readonly fail: (pos: number, msg: string) => never) {
    this.v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    this.pos = base;
    this.limit = Math.min(limit, base + d.length);
  }
  short(n: number): never {
    if (this.limit < this.unitEnd) throw SHORT_CHUNK;
    this.fail(this.pos, `${n} bytes needed, ${this.limit - this.pos} left in the unit`);
  }
  need(n: number): void {
    if (n < 0 || this.pos + n > this.limit) this.short(n);
  }
  byte(at: number): number {
    return this.d[at - this.base]!;
  }
  u8(): number {
    this.need(1);
    return this.d[this.pos++ - this.base]!;
  }
  u16(): number {
    this.need(2);
    const x = this.v.getUint16(this.pos - this.base, this.le);
    this.pos += 2;
    return x;
  }
  u32(): number {
    this.need(4);
    const x = this.v.getUint32(this.pos - this.base, this.le);
    this.pos += 4;
    return x;
  }
  /** u64 as a number; values above 2^53 are refused (they are offsets or lengths here) */
  u64(): number {
    this.need(8);
    const o = this.pos - this.base;
    const lo = this.v.getUint32(o + (this.le ? 0 : 4), this.le), hi = this.v.getUint32(o + (this.le ? 4 : 0), this.le);
    if (hi > 0x1fffff) this.fail(this.pos, 'a 64-bit offset or length is too large');
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }
  /** fixed reads an n-byte unsigned value (n <= 6) */
  fixed(n: number): number {
    this.need(n);
    let x = 0;
    const o = this.pos - this.base;
    for (let i = 0, mul = 1; i < n; i++, mul *= 256) x += this.d[o + (this.le ? i : n - 1 - i)]! * mul; // not 2 ** k: a pow() call each
    this.pos += n;
    return x;
  }
  /** bigAddr reads an address of `size` bytes */
  bigAddr(size: number): bigint {
    this.need(size);
    const o = this.pos - this.base;
    this.pos += size;
    if (size === 8) return this.v.getBigUint64(o, this.le);
    if (size === 4) return BigInt(this.v.getUint32(o, this.le));
    return BigInt(this.v.getUint16(o, this.le));
  }
  /** unsigned LEB128 as a number (at most 2^56; longer encodings are refused) */
  uleb(): number {
    let result = 0, mul = 1;
    for (let i = 0; ; i++) {
      if (this.pos >= this.limit) this.short(1);
      const b = this.d[this.pos++ - this.base]!;
      if (i < 8) result += (b & 0x7f) * mul;
      else if ((b & 0x7f) !== 0) this.fail(this.pos - 1, 'LEB128 value is too large');
      if ((b & 0x80) === 0) return result;
      mul *= 128;
      if (i >= 15) this.fail(this.pos, 'LEB128 value is longer than 16 bytes');
    }
  }
  skipLeb(): void {
    for (let i = 0; ; i++) {
      if (this.pos >= this.limit) this.short(1);
      if ((this.d[this.pos++ - this.base]! & 0x80) === 0) return;
      if (i >= 15) this.fail(this.pos, 'LEB128 value is longer than 16 bytes');
    }
  }
  sleb(): number {
    let result = 0, mul = 1, b = 0;
    for (let i = 0; ; i++) {
      if (this.pos >= this.limit) this.short(1);
      b = this.d[this.pos++ - this.base]!;
      if (i < 8) result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) break;
      if (i >= 15) this.fail(this.pos, 'LEB128 value is longer than 16 bytes');
    }
    if ((b & 0x40) !== 0 && mul <= 2 ** 56) result -= mul;
    return result;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /** skipCString steps over a NUL-terminated string */
  skipCString(): void {
    const e = this.d.indexOf(0, this.pos - this.base);
    if (e < 0 || e + this.base >= this.limit) this.short(1);
    this.pos = e + this.base + 1;
  }
  /** cstring reads a NUL-terminated string in place */
  cstring(): string {
    const o = this.pos - this.base;
    const e = this.d.indexOf(0, o);
    if (e < 0 || e + this.base >= this.limit) this.short(1);
    this.pos = e + this.base + 1;
    return latin1(this.d, o, e);
  }
}

/**
 * findAbbrev scans an abbreviation table from `start` for the first entry with `code` and returns
 * where the entry continues (after its code), or -1 when the table ends first or runs off the
 * section (the caller then reads the table with bounds-checked cursors, which name the error).
 * A plain byte loop: this runs over most of every unit's table (the unit DIE's code comes
 * late). Attribute and form pairs of one byte each take one step; longer ones (43% of a
 * vmlinux's entries have one) go through abbrevPair. In a cloud ext run (callgrind, JIT code
 * named by --perf-basic-prof) the scan took 252M instructions against 289M for a loop that
 * decodes every value in full, though the latter is cheaper in a microbenchmark of one pass
 * over a vmlinux's tables.
 */
function findAbbrev(d: Uint8Array, start: number, code: number): number {
  const n = d.length;
  let p = start;
  for (;;) {
    // code (uleb), then tag (uleb), children (1 byte), then (attribute, form) uleb pairs up to 0, 0
    if (p >= n) return -1;
    let k = d[p]!;
    if (k < 0x80) {
      p++;
    } else {
      k = lebAt(d, p);
      if (k < 0) return -1;
      p = lebEnd;
    }
    if (k === 0) return -1;
    if (k === code) return p;
    do {
      if (p >= n) return -1;
    } while (d[p++]! >= 0x80);
    p++;
    for (;;) {
      if (p + 1 >= n) return -1;
      const a = d[p]!, f = d[p + 1]!;
      if ((a | f) < 0x80) {
        p += 2;
        if ((a | f) === 0) break;
        if (f === F_implicit_const) {
          do {
            if (p >= n) return -1;
          } while (d[p++]! >= 0x80);
        }
        continue;
      }
      const q = abbrevPair(d, p);
      if (q === -1) return -1;
      if (q < -1) {
        p = -2 - q;
        break;
      }
      p = q;
    }
  }
}

/** set by lebAt: where the value it decoded ends */
let lebEnd = 0;

/** lebAt decodes the ULEB128 at p (exact up to 2^49, else -1; -1 also when it runs off d) */
function lebAt(d: Uint8Array, p: number): number {
  let v = 0, mul = 1;
  for (;;) {
    if (p >= d.length || mul > 2 ** 49) return -1;
    const b = d[p++]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (b < 0x80) {
      lebEnd = p;
      return v;
    }
  }
}

/**
 * abbrevPair steps over one attribute, form pair at p (and an implicit constant): returns where
 * the next pair starts, -2 - end for the 0, 0 that ends the entry, -1 when it runs off d.
 * Of the attribute only "is it 0" matters.
 */
function abbrevPair(d: Uint8Array, p: number): number {
  const n = d.length;
  let attrBits = 0, form = 0, sh = 0, b = 0;
  do {
    if (p >= n || sh > 49) return -1;
    b = d[p++]!;
    attrBits |= b & 0x7f;
    sh += 7;
  } while ((b & 0x80) !== 0);
  let fmul = 1;
  do {
    if (p >= n || fmul > 2 ** 28) return -1;
    b = d[p++]!;
    form += (b & 0x7f) * fmul;
    fmul *= 128;
  } while ((b & 0x80) !== 0);
  if (attrBits === 0 && form === 0) return -2 - p;
  if (form === F_implicit_const) {
    do {
      if (p >= n) return -1;
    } while ((d[p++]! & 0x80) !== 0);
  }
  return p;
}

/**
 * DIEs whose children are parts of a type (DW_TAG_array_type, class_type, enumeration_type,
 * structure_type, subroutine_type, union_type): in C none of them holds a function or a
 * variable with an address, so definedAddresses steps over them by DW_AT_sibling
 */
const TYPE_TAGS = new Set([0x01, 0x02, 0x04, 0x13, 0x15, 0x17]);

/** how definedAddresses reads the DIEs of one abbreviation (see DwarfInfo.plan) */
interface DiePlan {
  readonly ab: Abbrev;
  /** skips: n > 0 bytes, or one of the OP_* variable-size fields; undefined: read field by field */
  readonly skip: Int32Array | undefined;
}

/** codes from here on are planned anew at each DIE (gcc numbers abbreviations from 1) */
const MAX_PLANNED = 1 << 16;

const OP_LEB = -1, OP_STRING = -2, OP_BLOCK1 = -3, OP_BLOCK2 = -4, OP_BLOCK4 = -5, OP_BLOCK = -6;

const VARIABLE_FORM_OPS = new Map<number, number>([
  [F_sdata, OP_LEB], [F_udata, OP_LEB], [F_ref_udata, OP_LEB], [F_strx, OP_LEB], [F_addrx, OP_LEB], [F_loclistx, OP_LEB],
  [F_rnglistx, OP_LEB], [F_GNU_addr_index, OP_LEB], [F_GNU_str_index, OP_LEB], [F_string, OP_STRING], [F_block1, OP_BLOCK1],
  [F_block2, OP_BLOCK2], [F_block4, OP_BLOCK4], [F_block, OP_BLOCK], [F_exprloc, OP_BLOCK],
]);

/** fixedFormSize is the size of a fixed-size form's value in unit u, -1 for other forms (as skipForm steps) */
function fixedFormSize(form: number, u: UnitHead): number {
  switch (form) {
    case F_addr: return u.addressSize;
    case F_data1: case F_ref1: case F_flag: case F_strx1: case F_addrx1: return 1;
    case F_data2: case F_ref2: case F_strx2: case F_addrx2: return 2;
    case F_strx3: case F_addrx3: return 3;
    case F_data4: case F_ref4: case F_ref_sup4: case F_strx4: case F_addrx4: return 4;
    case F_data8: case F_ref8: case F_ref_sig8: case F_ref_sup8: return 8;
    case F_data16: return 16;
    case F_strp: case F_line_strp: case F_sec_offset: case F_strp_sup: case F_GNU_ref_alt: case F_GNU_strp_alt: return u.offsetSize;
    case F_ref_addr: return u.version <= 2 ? u.addressSize : u.offsetSize;
    case F_flag_present: case F_implicit_const: return 0;
    default: return -1;
  }
}

/**
 * how much of a unit units() reads to decode its unit DIE (header and DIE: ~45 bytes from gcc),
 * then, if that was short, how much next; the rest is read only when walked
 */
const HEAD_BYTES = 256, HEAD_BYTES_MORE = 4096;

/**
 * string reads (see resolveStrings): a string is read with the STRING_PAD bytes from its offset
 * and STRING_BEFORE before it (where gcc puts the unit's DW_AT_comp_dir, just before its name);
 * strings whose span is at most STRING_DENSE bytes per string, or STRING_SPAN in all (one read
 * costs about as much as copying that many more bytes), are read with one read
 */
const STRING_PAD = 256, STRING_BEFORE = 128, STRING_DENSE = 1024, STRING_SPAN = 8192;

/** how much of a range list section codeRanges reads at a list's offset first */
const RANGES_WINDOW = 256;

/** the string sections unit DIEs refer to */
type StringSection = '.debug_str' | '.debug_line_str';

/** a string attribute of a unit DIE, read after all units (resolveStrings) */
interface StringRef {
  readonly section: StringSection;
  readonly offset: number;
}

/** the sections DwarfInfo reads, by the names it looks for */
interface DebugSections {
  readonly info?: SectionHeader;
  readonly abbrev?: SectionHeader;
  readonly str?: SectionHeader;
  readonly lineStr?: SectionHeader;
  readonly strOffsets?: SectionHeader;
  readonly rnglists?: SectionHeader;
  readonly ranges?: SectionHeader;
}


type MutableUnit = { -readonly [K in keyof DwarfUnit]: DwarfUnit[K] };

type UnitHead = Pick<DwarfUnit, 'version' | 'addressSize' | 'offsetSize' | 'abbrevOffset' | 'dieOffset' | 'end'>;

/**
 * scanSections finds, in one pass over the section headers, every section the reader may need
 * (the first of each name, as findSection) and the relocation sections. A function of its own,
 * so that what the optimising compiler makes of this loop is not DwarfInfo.open with all it calls.
 */
function scanSections(all: readonly SectionHeader[], secs: { -readonly [K in keyof DebugSections]: DebugSections[K] }, rels: SectionHeader[]): void {
  for (let i = 0; i < all.length; i++) {
    const x = all[i]!;
    if (x.sh_type === SHT_RELA || x.sh_type === SHT_REL) {
      rels.push(x);
      continue;
    }
    const n = x.name;
    // '.debug_' names only: a string switch for those
    if (n.length < 10 || n.charCodeAt(1) !== 0x64 /* d */ || !n.startsWith('.debug_')) continue;
    switch (n) {
      case '.debug_info': secs.info ??= x; break;
      case '.debug_abbrev': secs.abbrev ??= x; break;
      case '.debug_str': secs.str ??= x; break;
      case '.debug_line_str': secs.lineStr ??= x; break;
      case '.debug_str_offsets': secs.strOffsets ??= x; break;
      case '.debug_rnglists': secs.rnglists ??= x; break;
      case '.debug_ranges': secs.ranges ??= x; break;
    }
  }
}

/**
 * DwarfInfo reads the units of one file's .debug_info. open() returns undefined when the file
 * has no .debug_info (or an empty one). A linked, uncompressed .debug_info (a debug vmlinux:
 * 200 MB) is not read whole: units() reads the start of each unit, definedAddresses() the units
 * it is asked about.
 */
export class DwarfInfo {
  private readonly infoIndex: number;
  private readonly infoSize: number;
  /** the whole section, when it had to be inflated (else units are read from the file as needed) */
  private readonly whole: Uint8Array | undefined;
  private readonly le: boolean;
  private abbrevData: Uint8Array | undefined | null;
  private readonly abbrevs = new Map<number, AbbrevTable>();
  private readonly relocs: RelocIndex | undefined;
  /** relocation sections of an ET_REL file, for the range list sections (rangeRelocs) */
  private readonly allRels: readonly SectionHeader[];
  private readonly rangeRelocIx = new Map<number, RelocIndex | undefined>();
  /** set while codeOf re-reads a relocatable unit's DIE for its code addresses */
  private readingCode = false;
  private readonly symtab: SymbolTable | undefined;
  /** the sections this reader may use, looked up once (undefined: absent) */
  private readonly secs: DebugSections;
  /** range list sections read whole (compressed ones) */
  private readonly wholeRanges = new Map<number, Uint8Array>();
  private unitList: DwarfUnit[] | undefined;

  private constructor(readonly elf: ElfFile, infoIndex: number, secs: DebugSections, rels: SectionHeader[]) {
    this.infoIndex = infoIndex;
    this.secs = secs;
    this.allRels = rels;
    this.le = elf.header.littleEndian;
    const sec = elf.section(infoIndex);
    const rel = elf.header.e_type === ET_REL;
    if (isCompressed(elf, infoIndex)) {
      this.whole = sectionContents(elf, infoIndex);
      this.infoSize = this.whole.length;
    } else {
      if (sec.sh_offset + sec.sh_size > elf.size) {
        throw elf.error('ELF_SECTION_PAST_EOF', `section ${infoIndex} '${sec.name}': contents extend past end of file`, sec.headerOffset);
      }
      this.infoSize = sec.sh_size;
    }
    const infoRels = rels.filter((r) => r.sh_info === infoIndex);
    if (rel && infoRels.length > 0) {
      this.symtab = elf.symbols(infoRels[0]!.sh_link);
      this.relocs = new RelocIndex(elf, infoRels, this.symtab, this.infoSize);
    }
  }

  /** open returns the DWARF of `elf`, or undefined when it has no .debug_info. */
  static open(elf: ElfFile): DwarfInfo | undefined {
    // one pass over the section headers for every section the reader may need (the first of
    // each name, as findSection), and the relocation sections that apply to .debug_info
    const secs: { -readonly [K in keyof DebugSections]: DebugSections[K] } = {};
    const rels: SectionHeader[] = [];
    scanSections(elf.sections, secs, rels);
    const s = secs.info;
    if (s === undefined || s.sh_size === 0 || s.sh_type === SHT_NOBITS) return undefined;
    return new DwarfInfo(elf, s.index, secs, elf.header.e_type === ET_REL ? rels : []);
  }

  private fail(section: string, pos: number, msg: string, code = 'DWARF_MALFORMED'): never {
    const direct = section === '.debug_info' && !isCompressed(this.elf, this.infoIndex);
    throw new ElfFormatError(this.elf.file, code, `${section}+0x${pos.toString(16)}: ${msg}`,
      direct ? this.elf.section(this.infoIndex).sh_offset + pos : undefined);
  }

  /** cursor over [from, from+len) of .debug_info, ending its units at unitEnd */
  private cursor(from: number, len: number, unitEnd: number): Cursor {
    return this.cursorOver(this.infoBytes(from, len), from, unitEnd);
  }

  /** infoBytes returns [from, from+len) of .debug_info (cut at the section's end) */
  private infoBytes(from: number, len: number): Uint8Array {
    const n = Math.min(len, this.infoSize - from);
    return this.whole !== undefined
      ? this.whole.subarray(from, from + n)
      : this.elf.rawBytes(this.elf.section(this.infoIndex).sh_offset + from, n);
  }

  private cursorOver(d: Uint8Array, from: number, unitEnd: number): Cursor {
    return new Cursor(d, from, from + d.length, unitEnd, this.le, (p, m) => this.fail('.debug_info', p, m));
  }

  /** units lists the units of .debug_info in file order (type units included; see unitType). */
  units(): DwarfUnit[] {
    if (this.unitList !== undefined) return this.unitList;
    const out: MutableUnit[] = [];
    // DW_AT_name / DW_AT_comp_dir in string sections: read together once every unit is known
    const refs: (StringRef | undefined)[] = [];
    let offset = 0;
    while (offset < this.infoSize) {
      const u = this.unitAt(offset, refs);
      out.push(u);
      offset = u.end;
    }
    const strings = this.resolveStrings(refs);
    for (let i = 0; i < out.length; i++) {
      const u = out[i]!;
      if (refs[2 * i] !== undefined) u.name = strings[2 * i];
      if (refs[2 * i + 1] !== undefined) u.compDir = strings[2 * i + 1];
    }
    this.unitList = out;
    return out;
  }

  /** unitAt reads the unit at `offset` from a small read, larger ones if its DIE goes on; pushes its two string refs */
  private unitAt(offset: number, refs: (StringRef | undefined)[]): MutableUnit {
    const n = refs.length;
    try {
      return this.readUnit(offset, HEAD_BYTES, refs);
    } catch (e) {
      if (e !== SHORT_CHUNK) throw e;
    }
    refs.length = n;
    try {
      return this.readUnit(offset, HEAD_BYTES_MORE, refs);
    } catch (e) {
      if (e !== SHORT_CHUNK) throw e;
    }
    refs.length = n;
    return this.readUnit(offset, Infinity, refs);
  }

  private readUnit(offset: number, want: number, refs: (StringRef | undefined)[]): MutableUnit {
    // one read for the unit header and (usually) its DIE: the first `want` bytes
    const bytes = this.infoBytes(offset, want === Infinity ? 12 : want);
    const first = this.cursorOver(bytes.subarray(0, 12), offset, Math.min(offset + 12, this.infoSize));
    let len = first.u32();
    let offsetSize: 4 | 8 = 4;
    if (len === 0xffffffff) {
      len = first.u64();
      offsetSize = 8;
    } else if (len >= 0xfffffff0) {
      this.fail('.debug_info', offset, `reserved unit length 0x${len.toString(16)}`);
    }
    const end = first.pos + len;
    if (end > this.infoSize) {
      this.fail('.debug_info', offset, `unit length 0x${len.toString(16)} runs past the end of the section (0x${this.infoSize.toString(16)} bytes)`);
    }
    const c = end - offset <= bytes.length || want !== Infinity
      ? this.cursorOver(bytes.subarray(0, Math.min(want, end - offset)), offset, end)
      : this.cursor(offset, end - offset, end);
    c.pos = first.pos;
    const version = c.u16();
    if (version < 2 || version > 5) this.fail('.debug_info', offset + 4, `unsupported DWARF version ${version}`, 'DWARF_UNSUPPORTED');
    let unitType = DW_UT_compile, addressSize: number, abbrevOffset: number;
    if (version >= 5) {
      unitType = c.u8();
      addressSize = c.u8();
      abbrevOffset = this.offsetField(c, offsetSize);
      if (unitType === 4 /* skeleton */ || unitType === 5 /* split_compile */) c.skip(8);
      else if (unitType === 2 /* type */ || unitType === 6 /* split_type */) c.skip(8 + offsetSize);
    } else {
      abbrevOffset = this.offsetField(c, offsetSize);
      addressSize = c.u8();
    }
    if (addressSize !== 4 && addressSize !== 8 && addressSize !== 2) this.fail('.debug_info', offset, `unsupported address size ${addressSize}`, 'DWARF_UNSUPPORTED');
    const head: UnitHead = { version, addressSize, offsetSize, abbrevOffset, dieOffset: c.pos, end };
    return { offset, unitType, ...head, ...this.unitDie(head, c, refs) };
  }

  /** offsetField reads an offset-size field, relocated when the file is ET_REL. */
  private offsetField(c: Cursor, size: number): number {
    const at = c.pos;
    const raw = size === 8 ? c.u64() : c.u32();
    const r = this.relocs?.find(at);
    if (r === undefined) return raw;
    const v = this.relocValue(r, raw, at).value;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('.debug_info', at, 'relocated offset is out of range');
    return Number(v);
  }

  private relocValue(r: Reloc, inPlace: number | bigint, at: number, section = '.debug_info'): DwarfAddress {
    const st = this.symtab!;
    if (r.sym >= st.count) this.fail(section, at, `relocation symbol ${r.sym} is out of range (${st.count} symbols)`);
    const a = r.rela ? r.addend : BigInt(inPlace);
    return { section: st.sectionIndex(r.sym), value: st.value(r.sym) + a };
  }

  private abbrevBytes(): Uint8Array {
    if (this.abbrevData === undefined) {
      const ab = this.secs.abbrev;
      this.abbrevData = ab === undefined ? null : sectionContents(this.elf, ab.index);
    }
    if (this.abbrevData === null) this.fail('.debug_info', 0, 'units refer to abbreviations but the file has no .debug_abbrev');
    return this.abbrevData;
  }

  private abbrevCursor(at: number): Cursor {
    const d = this.abbrevBytes();
    const c = new Cursor(d, 0, d.length, d.length, this.le, (p, m) => this.fail('.debug_abbrev', p, m));
    c.pos = at;
    return c;
  }

  /**
   * abbrevTable returns the table at `offset`: code -> where its entry starts, filled in as far
   * as lookups have needed (a unit DIE's code is the table's first entry, so units() reads one
   * entry of each table, not the whole table; a vmlinux has thousands of them).
   */
  private abbrevTable(offset: number): AbbrevTable {
    const hit = this.abbrevs.get(offset);
    if (hit !== undefined) return hit;
    if (offset >= this.abbrevBytes().length) this.fail('.debug_abbrev', offset, 'abbreviation offset is past the end of the section');
    const t: AbbrevTable = { at: new Map(), decoded: new Map(), next: offset };
    this.abbrevs.set(offset, t);
    return t;
  }

  /**
   * abbrevEntry finds where code's entry starts. The first lookup in a table (units() asks only
   * for the unit DIE's code, which gcc numbers last or nearly: codes go by frequency) scans the
   * raw bytes for it without indexing anything else; a second code indexes the whole table.
   */
  private abbrevEntry(t: AbbrevTable, code: number): number | undefined {
    const known = t.at.get(code);
    if (known !== undefined || t.next < 0) return known;
    if (t.at.size === 0) {
      const at = findAbbrev(this.abbrevBytes(), t.next, code);
      if (at >= 0) {
        t.at.set(code, at);
        return at;
      }
      // not found or malformed: the indexing pass below says which, with the offset
    }
    const c = this.abbrevCursor(t.next);
    for (;;) {
      const k = c.uleb();
      if (k === 0) {
        t.next = -1;
        return t.at.get(code);
      }
      if (!t.at.has(k)) t.at.set(k, c.pos);
      c.skipLeb(); // tag
      c.skip(1); // children
      for (;;) {
        const attr = c.uleb(), form = c.uleb();
        if (attr === 0 && form === 0) break;
        if (form === F_implicit_const) c.skipLeb();
      }
      t.next = c.pos;
    }
  }

  private abbrev(u: UnitHead, code: number, where: number): Abbrev {
    const t = this.abbrevTable(u.abbrevOffset);
    const hit = t.decoded.get(code);
    if (hit !== undefined) return hit;
    const at = this.abbrevEntry(t, code);
    if (at === undefined) this.fail('.debug_info', where, `abbreviation ${code} is not in the table at .debug_abbrev+0x${u.abbrevOffset.toString(16)}`);
    const c = this.abbrevCursor(at);
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const specs: number[] = [];
    let implicit: Map<number, number> | undefined;
    for (;;) {
      const attr = c.uleb(), form = c.uleb();
      if (attr === 0 && form === 0) break;
      if (form === F_implicit_const) (implicit ??= new Map()).set(specs.length / 2, c.sleb());
      specs.push(attr, form);
    }
    const ab = { tag, children, specs: Uint32Array.from(specs), implicit };
    t.decoded.set(code, ab);
    return ab;
  }

  /**
   * resolveStrings reads the strings `refs` name (undefined entries give undefined). A string
   * section is not read whole: when the strings lie close together (a small module's; a
   * vmlinux's thousands) the span from the first to the last is read at once; else each string
   * is read in a small window around it (which usually holds its unit's other string too), and
   * a string longer than that in growing windows. Compressed sections are inflated whole.
   * Offsets are checked in the order of `refs`, so the first bad one of the first unit that has
   * one is the one reported.
   */
  private resolveStrings(refs: readonly (StringRef | undefined)[]): (string | undefined)[] {
    const out: (string | undefined)[] = [];
    for (let i = 0; i < refs.length; i++) out.push(undefined);
    this.resolveIn('.debug_str', this.secs.str, refs, out);
    this.resolveIn('.debug_line_str', this.secs.lineStr, refs, out);
    return out;
  }

  private resolveIn(section: StringSection, s: SectionHeader | undefined, refs: readonly (StringRef | undefined)[], out: (string | undefined)[]): void {
    if (s === undefined) return;
    let min = Infinity, max = -1, count = 0;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (r === undefined || r.section !== section) continue;
      count++;
      if (r.offset < min) min = r.offset;
      if (r.offset > max) max = r.offset;
    }
    if (count === 0) return;
    if (isCompressed(this.elf, s.index)) {
      const d = sectionContents(this.elf, s.index);
      for (let i = 0; i < refs.length; i++) {
        const r = refs[i];
        if (r !== undefined && r.section === section) out[i] = this.stringIn(section, d, 0, d.length, r.offset, true);
      }
      return;
    }
    const size = s.sh_type === SHT_NOBITS ? 0 : s.sh_size;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (r !== undefined && r.section === section && r.offset >= size) this.fail(section, r.offset, `string offset 0x${r.offset.toString(16)} is past the end of the section (0x${size.toString(16)} bytes)`);
    }
    if (s.sh_offset + size > this.elf.size) throw this.elf.error('ELF_SECTION_PAST_EOF', `section ${s.index} '${s.name}': contents extend past end of file`, s.headerOffset);
    // one read for the whole span when the strings are dense in it, else windows
    const spanEnd = Math.min(size, max + STRING_PAD);
    const dense = spanEnd - min <= Math.max(STRING_SPAN, count * STRING_DENSE);
    let wStart = 0, wEnd = 0, w: Uint8Array | undefined;
    if (dense) {
      wStart = min;
      wEnd = spanEnd;
      w = this.elf.rawBytes(s.sh_offset + min, spanEnd - min);
    }
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (r === undefined || r.section !== section) continue;
      const off = r.offset;
      let v = w !== undefined && off >= wStart && off < wEnd ? this.stringIn(section, w, wStart, size, off, wEnd === size) : undefined;
      if (v === undefined && !dense) {
        wStart = Math.max(0, off - STRING_BEFORE);
        wEnd = Math.min(size, off + STRING_PAD);
        w = this.elf.rawBytes(s.sh_offset + wStart, wEnd - wStart);
        v = this.stringIn(section, w, wStart, size, off, wEnd === size);
      }
      out[i] = v ?? this.stringInFile(section, s, size, off);
    }
  }

  /**
   * stringIn decodes the string at section offset `off` from `d` (the section's bytes from
   * `base`); undefined when `d` ends first and the section goes on (`last` false), an error
   * when it does not
   */
  private stringIn(section: string, d: Uint8Array, base: number, size: number, off: number, last: boolean): string | undefined {
    if (off >= size) this.fail(section, off, `string offset 0x${off.toString(16)} is past the end of the section (0x${size.toString(16)} bytes)`);
    const e = d.indexOf(0, off - base);
    if (e >= 0) return latin1(d, off - base, e);
    if (last) this.fail(section, off, 'string is not NUL-terminated');
    return undefined;
  }

  /** stringInFile reads a long string in growing windows from its offset */
  private stringInFile(section: string, s: SectionHeader, size: number, off: number): string {
    for (let win = STRING_PAD * 4; ; win *= 4) {
      const n = Math.min(win, size - off);
      const b = this.elf.rawBytes(s.sh_offset + off, n);
      const e = b.indexOf(0);
      if (e >= 0) return latin1(b, 0, e);
      if (n === size - off) this.fail(section, off, 'string is not NUL-terminated');
    }
  }

  /**
   * unitDie reads the tag, DW_AT_name and DW_AT_comp_dir of the unit DIE: names stored in the
   * DIE directly; those in a string section are pushed on `refs` (two entries, name and
   * comp_dir) for units() to read.
   */
  private unitDie(u: UnitHead, c: Cursor, refs: (StringRef | undefined)[]): UnitDie {
    const code = c.pos >= u.end ? 0 : c.uleb();
    if (code === 0) {
      refs.push(undefined, undefined);
      return NO_DIE;
    }
    const ab = this.abbrev(u, code, u.dieOffset);
    let name: string | undefined, compDir: string | undefined;
    let refName: StringRef | undefined, refDir: StringRef | undefined;
    let strxName = -1, strxDir = -1, strOffsetsBase = -1;
    let lowPc: DwarfAddress | undefined, highPc: bigint | undefined, highIsOffset = false, rangesOffset: number | undefined;
    // code addresses of linked files; of relocatable ones only when codeOf asks (they need
    // .rela.debug_info)
    const linked = this.readingCode || (this.relocs === undefined && this.elf.header.e_type !== ET_REL);
    for (let k = 0; k < ab.specs.length; k += 2) {
      const attr = ab.specs[k]!;
      const form = this.realForm(c, ab.specs[k + 1]!);
      if (attr === DW_AT_name || attr === DW_AT_comp_dir) {
        let s: string | undefined;
        let ref: StringRef | undefined;
        let strx = -1;
        if (form === F_string) s = c.cstring();
        else if (form === F_strp || form === F_line_strp) ref = { section: form === F_strp ? '.debug_str' : '.debug_line_str', offset: this.offsetField(c, u.offsetSize) };
        else if (form === F_strx || form === F_GNU_str_index) strx = c.uleb();
        else if (form >= F_strx1 && form <= F_strx4) strx = c.fixed(form - F_strx1 + 1);
        else this.skipForm(c, form, u);
        if (attr === DW_AT_name) {
          name = s;
          refName = ref;
          strxName = strx;
        } else {
          compDir = s;
          refDir = ref;
          strxDir = strx;
        }
      } else if (linked && attr === DW_AT_low_pc && form === F_addr) {
        lowPc = this.address(c, u.addressSize);
      } else if (linked && attr === DW_AT_high_pc && form === F_addr) {
        highPc = this.address(c, u.addressSize).value;
      } else if (linked && attr === DW_AT_high_pc && (form === F_data1 || form === F_data2 || form === F_data4 || form === F_data8 || form === F_udata)) {
        highPc = BigInt(form === F_udata ? c.uleb() : form === F_data8 ? c.u64() : c.fixed(form === F_data1 ? 1 : form === F_data2 ? 2 : 4));
        highIsOffset = true;
      } else if (linked && attr === DW_AT_ranges && (form === F_sec_offset || (u.version < 4 && (form === F_data4 || form === F_data8)))) {
        rangesOffset = this.offsetField(c, form === F_data8 ? 8 : form === F_data4 ? 4 : u.offsetSize);
      } else if (attr === DW_AT_str_offsets_base && (form === F_sec_offset || form === F_data4 || form === F_data8)) {
        strOffsetsBase = this.offsetField(c, form === F_data8 ? 8 : form === F_data4 ? 4 : u.offsetSize);
      } else {
        this.skipForm(c, form, u);
      }
    }
    if (strxName >= 0) refName = this.strx(strxName, strOffsetsBase, u.offsetSize);
    if (strxDir >= 0) refDir = this.strx(strxDir, strOffsetsBase, u.offsetSize);
    refs.push(refName, refDir);
    if (highIsOffset) highPc = lowPc === undefined ? undefined : lowPc.value + highPc!;
    return { tag: ab.tag, name, compDir, lowPc, highPc, rangesOffset };
  }

  /** realForm resolves DW_FORM_indirect (a chain of them is bounded by the unit's bytes) */
  private realForm(c: Cursor, form: number): number {
    while (form === F_indirect) form = c.uleb();
    return form;
  }

  /** strx resolves a DW_FORM_strx* index through .debug_str_offsets (DWARF 5 §7.26). */
  private strx(index: number, base: number, offsetSize: number): StringRef | undefined {
    if (base < 0) return undefined;
    const s = this.secs.strOffsets;
    if (s === undefined) return undefined;
    const d = sectionContents(this.elf, s.index);
    const at = base + index * offsetSize;
    if (at + offsetSize > d.length) this.fail('.debug_str_offsets', at, 'string offset index is past the end of the section');
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    const off = offsetSize === 8 ? Number(v.getBigUint64(at, this.le)) : v.getUint32(at, this.le);
    return { section: '.debug_str', offset: off };
  }

  /** skipForm steps over one attribute value of the given form. */
  private skipForm(c: Cursor, form: number, u: UnitHead): void {
    switch (form) {
      case F_addr: c.skip(u.addressSize); return;
      case F_data1: case F_ref1: case F_flag: case F_strx1: case F_addrx1: c.skip(1); return;
      case F_data2: case F_ref2: case F_strx2: case F_addrx2: c.skip(2); return;
      case F_strx3: case F_addrx3: c.skip(3); return;
      case F_data4: case F_ref4: case F_ref_sup4: case F_strx4: case F_addrx4: c.skip(4); return;
      case F_data8: case F_ref8: case F_ref_sig8: case F_ref_sup8: c.skip(8); return;
      case F_data16: c.skip(16); return;
      case F_sdata: case F_udata: case F_ref_udata: case F_strx: case F_addrx: case F_loclistx: case F_rnglistx:
      case F_GNU_addr_index: case F_GNU_str_index:
        c.skipLeb(); return;
      case F_string: c.skipCString(); return;
      case F_strp: case F_line_strp: case F_sec_offset: case F_strp_sup: case F_GNU_ref_alt: case F_GNU_strp_alt:
        c.skip(u.offsetSize); return;
      case F_ref_addr: c.skip(u.version <= 2 ? u.addressSize : u.offsetSize); return;
      case F_block1: c.skip(c.u8()); return;
      case F_block2: c.skip(c.u16()); return;
      case F_block4: c.skip(c.u32()); return;
      case F_block: case F_exprloc: c.skip(c.uleb()); return;
      case F_flag_present: case F_implicit_const: return;
      case F_indirect: this.skipForm(c, this.realForm(c, form), u); return;
      default: this.fail('.debug_info', c.pos, `unknown attribute form 0x${form.toString(16)}`, 'DWARF_UNSUPPORTED');
    }
  }

  /**
   * codeRanges returns the unit's code as [start, end) ranges, from DW_AT_low_pc/DW_AT_high_pc
   * or DW_AT_ranges (.debug_rnglists for DWARF 5, .debug_ranges before), or undefined when the
   * unit does not say or says it in a way this reader does not follow (DW_FORM_rnglistx, the
   * addrx entries of split DWARF). In a relocatable file the addresses are relocated (their
   * section is the relocation symbol's, as DwarfAddress), the range lists' by the relocation
   * section that applies to the list section; one without relocations for .debug_info gives
   * undefined.
   */
  codeRanges(unit: DwarfUnit): DwarfRange[] | undefined {
    const u = this.codeOf(unit);
    if (u === undefined) return undefined;
    if (u.rangesOffset === undefined) {
      // no DW_AT_high_pc and no DW_AT_ranges: a unit without code (data only, or empty)
      if (u.lowPc === undefined || u.highPc === undefined) return [];
      return u.highPc > u.lowPc.value ? [{ section: u.lowPc.section, start: u.lowPc.value, end: u.highPc }] : [];
    }
    const name = u.version >= 5 ? '.debug_rnglists' : '.debug_ranges';
    const s = u.version >= 5 ? this.secs.rnglists : this.secs.ranges;
    if (s === undefined) return undefined;
    const off = u.rangesOffset;
    const fail = (p: number, m: string): never => this.fail(name, p, m);
    const relocs = this.rangeRelocs(s);
    if (isCompressed(this.elf, s.index)) {
      let d = this.wholeRanges.get(s.index);
      if (d === undefined) this.wholeRanges.set(s.index, (d = sectionContents(this.elf, s.index)));
      if (off >= d.length) this.fail(name, off, 'range list offset is past the end of the section');
      const c = new Cursor(d, 0, d.length, d.length, this.le, fail);
      c.pos = off;
      return this.rangeList(u, c, name, d.length, relocs);
    }
    // a list is a few entries at its offset: read a small window there, more if it goes on
    const size = s.sh_type === SHT_NOBITS ? 0 : s.sh_size;
    if (size > 0 && s.sh_offset + size > this.elf.size) {
      throw this.elf.error('ELF_SECTION_PAST_EOF',
        `section ${s.index} '${s.name}': contents 0x${s.sh_offset.toString(16)}+0x${size.toString(16)} extend past end of file (0x${this.elf.size.toString(16)} bytes)`,
        s.headerOffset);
    }
    if (off >= size) this.fail(name, off, 'range list offset is past the end of the section');
    for (let win = RANGES_WINDOW; ; win *= 8) {
      const n = Math.min(win, size - off);
      const c = new Cursor(this.elf.rawBytes(s.sh_offset + off, n), off, off + n, size, this.le, fail);
      try {
        return this.rangeList(u, c, name, size, relocs);
      } catch (e) {
        if (e !== SHORT_CHUNK) throw e;
      }
    }
  }

  /**
   * codeOf returns the unit with its code addresses: as read by units() in a linked file; in a
   * relocatable one, its DIE read again with them (undefined without .rela.debug_info)
   */
  private codeOf(u: DwarfUnit): DwarfUnit | undefined {
    if (this.elf.header.e_type !== ET_REL) return u;
    if (this.relocs === undefined) return undefined;
    this.readingCode = true;
    try {
      return this.unitAt(u.offset, []);
    } finally {
      this.readingCode = false;
    }
  }

  /** rangeRelocs returns the relocations that apply to a range list section (relocatable files) */
  private rangeRelocs(s: SectionHeader): RelocIndex | undefined {
    if (this.relocs === undefined) return undefined;
    if (this.rangeRelocIx.has(s.index)) return this.rangeRelocIx.get(s.index);
    const rels = this.allRels.filter((r) => r.sh_info === s.index);
    const size = isCompressed(this.elf, s.index) ? sectionContents(this.elf, s.index).length : s.sh_size;
    const ix = rels.length === 0 ? undefined : new RelocIndex(this.elf, rels, this.elf.symbols(rels[0]!.sh_link), size);
    this.rangeRelocIx.set(s.index, ix);
    return ix;
  }

  /** rangeList decodes the range list at the cursor (DWARF 5 §2.17.3, DWARF 4 §2.17.3) */
  private rangeList(u: DwarfUnit, c: Cursor, name: string, size: number, relocs: RelocIndex | undefined): DwarfRange[] | undefined {
    const out: DwarfRange[] = [];
    let base: DwarfAddress = u.lowPc ?? { section: -1, value: 0n };
    const asize = u.addressSize;
    const max = (1n << BigInt(asize * 8)) - 1n;
    const addr = (): DwarfAddress & { moved: boolean } => {
      const at = c.pos;
      const raw = c.bigAddr(asize);
      const r = relocs?.find(at);
      return r === undefined ? { section: -1, value: raw, moved: false } : { ...this.relocValue(r, raw, at, name), moved: true };
    };
    for (let n = 0; ; n++) {
      if (n > size) this.fail(name, c.pos, 'range list does not end');
      if (u.version >= 5) {
        const kind = c.u8();
        if (kind === 0 /* DW_RLE_end_of_list */) break;
        if (kind === 4 /* DW_RLE_offset_pair */) {
          const a = BigInt(c.uleb()), b = BigInt(c.uleb());
          out.push({ section: base.section, start: base.value + a, end: base.value + b });
        } else if (kind === 5 /* DW_RLE_base_address */) {
          base = addr();
        } else if (kind === 6 /* DW_RLE_start_end */) {
          const a = addr(), b = addr();
          out.push({ section: a.section, start: a.value, end: b.value });
        } else if (kind === 7 /* DW_RLE_start_length */) {
          const a = addr();
          out.push({ section: a.section, start: a.value, end: a.value + BigInt(c.uleb()) });
        } else {
          return undefined; // DW_RLE_base_addressx, startx_*: need .debug_addr (split DWARF)
        }
      } else {
        // the end of a list is two zeros as stored, unless a relocation moves them; a relocated
        // pair is placed by its relocation (plus an absolute base, 0 as compilers write it)
        const a = addr(), b = addr();
        if (!a.moved && !b.moved && a.value === 0n && b.value === 0n) break;
        if (!a.moved && a.value === max) base = b;
        else if (a.moved && base.section === -1) out.push({ section: a.section, start: base.value + a.value, end: base.value + b.value });
        else if (a.moved) out.push({ section: a.section, start: a.value, end: b.value });
        else out.push({ section: base.section, start: base.value + a.value, end: base.value + b.value });
      }
    }
    return out;
  }

  /**
   * definedAddresses lists where the unit's functions and variables live: DW_AT_low_pc of every
   * DW_TAG_subprogram (form DW_FORM_addr) and the address of every DW_TAG_variable whose
   * DW_AT_location is a single DW_OP_addr. It reads and walks every DIE of the unit.
   */
  definedAddresses(u: DwarfUnit): DwarfAddress[] {
    const out: DwarfAddress[] = [];
    const c = this.cursor(u.offset, u.end - u.offset, u.end);
    c.pos = u.dieOffset;
    const plans: (DiePlan | undefined)[] = [];
    while (c.pos < u.end) {
      const where = c.pos;
      const code = c.uleb();
      if (code === 0) continue;
      let plan = code < MAX_PLANNED ? plans[code] : undefined;
      if (plan === undefined) {
        plan = this.plan(u, this.abbrev(u, code, where));
        if (code < MAX_PLANNED) plans[code] = plan;
      }
      const ops = plan.skip;
      if (ops !== undefined) {
        // a DIE that defines nothing and is not stepped over: skip its fields by the plan
        for (let k = 0; k < ops.length; k++) {
          const op = ops[k]!;
          if (op > 0) c.skip(op);
          else if (op === OP_LEB) c.skipLeb();
          else if (op === OP_STRING) c.skipCString();
          else if (op === OP_BLOCK1) c.skip(c.u8());
          else if (op === OP_BLOCK2) c.skip(c.u16());
          else if (op === OP_BLOCK4) c.skip(c.u32());
          else c.skip(c.uleb()); // OP_BLOCK
        }
        continue;
      }
      const next = this.definingDie(c, u, plan.ab, out);
      if (next > 0) c.pos = next;
    }
    return out;
  }

  /**
   * definingDie reads a DIE that can define an address (its address goes to `out`) or be
   * stepped over; returns where the walk goes on when it names a sibling further on, else 0.
   */
  private definingDie(c: Cursor, u: DwarfUnit, ab: Abbrev, out: DwarfAddress[]): number {
    const wantPc = ab.tag === DW_TAG_subprogram, wantLoc = ab.tag === DW_TAG_variable;
    const typeTree = ab.children && TYPE_TAGS.has(ab.tag);
    let sibling = 0;
    for (let k = 0; k < ab.specs.length; k += 2) {
      const attr = ab.specs[k]!;
      const form = this.realForm(c, ab.specs[k + 1]!);
      if (typeTree && attr === DW_AT_sibling && form >= F_ref1 && form <= F_ref_udata) {
        sibling = form === F_ref_udata ? c.uleb() : form === F_ref8 ? c.u64() : c.fixed(form === F_ref1 ? 1 : form === F_ref2 ? 2 : 4);
      } else if (wantPc && attr === DW_AT_low_pc && form === F_addr) {
        out.push(this.address(c, u.addressSize));
      } else if (wantLoc && attr === DW_AT_location && (form === F_exprloc || form === F_block1 || form === F_block)) {
        const len = form === F_block1 ? c.u8() : c.uleb();
        const start = c.pos;
        c.need(len);
        if (len === 1 + u.addressSize && c.byte(start) === DW_OP_addr) {
          c.pos = start + 1;
          out.push(this.address(c, u.addressSize));
        }
        c.pos = start + len;
      } else {
        this.skipForm(c, form, u);
      }
    }
    // a type's children (members, enumerators, subranges, parameters of a subroutine type)
    // never define code or data: go to its sibling, when it names a DIE further on
    return sibling > 0 && u.offset + sibling > c.pos && u.offset + sibling <= u.end ? u.offset + sibling : 0;
  }

  /**
   * plan decides how definedAddresses reads DIEs of one abbreviation: a DIE that can define an
   * address (subprogram, variable) or be stepped over (a type with children) is read field by
   * field; any other gets a list of skips, adjacent fixed-size fields merged into one, so most
   * DIEs cost one or two steps. A DW_FORM_indirect or an unknown form is read field by field
   * (skipForm then names an unknown form where it is met).
   */
  private plan(u: UnitHead, ab: Abbrev): DiePlan {
    if (ab.tag === DW_TAG_subprogram || ab.tag === DW_TAG_variable || (ab.children && TYPE_TAGS.has(ab.tag))) return { ab, skip: undefined };
    const ops: number[] = [];
    let run = 0;
    for (let k = 1; k < ab.specs.length; k += 2) {
      const form = ab.specs[k]!;
      const n = fixedFormSize(form, u);
      if (n >= 0) {
        run += n;
        continue;
      }
      const op = VARIABLE_FORM_OPS.get(form);
      if (op === undefined) return { ab, skip: undefined };
      if (run > 0) ops.push(run);
      run = 0;
      ops.push(op);
    }
    if (run > 0) ops.push(run);
    return { ab, skip: Int32Array.from(ops) };
  }

  /** address reads an address-size field, relocated when the file is ET_REL. */
  private address(c: Cursor, size: number): DwarfAddress {
    const at = c.pos;
    const raw = c.bigAddr(size);
    const r = this.relocs?.find(at);
    if (r !== undefined) return this.relocValue(r, raw, at);
    return { section: -1, value: raw };
  }
}
