/**
 * `klp-convert dump [--json] [-S] [-s] [-r] FILE...`: a small readelf for livepatch modules.
 *
 * binutils and llvm tools mishandle livepatch modules (SHN_LIVEPATCH symbols, several relocation
 * sections per base section), so this is the view users are meant to trust. It lists the ELF
 * header, the section headers, every symbol table and every relocation section, and decodes the
 * two livepatch values by name: the section flag SHF_RELA_LIVEPATCH and the symbol index
 * SHN_LIVEPATCH. That decoding lives here, in the CLI, on purpose: the ELF layer carries them as
 * a plain OS flag bit and a reserved index (style guide §3).
 *
 * Files are opened lazily (positional reads): only the header, the section header table, the
 * section name table and the sections a selector asks for are read, so `dump -S vmlinux` on a
 * 400 MB debug vmlinux reads a few kilobytes.
 *
 * The work is split into buildDump() (file -> plain records with bigints) and formatText() /
 * formatJson() so that tests can compare the records with readelf and run the formatting path
 * on mutated files.
 */
import {
  ElfFile, ElfFormatError, SHT_DYNSYM, SHT_REL, SHT_RELA, SHT_SYMTAB, SHN_ABS, SHN_COMMON, SHN_UNDEF,
  SHN_XINDEX, STT_SECTION, emName, etName, flagNames, relocTypeName, shnName, shtName, stbName, sttName,
} from '../../elf/index.js';
import { SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from '../../klp/constants.js';
import type { Command } from '../command.js';
import { EXIT, UsageError } from '../errors.js';
import { reportError } from '../report.js';

export interface DumpOptions {
  sections: boolean;
  symbols: boolean;
  relocs: boolean;
}

export interface DumpHeader {
  class: 'ELF32' | 'ELF64';
  endian: 'little' | 'big';
  osabi: number;
  type: number;
  typeName: string;
  machine: number;
  machineName: string;
  flags: number;
  entry: bigint;
  shoff: number;
  shnum: number;
  shstrndx: number;
}

export interface DumpSection {
  index: number;
  name: string;
  type: number;
  typeName: string;
  flags: bigint;
  flagNames: string;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  entsize: number;
}

export interface DumpSymbol {
  num: number;
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
  vis: string;
  /** the raw st_shndx */
  shndx: number;
  /** the real section index (resolving SHN_XINDEX), or -1 for UNDEF and reserved values */
  section: number;
  /** UND, ABS, COM, SHN_LIVEPATCH, a decimal section index, or a reserved range name */
  ndx: string;
  name: string;
}

export interface DumpSymtab {
  index: number;
  name: string;
  firstNonLocal: number;
  symbols: DumpSymbol[];
}

export interface DumpReloc {
  offset: bigint;
  info: bigint;
  type: number;
  typeName: string;
  sym: number;
  /** undefined for symbol 0 */
  symValue: bigint | undefined;
  /** the symbol's name; for a nameless STT_SECTION symbol, its section's name (as readelf does) */
  symName: string;
  addend: bigint;
}

export interface DumpRelocSection {
  index: number;
  name: string;
  type: 'REL' | 'RELA';
  offset: number;
  /** sh_info: the section the relocations apply to */
  target: number;
  targetName: string;
  /** sh_link: the symbol table */
  symtab: number;
  livepatch: boolean;
  relocs: DumpReloc[];
}

export interface DumpDoc {
  file: string;
  header: DumpHeader;
  sections?: DumpSection[];
  symtabs?: DumpSymtab[];
  relocations?: DumpRelocSection[];
}

const SHF_LETTERLESS: readonly (readonly [number, string])[] = [
  [0x1, 'SHF_WRITE'], [0x2, 'SHF_ALLOC'], [0x4, 'SHF_EXECINSTR'], [0x10, 'SHF_MERGE'], [0x20, 'SHF_STRINGS'],
  [0x40, 'SHF_INFO_LINK'], [0x80, 'SHF_LINK_ORDER'], [0x100, 'SHF_OS_NONCONFORMING'], [0x200, 'SHF_GROUP'],
  [0x400, 'SHF_TLS'], [0x800, 'SHF_COMPRESSED'], [SHF_RELA_LIVEPATCH, 'SHF_RELA_LIVEPATCH'],
];

/** sectionFlagNames prints sh_flags by name, SHF_RELA_LIVEPATCH included, leftovers in hex. */
export function sectionFlagNames(flags: bigint): string {
  return flagNames(flags, SHF_LETTERLESS);
}

/** ndxName prints an st_shndx the way users read it: UND, ABS, COM, SHN_LIVEPATCH, or the index. */
export function ndxName(shndx: number, section: number): string {
  if (shndx === SHN_UNDEF) return 'UND';
  if (shndx === SHN_ABS) return 'ABS';
  if (shndx === SHN_COMMON) return 'COM';
  if (shndx === SHN_LIVEPATCH) return 'SHN_LIVEPATCH';
  if (shndx === SHN_XINDEX) return String(section);
  return shnName(shndx);
}

const STV = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'] as const;

/** buildDump reads what the options ask for from an open file and returns plain records. */
export function buildDump(elf: ElfFile, opts: DumpOptions): DumpDoc {
  const h = elf.header;
  const doc: DumpDoc = {
    file: elf.file,
    header: {
      class: h.bits === 64 ? 'ELF64' : 'ELF32', endian: h.littleEndian ? 'little' : 'big', osabi: h.osabi,
      type: h.e_type, typeName: etName(h.e_type), machine: h.e_machine, machineName: emName(h.e_machine),
      flags: h.e_flags, entry: h.e_entry, shoff: h.e_shoff, shnum: h.shnum, shstrndx: h.shstrndx,
    },
  };
  if (opts.sections) {
    doc.sections = elf.sections.map((s) => ({
      index: s.index, name: s.name, type: s.sh_type, typeName: shtName(s.sh_type), flags: s.sh_flags,
      flagNames: sectionFlagNames(s.sh_flags), addr: s.sh_addr, offset: s.sh_offset, size: s.sh_size,
      link: s.sh_link, info: s.sh_info, align: s.sh_addralign, entsize: s.sh_entsize,
    }));
  }
  if (opts.symbols) {
    doc.symtabs = [];
    for (const s of elf.sections) {
      if (s.sh_type !== SHT_SYMTAB && s.sh_type !== SHT_DYNSYM) continue;
      const t = elf.symbols(s.index);
      const syms: DumpSymbol[] = new Array<DumpSymbol>(t.count);
      for (let i = 0; i < t.count; i++) {
        const shndx = t.shndx[i]!;
        const section = t.sectionIndex(i);
        let name = t.name(i);
        if (name === '' && t.type(i) === STT_SECTION && section >= 0) name = sectionNameOf(elf, section);
        syms[i] = {
          num: i, value: t.value(i), size: t.size(i), type: sttName(t.type(i)), bind: stbName(t.bind(i)),
          vis: STV[t.other[i]! & 3]!, shndx, section, ndx: ndxName(shndx, section), name,
        };
      }
      doc.symtabs.push({ index: s.index, name: s.name, firstNonLocal: s.sh_info, symbols: syms });
    }
  }
  if (opts.relocs) {
    doc.relocations = [];
    for (const s of elf.sections) {
      if (s.sh_type !== SHT_REL && s.sh_type !== SHT_RELA) continue;
      const r = elf.relocations(s.index);
      const relocs: DumpReloc[] = new Array<DumpReloc>(r.count);
      for (let i = 0; i < r.count; i++) {
        const sym = r.sym(i);
        const type = r.type(i);
        let symValue: bigint | undefined;
        let symName = '';
        if (sym !== 0) {
          const t = elf.symbols(s.sh_link);
          if (sym >= t.count) {
            throw new ElfFormatError(elf.file, 'ELF_BAD_RELOC_SYMBOL',
              `section ${s.index} '${s.name}' entry ${i}: symbol index ${sym} is out of range (${t.count} symbols)`, r.entryOffset(i));
          }
          symValue = t.value(sym);
          symName = t.name(sym);
          if (symName === '' && t.type(sym) === STT_SECTION) {
            const sec = t.sectionIndex(sym);
            if (sec >= 0) symName = sectionNameOf(elf, sec);
          }
        }
        const info = h.bits === 64 ? (BigInt(sym) << 32n) | BigInt(type) : BigInt(((sym << 8) | type) >>> 0);
        relocs[i] = {
          offset: r.offset(i), info, type, typeName: relocTypeName(h.e_machine, type), sym, symValue, symName, addend: r.addend(i),
        };
      }
      doc.relocations.push({
        index: s.index, name: s.name, type: s.sh_type === SHT_RELA ? 'RELA' : 'REL', offset: s.sh_offset,
        target: s.sh_info, targetName: elf.sections[s.sh_info]?.name ?? '', symtab: s.sh_link,
        livepatch: (s.sh_flags & BigInt(SHF_RELA_LIVEPATCH)) !== 0n, relocs,
      });
    }
  }
  return doc;
}

function sectionNameOf(elf: ElfFile, index: number): string {
  return elf.sections[index]?.name ?? '';
}

/** printable escapes control characters in names for the terminal, as readelf does (^B). */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\x7f' ? '^?' : '^' + String.fromCharCode(c.charCodeAt(0) + 0x40)));
}

function hex(v: bigint | number, width: number): string {
  return v.toString(16).padStart(width, '0');
}

/** formatText renders one file the way readelf -W -h -S -s -r would, with full constant names. */
export function formatText(doc: DumpDoc): string {
  const out: string[] = [];
  const h = doc.header;
  const w = h.class === 'ELF64' ? 16 : 8;
  out.push(`File: ${doc.file}`, 'ELF header:');
  out.push(`  Class:    ${h.class}`);
  out.push(`  Data:     ${h.endian} endian`);
  out.push(`  OS/ABI:   ${h.osabi}`);
  out.push(`  Type:     ${h.typeName} (${h.type})`);
  out.push(`  Machine:  ${h.machineName} (${h.machine})`);
  out.push(`  Flags:    0x${h.flags.toString(16)}`);
  out.push(`  Entry:    0x${h.entry.toString(16)}`);
  out.push(`  Sections: ${h.shnum} at offset 0x${h.shoff.toString(16)}, names in section ${h.shstrndx}`);
  if (doc.sections) {
    out.push('', 'Sections:');
    out.push(`  [Nr] ${'Name'.padEnd(24)} ${'Type'.padEnd(18)} ${'Address'.padEnd(w)} ${'Off'.padEnd(8)} ${'Size'.padEnd(8)} ES   Lk  Inf Al  Flags`);
    for (const s of doc.sections) {
      out.push(`  [${String(s.index).padStart(2)}] ${printable(s.name).padEnd(24)} ${s.typeName.padEnd(18)} ${hex(s.addr, w)} ${hex(s.offset, 8)} ${hex(s.size, 8)} ` +
        `${hex(s.entsize, 2)} ${String(s.link).padStart(4)} ${String(s.info).padStart(4)} ${String(s.align).padEnd(3)} ${s.flagNames}`);
    }
  }
  if (doc.symtabs) {
    for (const t of doc.symtabs) {
      out.push('', `Symbol table '${t.name}' (section ${t.index}) contains ${t.symbols.length} entries, first non-local ${t.firstNonLocal}:`);
      out.push(`   Num: ${'Value'.padEnd(w)}  Size Type    Bind   Vis       Ndx Name`);
      for (const s of t.symbols) {
        out.push(`${String(s.num).padStart(6)}: ${hex(s.value, w)} ${String(s.size).padStart(5)} ${s.type.padEnd(7)} ${s.bind.padEnd(6)} ${s.vis.padEnd(9)} ${s.ndx.padStart(3)} ${printable(s.name)}`);
      }
    }
  }
  if (doc.relocations) {
    for (const r of doc.relocations) {
      out.push('', `Relocation section '${r.name}' (section ${r.index}${r.livepatch ? ', SHF_RELA_LIVEPATCH' : ''}) at offset 0x${r.offset.toString(16)} ` +
        `applies to section ${r.target} '${r.targetName}', symbols in section ${r.symtab}, contains ${r.relocs.length} entries:`);
      out.push(`    ${'Offset'.padEnd(w)}  ${'Info'.padEnd(w)}  ${'Type'.padEnd(24)} ${'Sym. Value'.padEnd(w)}  Sym. Name${r.type === 'RELA' ? ' + Addend' : ''}`);
      for (const e of r.relocs) {
        const val = e.symValue === undefined ? ''.padEnd(w) : hex(e.symValue, w);
        let tail = printable(e.symName);
        if (r.type === 'RELA') {
          const a = e.addend < 0n ? `- ${(-e.addend).toString(16)}` : `+ ${e.addend.toString(16)}`;
          tail = e.sym === 0 ? a.replace(/^\+ /, '') : `${tail} ${a}`;
        }
        out.push(`    ${hex(e.offset, w)}  ${hex(e.info, w)}  ${e.typeName.padEnd(24)} ${val}  ${tail}`);
      }
    }
  }
  return out.join('\n') + '\n';
}

/** toJsonValue turns bigints into "0x..." strings (negative: "-0x..."), for JSON.stringify. */
function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  return v;
}

/** formatJson renders a list of per-file documents (or errors) as one JSON document. */
export function formatJson(docs: readonly (DumpDoc | { file: string; error: { code: string; message: string; offset?: number } })[]): string {
  return JSON.stringify({ files: docs }, jsonReplacer, 1) + '\n';
}

function parseArgs(argv: readonly string[]): { json: boolean; opts: DumpOptions; files: string[] } {
  let json = false;
  const sel = { sections: false, symbols: false, relocs: false };
  const files: string[] = [];
  let rest = false;
  for (const a of argv) {
    if (rest || !a.startsWith('-') || a === '-') {
      if (a === '') throw new UsageError('dump: an empty argument where a file name belongs');
      files.push(a);
      continue;
    }
    switch (a) {
      case '--': rest = true; continue;
      case '--json': json = true; continue;
      case '--sections': sel.sections = true; continue;
      case '--symbols': sel.symbols = true; continue;
      case '--relocs': sel.relocs = true; continue;
    }
    if (a.startsWith('--')) throw new UsageError(`dump: unknown option '${a}'`);
    for (const c of a.slice(1)) {
      if (c === 'S') sel.sections = true;
      else if (c === 's') sel.symbols = true;
      else if (c === 'r') sel.relocs = true;
      else throw new UsageError(`dump: unknown option '-${c}' in '${a}'`);
    }
  }
  if (files.length === 0) throw new UsageError('dump: no input files; usage: klp-convert dump [--json] [-S] [-s] [-r] FILE...');
  const any = sel.sections || sel.symbols || sel.relocs;
  const opts = any ? sel : { sections: true, symbols: true, relocs: true };
  return { json, opts, files };
}

/** writeOut prints to standard output (main.ts guards its errors: `dump vmlinux | head`) */
function writeOut(s: string): void {
  process.stdout.write(s);
}

export const command: Command = {
  name: 'dump',
  usage: [
    'usage: klp-convert dump [--json] [-S|--sections] [-s|--symbols] [-r|--relocs] FILE...',
    '',
    'Lists the ELF header, section headers, symbol tables and relocation sections of each FILE,',
    'decoding SHF_RELA_LIVEPATCH (0x00100000) and SHN_LIVEPATCH (0xff20) by name. Without a',
    'selector everything is listed. --json prints one JSON document (bigints as hex strings).',
  ].join('\n'),
  run(argv: string[]): number {
    const { json, opts, files } = parseArgs(argv);
    let status: number = EXIT.OK;
    const docs: Parameters<typeof formatJson>[0][number][] = [];
    files.forEach((f, k) => {
      let elf: ElfFile | undefined;
      try {
        elf = ElfFile.open(f);
        elf.checkRelocationSections(); // a relocation section listed against the wrong table would mislead
        const doc = buildDump(elf, opts);
        if (json) docs.push(doc);
        else writeOut((k > 0 ? '\n' : '') + formatText(doc));
      } catch (e) {
        if (json && e instanceof ElfFormatError) {
          const err: { code: string; message: string; offset?: number } = { code: e.code, message: e.message };
          if (e.offset !== undefined) err.offset = e.offset;
          docs.push({ file: f, error: err });
        }
        status = Math.max(status, reportError(e));
      } finally {
        elf?.close();
      }
    });
    if (json) writeOut(formatJson(docs));
    return status;
  },
};
