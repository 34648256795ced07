/**
 * Stage 4 of the converter: the edit. Move each planned relocation from its .rela<sec> to
 * .klp.rela.<obj><sec> (SHT_RELA, SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH). The original entry
 * is removed (not made NONE: removal keeps the module loader from ever applying it, and an
 * emptied .rela<sec> is dropped so binutils sees at most one ordinary relocation section per base
 * section). Rename each converted symbol to .klp.sym.<obj>.<name>,<pos> with st_shndx =
 * SHN_LIVEPATCH; binding and type are kept, so no symbol index moves. Drop the annotation
 * sections, their relocations and the symbols defined in them.
 */
import { ElfEditor, SHF_ALLOC, SHF_INFO_LINK, SHT_REL, SHT_RELA, STT_SECTION, relocTypeName } from '../elf/index.js';
import { KLP_RELA_PREFIX, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from './constants.js';
import { hex, type Problem, type Target } from './convert-types.js';
import type { Move } from './convert-place.js';
import { klpRelaName, klpSymName } from './klpname.js';
import type { ConvertedSymbol } from './convert.js';

export interface MoveResult {
  /** klp sections created, in creation order */
  created: string[];
  /** symbol index -> what was converted */
  converted: Map<number, ConvertedSymbol>;
  /** ordinary relocation sections left without entries */
  emptied: number[];
}

/** moveRelocations applies the moves and renames every resolved symbol. */
export function moveRelocations(ed: ElfEditor, moves: readonly Move[], targets: ReadonlyMap<number, Target | null>): MoveResult {
  const machine = ed.elf.header.e_machine;
  const syms = ed.symbols;
  const klpSecByName = new Map<string, number>();
  ed.sections.forEach((s, i) => {
    if (s.name.startsWith(KLP_RELA_PREFIX)) klpSecByName.set(s.name, i);
  });
  const created: string[] = [];
  const drop = new Map<number, Set<number>>();
  const converted = new Map<number, ConvertedSymbol>();
  const convertedFor = (i: number, t: Target): ConvertedSymbol => {
    let c = converted.get(i);
    if (!c) {
      c = { name: syms[i]!.name, object: t.symObject, pos: t.pos, klpName: klpSymName(t.symObject, t.name, t.pos), via: t.via, relocations: [] };
      converted.set(i, c);
    }
    return c;
  };
  for (const m of moves) {
    const base = ed.sections[m.base]!;
    const name = klpRelaName(m.target.relaObject, base.name);
    let k = klpSecByName.get(name);
    if (k === undefined) {
      k = ed.createRelaSection(name, m.base, BigInt(SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH));
      klpSecByName.set(name, k);
      created.push(name);
    }
    const rel = ed.relocations(m.relSec)[m.entry]!;
    ed.relocations(k).push({ ...rel });
    let d = drop.get(m.relSec);
    if (!d) drop.set(m.relSec, (d = new Set()));
    d.add(m.entry);
    convertedFor(m.sym, m.target).relocations.push({ section: base.name, klpSection: name, offset: hex(rel.offset), type: relocTypeName(machine, rel.type) });
  }
  const emptied = removeRelocations(ed, drop);
  for (const [i, t] of targets) {
    if (t === null) continue;
    const c = convertedFor(i, t);
    ed.renameSymbol(i, c.klpName);
    ed.setSymbolShndx(i, SHN_LIVEPATCH);
  }
  return { created, converted, emptied };
}

/**
 * removeRelocations deletes, per relocation section, the entries whose indexes `drop` lists, and
 * returns the relocation sections left with no entry (for dropSections).
 */
export function removeRelocations(ed: ElfEditor, drop: ReadonlyMap<number, ReadonlySet<number>>): number[] {
  const emptied: number[] = [];
  for (const [ri, entries] of drop) {
    const list = ed.relocations(ri);
    const kept = list.filter((_, k) => !entries.has(k));
    list.length = 0;
    list.push(...kept);
    if (kept.length === 0) emptied.push(ri);
  }
  return emptied;
}

/**
 * dropSections removes the annotation sections and the emptied relocation sections. A section
 * can go only if nothing that stays refers to it: no symbol but its section symbol is defined
 * there, and no remaining relocation names a symbol that goes with it. A reference to an
 * annotation section is a problem (annotations may only be read by klp-convert). Returns the
 * names of the removed sections, in index order; nothing is removed when problems were found.
 */
export function dropSections(ed: ElfEditor, symtab: number, annotationSecs: readonly number[], emptied: readonly number[], file: string, problems: Problem[], label = 'annotation section'): string[] {
  const syms = ed.symbols;
  const symbolsIn = (secs: ReadonlySet<number>, withSectionSymbols: boolean): Set<number> => {
    const out = new Set<number>();
    syms.forEach((sym, i) => {
      if (i === 0 || (!withSectionSymbols && (sym.info & 0xf) === STT_SECTION)) return;
      const sec = ed.symbolSection(i);
      if (sec >= 0 && secs.has(sec)) out.add(i);
    });
    return out;
  };
  const annSet = new Set(annotationSecs);
  const removeSecs = new Set<number>(annotationSecs);
  const definedInEmptied = symbolsIn(new Set(emptied), false);
  for (const i of emptied) {
    if (![...definedInEmptied].some((k) => ed.symbolSection(k) === i)) removeSecs.add(i);
  }
  const goneSyms = symbolsIn(removeSecs, true);
  ed.sections.forEach((sec, ri) => {
    if ((sec.sh_type !== SHT_RELA && sec.sh_type !== SHT_REL) || removeSecs.has(ri) || sec.sh_link !== symtab) return;
    for (const rel of ed.relocations(ri)) {
      if (!goneSyms.has(rel.sym)) continue;
      const target = ed.symbolSection(rel.sym);
      if (annSet.has(target)) {
        problems.push({ code: 'ANNOTATION_REFERENCED', message: `${file}: ${ed.sections[sec.sh_info]?.name ?? sec.name}+${hex(rel.offset)}: relocation refers to '${syms[rel.sym]!.name || ed.sections[target]!.name}' in ${label} '${ed.sections[target]!.name}', which the conversion removes; it may only be read by klp-convert` });
      } else {
        removeSecs.delete(target); // keep an emptied section whose section symbol is still used
      }
    }
  });
  for (const ref of ed.referencedSections(removeSecs)) {
    if (!removeSecs.has(ref)) continue;
    if (annSet.has(ref)) {
      problems.push({ code: 'ANNOTATION_REFERENCED', message: `${file}: a section that stays refers to ${label} '${ed.sections[ref]!.name}' (sh_link or sh_info), which the conversion removes` });
    } else {
      removeSecs.delete(ref);
    }
  }
  if (problems.length > 0) return [];
  const removedNames = [...removeSecs].sort((a, b) => a - b).map((i) => ed.sections[i]!.name);
  if (removeSecs.size > 0) {
    for (const i of removeSecs) {
      const sec = ed.sections[i]!;
      if (sec.sh_type === SHT_RELA || sec.sh_type === SHT_REL) ed.relocations(i).length = 0;
    }
    ed.removeSymbols([...symbolsIn(removeSecs, false)]);
    ed.removeSections(removeSecs);
  }
  return removedNames;
}
