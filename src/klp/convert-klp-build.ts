/**
 * The klp-build input form of `convert`: a pre-post-link module (klp-build's
 * `5-kmod/<name>.ko.orig`, what `objtool klp post-link` reads) is finished here instead of by
 * objtool. klp-build already chose every object and position, so no map, resolution or
 * placement stage runs: the `__klp_relocs.<obj>` entries (klp-relocs.ts) are the plan.
 *
 * What is written, compared with post-link (7.2 klp-post-link.c, fix_klp_reloc_sec):
 *  - the same klp relocation per entry (place, type, klp symbol, addend), in
 *    `.klp.rela.<obj>.<sec>` (post-link writes `.klp.rela.<obj>..<sec>`, a double dot; the
 *    kernel reads only the object name and finds the section through sh_info);
 *  - the same klp symbols: st_shndx = SHN_LIVEPATCH, binding (STB_WEAK) and type kept;
 *  - the original relocation at the place, which names a `.klp.tombstone.*` symbol, is removed
 *    (post-link makes it R_X86_64_NONE; apply_relocate_add skips NONE, so both leave the place to
 *    the klp relocation), and its symbol gets SHN_LIVEPATCH as post-link gives it;
 *  - the `__klp_relocs.*` tables and their relocation sections are removed (post-link keeps them;
 *    the kernel never reads them: their R_X86_64_64 entries against SHN_LIVEPATCH symbols are
 *    applied at load with value 0 into memory nobody uses).
 * A module post-link already finished is returned unchanged.
 */
import { ElfEditor, ElfFile, SHF_ALLOC, SHF_INFO_LINK, SHN_UNDEF, SHT_REL, SHT_RELA, relocTypeName } from '../elf/index.js';
import { KLP_RELA_PREFIX, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from './constants.js';
import { dropSections, removeRelocations } from './convert-edit.js';
import { hex, type Problem } from './convert-types.js';
import type { ConvertResult, ConvertedSymbol } from './convert.js';
import { KlpError, problemsError } from './errors.js';
import { parseKlpSymName } from './kernel-rules.js';
import { klpRelaName } from './klpname.js';
import { hasLivepatchTag } from './modinfo.js';
import { klpRelocsTables, readKlpRelocs, type KlpRelocEntry } from './klp-relocs.js';

/** isKlpBuildModule: the module carries klp-build's `__klp_relocs.<obj>` tables. */
export function isKlpBuildModule(elf: ElfFile): boolean {
  return klpRelocsTables(elf).length > 0;
}

export interface KlpBuildOptions {
  file: string;
  allowUntagged?: boolean | undefined;
}

export function convertKlpBuildModule(elf: ElfFile, opts: KlpBuildOptions): ConvertResult {
  const file = opts.file;
  const entries = readKlpRelocs(elf, file);
  if (!opts.allowUntagged && !hasLivepatchTag(elf)) {
    throw new KlpError('NOT_LIVEPATCH', `${file}: .modinfo has no 'livepatch' key; klp-build's init.c sets it, so this is not a klp-build module (or pass --allow-untagged)`);
  }
  const st = elf.symtabIndex()!;
  const syms = elf.symbols(st);
  const finished = entries.filter((e) => syms.shndx[e.sym] === SHN_LIVEPATCH).length;
  const hasKlpSections = elf.sections.some((s) => s.name.startsWith(KLP_RELA_PREFIX));
  if (entries.length > 0 && finished === entries.length && hasKlpSections) {
    return {
      bytes: elf.rawBytes(0, elf.size).slice(), converted: [], klpSections: [], removedSections: [], changed: false, form: 'klp-build',
      warnings: [`${file}: already finished by 'objtool klp post-link' (its klp symbols are SHN_LIVEPATCH and it has .klp.rela sections); nothing to convert`],
    };
  }
  if (finished > 0) {
    throw new KlpError('KLP_RELOCS_HALF_DONE', `${file}: ${finished} of ${entries.length} __klp_relocs entries name SHN_LIVEPATCH symbols but the module is not finished; convert the pre-post-link module (klp-build's 5-kmod/<name>.ko.orig)`);
  }
  const ed = new ElfEditor(elf);
  const problems: Problem[] = [];
  const original = originalsByPlace(ed, st, new Set(klpRelocsTables(elf)));
  const klpSecByName = new Map<string, number>();
  const created: string[] = [];
  const converted = new Map<number, ConvertedSymbol>();
  const seen = new Map<string, KlpRelocEntry>();
  const drop = new Map<number, Set<number>>();
  const livepatchSyms = new Set<number>();
  for (const e of entries) {
    const baseName = ed.sections[e.base]!.name;
    const at = `${baseName}+${hex(e.offset)}`;
    const key = `${e.base}:${e.offset}`;
    const dup = seen.get(key);
    if (dup) {
      problems.push({ code: 'KLP_RELOCS_DUPLICATE', message: `${file}: ${e.where} and ${dup.where} both patch ${at}; the kernel would write it twice` });
      continue;
    }
    seen.set(key, e);
    if (!(ed.sections[e.base]!.sh_flags & BigInt(SHF_ALLOC))) {
      problems.push({ code: 'KLP_RELOCS_NOT_ALLOC', message: `${file}: ${e.where}: the place ${at} is in a section that is not allocated; the kernel never applies relocations there` });
      continue;
    }
    const orig = original.get(key) ?? [];
    if (orig.length > 1) {
      problems.push({ code: 'KLP_RELOCS_ORIGINALS', message: `${file}: ${e.where}: ${orig.length} ordinary relocations write ${at}; klp diff leaves one (against a .klp.tombstone symbol)` });
      continue;
    }
    if (orig.length === 1) {
      const o = orig[0]!;
      const osym = ed.relocations(o.relSec)[o.entry]!.sym;
      if (osym === 0 || ed.symbols[osym]!.shndx !== SHN_UNDEF) {
        problems.push({ code: 'KLP_RELOCS_ORIGINAL_DEFINED', message: `${file}: ${e.where}: the ordinary relocation at ${at} names ${osym === 0 ? 'no symbol' : `'${ed.symbols[osym]!.name || '(section)'}', a symbol defined in the module`}, not a .klp.tombstone one; removing it would change what the module does` });
        continue;
      }
      let d = drop.get(o.relSec);
      if (!d) drop.set(o.relSec, (d = new Set()));
      d.add(o.entry);
      livepatchSyms.add(osym);
    }
    const name = klpRelaName(e.object, baseName);
    let k = klpSecByName.get(name) ?? ed.findSection(name);
    if (k === undefined) {
      k = ed.createRelaSection(name, e.base, BigInt(SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH));
      created.push(name);
    }
    klpSecByName.set(name, k);
    ed.relocations(k).push({ offset: e.offset, sym: e.sym, type: e.type, addend: e.addend });
    livepatchSyms.add(e.sym);
    let c = converted.get(e.sym);
    if (!c) {
      const p = parseKlpSymName(ed.symbols[e.sym]!.name)!;
      c = { name: p.name, object: p.object, pos: p.pos, klpName: ed.symbols[e.sym]!.name, via: 'klp-build', relocations: [] };
      converted.set(e.sym, c);
    }
    c.relocations.push({ section: baseName, klpSection: name, offset: hex(e.offset), type: relocTypeName(elf.header.e_machine, e.type) });
  }
  if (problems.length > 0) throw problemsError(problems);
  const emptied = removeRelocations(ed, drop);
  for (const i of livepatchSyms) ed.setSymbolShndx(i, SHN_LIVEPATCH);
  // the tables and their relocation sections go, as annotation sections do in the other form
  const tables = klpRelocsTables(elf);
  const tableRelas = elf.sections.filter((s) => (s.sh_type === SHT_RELA || s.sh_type === SHT_REL) && tables.includes(s.sh_info)).map((s) => s.index);
  for (const ri of tableRelas) ed.relocations(ri).length = 0;
  const removedSections = dropSections(ed, st, [...tables, ...tableRelas], emptied, file, problems, '__klp_relocs table');
  if (problems.length > 0) throw problemsError(problems);
  return {
    bytes: ed.write(), converted: [...converted.values()], klpSections: created, removedSections, warnings: [], changed: true, form: 'klp-build',
  };
}

interface OriginalRef {
  relSec: number;
  entry: number;
}

/** originalsByPlace indexes the ordinary relocations by "base:offset" (tables and klp sections excluded). */
function originalsByPlace(ed: ElfEditor, symtab: number, tables: ReadonlySet<number>): Map<string, OriginalRef[]> {
  const out = new Map<string, OriginalRef[]>();
  ed.sections.forEach((s, ri) => {
    if ((s.sh_type !== SHT_RELA && s.sh_type !== SHT_REL) || s.sh_link !== symtab || tables.has(s.sh_info)) return;
    if (s.name.startsWith(KLP_RELA_PREFIX) || (s.sh_flags & BigInt(SHF_RELA_LIVEPATCH)) !== 0n) return;
    ed.relocations(ri).forEach((r, k) => {
      const key = `${s.sh_info}:${r.offset}`;
      const list = out.get(key);
      if (list) list.push({ relSec: ri, entry: k });
      else out.set(key, [{ relSec: ri, entry: k }]);
    });
  });
  return out;
}
