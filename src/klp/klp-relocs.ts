/**
 * readKlpRelocs reads klp-build's intermediate klp relocations: the `__klp_relocs.<obj>` tables
 * that `objtool klp diff` writes and `objtool klp post-link` turns into `.klp.rela.<obj>.<sec>`
 * after the module link (7.2: tools/objtool/klp-diff.c clone_reloc_klp, klp-post-link.c
 * fix_klp_reloc_sec, include/objtool/klp.h).
 *
 * Format, x86_64 only (klp-build's only architecture): an SHF_ALLOC PROGBITS section of
 * struct klp_reloc { void *offset; void *sym; u32 type; }, 24 bytes each (4 bytes of tail
 * padding), with two R_X86_64_64 relocations per entry in `.rela__klp_relocs.<obj>`:
 *   +0  against the section symbol of the patched place, addend = offset in that section
 *   +8  against `.klp.sym.<sym_obj>.<name>,<pos>` (STB_WEAK, undefined), addend = the klp
 *       relocation's addend
 *   +16 the relocation type, a plain little-endian u32 in the table's bytes.
 * <obj> names the object whose load gates the relocation ("vmlinux" for vmlinux symbols).
 * post-link takes the place as "section of the +0 symbol, offset = its addend"; here the
 * symbol's value is added too, which is the same for the section symbols klp diff writes.
 *
 * Every fault is a KlpError with a KLP_RELOCS_* code (exit 65: the intermediate file is not what
 * klp-build writes) naming the table, the entry and its byte offset.
 */
import {
  EM_X86_64, ElfFile, SHN_UNDEF, SHN_XINDEX, SHT_NOBITS, SHT_REL, SHT_RELA, STB_LOCAL, STT_SECTION, isSectionIndex,
} from '../elf/index.js';
import {
  KLP_OBJNAME_MAX, KLP_RELOCS_PREFIX, KLP_RELOC_OFFSET_FIELD, KLP_RELOC_SIZE, KLP_RELOC_SYM_FIELD, KLP_RELOC_TYPE_FIELD,
  KLP_SYM_PREFIX, SHN_LIVEPATCH,
} from './constants.js';
import { hex } from './convert-types.js';
import { KlpError } from './errors.js';
import { R_X86_64_64, X86_64_RELOC_WIDTH, parseKlpSymName } from './kernel-rules.js';

/** One struct klp_reloc, resolved to the place it patches and the klp symbol it names. */
export interface KlpRelocEntry {
  /** section index of the `__klp_relocs.<obj>` table */
  table: number;
  /** <obj>: the object whose load gates the relocation */
  object: string;
  /** entry number in the table */
  entry: number;
  /** section index of the patched place */
  base: number;
  /** the place, as an offset in `base` */
  offset: bigint;
  type: number;
  /** symbol index of the `.klp.sym.*` symbol */
  sym: number;
  addend: bigint;
  /** `__klp_relocs.vmlinux+0x18 (entry 1)`, for messages */
  where: string;
}

/** klpRelocsTables returns the section indexes of the `__klp_relocs.*` tables. */
export function klpRelocsTables(elf: ElfFile): number[] {
  return elf.sections.filter((s) => s.name.startsWith(KLP_RELOCS_PREFIX)).map((s) => s.index);
}

/** readKlpRelocs reads every entry of every `__klp_relocs.<obj>` table, in section then entry order. */
export function readKlpRelocs(elf: ElfFile, file: string): KlpRelocEntry[] {
  const h = elf.header;
  const tables = klpRelocsTables(elf);
  if (tables.length === 0) return [];
  if (h.e_machine !== EM_X86_64 || h.bits !== 64 || !h.littleEndian) {
    throw new KlpError('KLP_RELOCS_ARCH', `${file}: '${elf.sections[tables[0]!]!.name}': klp-build modules are read for x86_64 only (klp-build and its struct klp_reloc layout exist only there; this file is machine ${h.e_machine}, ELF${h.bits} ${h.littleEndian ? 'LE' : 'BE'})`);
  }
  const st = elf.symtabIndex();
  if (st === undefined) throw new KlpError('KLP_RELOCS_NO_SYMTAB', `${file}: has __klp_relocs tables but no symbol table`);
  const syms = elf.symbols(st);
  const out: KlpRelocEntry[] = [];
  for (const t of tables) {
    const sec = elf.sections[t]!;
    const object = sec.name.slice(KLP_RELOCS_PREFIX.length);
    const fail = (code: string, what: string, hint: string): never => {
      throw new KlpError(code, `${file}: ${what}; ${hint}`);
    };
    if (object === '' || object.includes('.') || object.length > KLP_OBJNAME_MAX) {
      fail('KLP_RELOCS_BAD_OBJECT', `section '${sec.name}': '${object}' is not an object name (1-${KLP_OBJNAME_MAX} characters, no '.')`, 'klp diff names its tables __klp_relocs.<vmlinux or module>');
    }
    if (sec.sh_type === SHT_NOBITS || sec.sh_size % KLP_RELOC_SIZE !== 0) {
      fail('KLP_RELOCS_SIZE', `section '${sec.name}': size ${sec.sh_size} is not a multiple of ${KLP_RELOC_SIZE} (sizeof(struct klp_reloc) on x86_64)`, 'the table is truncated or was not written by objtool klp diff; rebuild the module with klp-build');
    }
    const n = sec.sh_size / KLP_RELOC_SIZE;
    const data = elf.data(t);
    const rels = elf.sections.filter((s) => (s.sh_type === SHT_RELA || s.sh_type === SHT_REL) && s.sh_info === t && s.sh_link === st);
    if (n > 0 && rels.length !== 1) {
      fail('KLP_RELOCS_NO_RELA', `section '${sec.name}': ${rels.length} relocation sections apply to it, expected one (.rela${sec.name})`, 'each entry needs its two relocations; rebuild the module with klp-build');
    }
    // relocation at each field offset; any other offset is a misaligned table
    const byOffset = new Map<number, { sym: number; type: number; addend: bigint }>();
    if (rels.length === 1) {
      const rs = rels[0]!;
      if (rs.sh_type !== SHT_RELA) fail('KLP_RELOCS_NO_RELA', `section '${rs.name}' is SHT_REL`, 'klp-build writes RELA relocations');
      const r = elf.relocations(rs.index);
      for (let k = 0; k < r.count; k++) {
        const off = Number(r.offset(k));
        const field = off % KLP_RELOC_SIZE;
        const at = `${sec.name}+${hex(off)}`;
        if (off >= sec.sh_size || (field !== KLP_RELOC_OFFSET_FIELD && field !== KLP_RELOC_SYM_FIELD)) {
          fail('KLP_RELOCS_MISALIGNED', `${at} (${rs.name} entry ${k}): a relocation outside the offset (+0) and sym (+8) fields of a ${KLP_RELOC_SIZE}-byte struct klp_reloc`, 'the table is misaligned or not a klp-build table');
        }
        if (byOffset.has(off)) fail('KLP_RELOCS_MISALIGNED', `${at}: two relocations for one field`, 'the table is not a klp-build table');
        byOffset.set(off, { sym: r.sym(k), type: r.type(k), addend: r.addend(k) });
      }
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let e = 0; e < n; e++) {
      const at0 = e * KLP_RELOC_SIZE;
      const where = `${sec.name}+${hex(at0)} (entry ${e})`;
      const field = (off: number, name: string): { sym: number; type: number; addend: bigint } => {
        const f = byOffset.get(at0 + off);
        if (!f) fail('KLP_RELOCS_FIELD', `${where}: no relocation for klp_reloc.${name} at +${off}`, 'the table is truncated or misaligned; rebuild the module with klp-build');
        if (f!.type !== R_X86_64_64) fail('KLP_RELOCS_FIELD', `${where}: klp_reloc.${name} has relocation type ${f!.type}, expected R_X86_64_64`, 'the table is not a klp-build table');
        if (f!.sym >= syms.count) fail('KLP_RELOCS_FIELD', `${where}: klp_reloc.${name} names symbol ${f!.sym}, past the symbol table (${syms.count})`, 'the file is corrupt');
        return f!;
      };
      // klp_reloc.offset: the place
      const off = field(KLP_RELOC_OFFSET_FIELD, 'offset');
      const placeSym = syms.shndx[off.sym]!;
      if (!isSectionIndex(placeSym) && placeSym !== SHN_XINDEX) {
        fail('KLP_RELOCS_OFFSET', `${where}: klp_reloc.offset names '${syms.name(off.sym)}', which is not defined in a section`, 'the offset field must point into the patched code or data');
      }
      const base = syms.sectionIndex(off.sym);
      const baseSec = elf.sections[base];
      if (!baseSec) fail('KLP_RELOCS_OFFSET', `${where}: klp_reloc.offset symbol '${syms.name(off.sym)}' is in section ${base}, which does not exist`, 'the file is corrupt');
      const place = (syms.type(off.sym) === STT_SECTION ? 0n : syms.value(off.sym)) + off.addend;
      // klp_reloc.type
      const type = view.getUint32(at0 + KLP_RELOC_TYPE_FIELD, true);
      const width = X86_64_RELOC_WIDTH.get(type);
      if (width === undefined) {
        fail('KLP_RELOCS_TYPE', `${where}: klp_reloc.type is ${type}, which x86_64's apply_relocate_add() does not write (it knows R_X86_64_64, PC32, PLT32, 32, 32S, PC64)`, 'the table is corrupt; rebuild the module with klp-build');
      }
      if (place < 0n || place + BigInt(width!) > BigInt(baseSec!.sh_size)) {
        fail('KLP_RELOCS_OFFSET', `${where}: the place ${baseSec!.name}+${hex(place)} (${width} bytes) is outside '${baseSec!.name}' (${hex(baseSec!.sh_size)} bytes)`, 'the table does not match the module; rebuild it with klp-build');
      }
      // klp_reloc.sym: the klp symbol
      const s = field(KLP_RELOC_SYM_FIELD, 'sym');
      const name = syms.name(s.sym);
      if (!name.startsWith(KLP_SYM_PREFIX) || syms.bind(s.sym) === STB_LOCAL || (syms.shndx[s.sym] !== SHN_UNDEF && syms.shndx[s.sym] !== SHN_LIVEPATCH)) {
        fail('KLP_RELOCS_NOT_KLP_SYM', `${where}: klp_reloc.sym names '${name}' (${syms.shndx[s.sym] === SHN_UNDEF ? 'undefined' : `st_shndx ${syms.shndx[s.sym]}`}, ${syms.bind(s.sym) === STB_LOCAL ? 'local' : 'global or weak'}), not an undefined ${KLP_SYM_PREFIX}<obj>.<name>,<pos> symbol`, 'klp diff points every entry at a weak undefined klp symbol');
      }
      const parsed = parseKlpSymName(name);
      if (!parsed || parsed.loose) {
        fail('KLP_RELOCS_BAD_NAME', `${where}: klp symbol '${name}' is not ${KLP_SYM_PREFIX}<obj>.<name>,<pos> as the kernel reads it (object <= ${KLP_OBJNAME_MAX} characters, a decimal position and nothing after it)`, 'the kernel would refuse it with "has an incorrectly formatted name"');
      }
      if ((object === 'vmlinux') !== (parsed!.object === 'vmlinux')) {
        fail('KLP_RELOCS_OBJECT', `${where}: symbol '${name}' of '${parsed!.object}' is in the table of '${object}'`, object === 'vmlinux'
          ? 'a module symbol cannot resolve when the patch loads; it belongs in that module\'s table'
          : 'the kernel refuses vmlinux symbols in module-specific sections ("invalid access to vmlinux symbol")');
      }
      out.push({ table: t, object, entry: e, base, offset: place, type, sym: s.sym, addend: s.addend, where });
    }
  }
  return out;
}
