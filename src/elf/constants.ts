/**
 * ELF constants and printable names.
 *
 * Sources: the System V gABI (ELF header, sections, symbols, relocations), the processor psABIs
 * for relocation numbers (x86-64, i386, AArch64, 64-bit and 32-bit PowerPC, s390x, RISC-V,
 * LoongArch), and glibc's <elf.h>, which collects the same numbers. Nothing here knows about
 * livepatch: OS-specific flag bits and reserved section indexes are printed as offsets from
 * SHF_MASKOS / SHN_LOOS like any other unknown value.
 *
 * Constants are plain numbers, not enums: the set is open, and a value we have no name for must
 * still be carried and printed (see constName / flagNames).
 */

// e_ident
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

// e_type
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

// e_machine (the ones we name; anything else prints as a number)
export const EM_386 = 3;
export const EM_PPC = 20;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

// special section indexes
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_LOPROC = 0xff00;
export const SHN_HIPROC = 0xff1f;
export const SHN_LOOS = 0xff20;
export const SHN_HIOS = 0xff3f;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;
export const SHN_HIRESERVE = 0xffff;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SHLIB = 10;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_LOOS = 0x60000000;
export const SHT_GNU_ATTRIBUTES = 0x6ffffff5;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_verdef = 0x6ffffffd;
export const SHT_GNU_verneed = 0x6ffffffe;
export const SHT_GNU_versym = 0x6fffffff;
export const SHT_HIOS = 0x6fffffff;
export const SHT_LOPROC = 0x70000000;
export const SHT_HIPROC = 0x7fffffff;
export const SHT_LOUSER = 0x80000000;
export const SHT_HIUSER = 0xffffffff;

// sh_flags (bit values; 64-bit flags are held as bigint in the model, these fit in 32 bits)
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_LINK_ORDER = 0x80;
export const SHF_OS_NONCONFORMING = 0x100;
export const SHF_GROUP = 0x200;
export const SHF_TLS = 0x400;
export const SHF_COMPRESSED = 0x800;
export const SHF_MASKOS = 0x0ff00000;
export const SHF_MASKPROC = 0xf0000000;

// GRP_* (first word of an SHT_GROUP section)
export const GRP_COMDAT = 0x1;

// symbol binding and type
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;
export const STV_DEFAULT = 0;

/** hasElfIdentMagic: the bytes start with the ELF magic, 0x7f 'E' 'L' 'F' (e_ident[EI_MAG0..3]) */
export function hasElfIdentMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

export function stBind(info: number): number {
  return info >>> 4;
}
export function stType(info: number): number {
  return info & 0xf;
}
export function stInfo(bind: number, type: number): number {
  return ((bind << 4) | (type & 0xf)) & 0xff;
}

// ---- printable names -------------------------------------------------------------------------

type Range = readonly [lo: number, hi: number, name: string];

/**
 * constName prints a known value by name and an unknown one as "nearest range start + offset"
 * (SHN_LOOS+0x3), or as a hex number outside every range.
 */
export function constName(v: number, names: ReadonlyMap<number, string>, ranges: readonly Range[] = []): string {
  const n = names.get(v);
  if (n !== undefined) return n;
  for (const [lo, hi, name] of ranges) {
    if (v >= lo && v <= hi) return v === lo ? name : `${name}+0x${(v - lo).toString(16)}`;
  }
  return `0x${v.toString(16)}`;
}

/** flagNames prints a flag word as NAME+NAME+0xleftover (0 prints as "0"). */
export function flagNames(v: bigint, names: readonly (readonly [number, string])[]): string {
  const parts: string[] = [];
  let rest = v;
  for (const [bit, name] of names) {
    const b = BigInt(bit);
    if ((rest & b) === b) {
      parts.push(name);
      rest &= ~b;
    }
  }
  if (rest !== 0n) parts.push(`0x${rest.toString(16)}`);
  return parts.length === 0 ? '0' : parts.join('+');
}

export const SHT_NAMES: ReadonlyMap<number, string> = new Map([
  [SHT_NULL, 'SHT_NULL'], [SHT_PROGBITS, 'SHT_PROGBITS'], [SHT_SYMTAB, 'SHT_SYMTAB'],
  [SHT_STRTAB, 'SHT_STRTAB'], [SHT_RELA, 'SHT_RELA'], [SHT_HASH, 'SHT_HASH'],
  [SHT_DYNAMIC, 'SHT_DYNAMIC'], [SHT_NOTE, 'SHT_NOTE'], [SHT_NOBITS, 'SHT_NOBITS'],
  [SHT_REL, 'SHT_REL'], [SHT_SHLIB, 'SHT_SHLIB'], [SHT_DYNSYM, 'SHT_DYNSYM'],
  [SHT_INIT_ARRAY, 'SHT_INIT_ARRAY'], [SHT_FINI_ARRAY, 'SHT_FINI_ARRAY'],
  [SHT_PREINIT_ARRAY, 'SHT_PREINIT_ARRAY'], [SHT_GROUP, 'SHT_GROUP'],
  [SHT_SYMTAB_SHNDX, 'SHT_SYMTAB_SHNDX'], [SHT_RELR, 'SHT_RELR'],
  [SHT_GNU_ATTRIBUTES, 'SHT_GNU_ATTRIBUTES'], [SHT_GNU_HASH, 'SHT_GNU_HASH'],
  [SHT_GNU_verdef, 'SHT_GNU_verdef'], [SHT_GNU_verneed, 'SHT_GNU_verneed'],
  [SHT_GNU_versym, 'SHT_GNU_versym'],
]);
const SHT_RANGES: readonly Range[] = [
  [SHT_LOOS, SHT_HIOS, 'SHT_LOOS'], [SHT_LOPROC, SHT_HIPROC, 'SHT_LOPROC'], [SHT_LOUSER, SHT_HIUSER, 'SHT_LOUSER'],
];
export function shtName(v: number): string {
  return constName(v, SHT_NAMES, SHT_RANGES);
}

const SHF_NAMES: readonly (readonly [number, string])[] = [
  [SHF_WRITE, 'SHF_WRITE'], [SHF_ALLOC, 'SHF_ALLOC'], [SHF_EXECINSTR, 'SHF_EXECINSTR'],
  [SHF_MERGE, 'SHF_MERGE'], [SHF_STRINGS, 'SHF_STRINGS'], [SHF_INFO_LINK, 'SHF_INFO_LINK'],
  [SHF_LINK_ORDER, 'SHF_LINK_ORDER'], [SHF_OS_NONCONFORMING, 'SHF_OS_NONCONFORMING'],
  [SHF_GROUP, 'SHF_GROUP'], [SHF_TLS, 'SHF_TLS'], [SHF_COMPRESSED, 'SHF_COMPRESSED'],
];
export function shfName(v: bigint): string {
  return flagNames(v, SHF_NAMES);
}

const SHN_NAMES: ReadonlyMap<number, string> = new Map([
  [SHN_UNDEF, 'SHN_UNDEF'], [SHN_ABS, 'SHN_ABS'], [SHN_COMMON, 'SHN_COMMON'], [SHN_XINDEX, 'SHN_XINDEX'],
]);
const SHN_RANGES: readonly Range[] = [[SHN_LOPROC, SHN_HIPROC, 'SHN_LOPROC'], [SHN_LOOS, SHN_HIOS, 'SHN_LOOS']];
/** shnName names a reserved st_shndx value; ordinary section indexes print as decimal. */
export function shnName(v: number): string {
  if (v > SHN_UNDEF && v < SHN_LORESERVE) return String(v);
  return constName(v, SHN_NAMES, SHN_RANGES);
}

export const STB_NAMES: ReadonlyMap<number, string> = new Map([
  [STB_LOCAL, 'LOCAL'], [STB_GLOBAL, 'GLOBAL'], [STB_WEAK, 'WEAK'], [STB_GNU_UNIQUE, 'UNIQUE'],
]);
export const STT_NAMES: ReadonlyMap<number, string> = new Map([
  [STT_NOTYPE, 'NOTYPE'], [STT_OBJECT, 'OBJECT'], [STT_FUNC, 'FUNC'], [STT_SECTION, 'SECTION'],
  [STT_FILE, 'FILE'], [STT_COMMON, 'COMMON'], [STT_TLS, 'TLS'], [STT_GNU_IFUNC, 'IFUNC'],
]);
export function stbName(v: number): string {
  return constName(v, STB_NAMES);
}
export function sttName(v: number): string {
  return constName(v, STT_NAMES);
}

export const ET_NAMES: ReadonlyMap<number, string> = new Map([
  [ET_NONE, 'ET_NONE'], [ET_REL, 'ET_REL'], [ET_EXEC, 'ET_EXEC'], [ET_DYN, 'ET_DYN'], [ET_CORE, 'ET_CORE'],
]);
export function etName(v: number): string {
  return constName(v, ET_NAMES, [[0xfe00, 0xfeff, 'ET_LOOS'], [0xff00, 0xffff, 'ET_LOPROC']]);
}

export const EM_NAMES: ReadonlyMap<number, string> = new Map([
  [EM_386, 'EM_386'], [EM_PPC, 'EM_PPC'], [EM_PPC64, 'EM_PPC64'], [EM_S390, 'EM_S390'], [EM_ARM, 'EM_ARM'],
  [EM_X86_64, 'EM_X86_64'], [EM_AARCH64, 'EM_AARCH64'], [EM_RISCV, 'EM_RISCV'], [EM_LOONGARCH, 'EM_LOONGARCH'],
]);
export function emName(v: number): string {
  return constName(v, EM_NAMES);
}
