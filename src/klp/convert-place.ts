/**
 * Stage 3 of the converter: placement. Walk every ordinary relocation section and decide, for
 * each entry against a symbol that needs conversion, whether it can become a klp relocation and
 * in which `.klp.rela.<obj>.<sec>` it goes: <obj> is the object whose load gates it (vmlinux
 * symbols always in vmlinux sections), and the base section must be one the kernel lets late
 * relocations reach (kernel-rules.ts: checkBaseSection). Resolution is asked lazily, in
 * relocation order, so errors name the first place a symbol is used.
 */
import { ElfEditor, EM_RISCV, SHF_ALLOC, SHT_REL, SHT_RELA, hasFlag, isRelocType, relocTypeName } from '../elf/index.js';
import { KLP_RELA_PREFIX, SHF_RELA_LIVEPATCH } from './constants.js';
import { hex, type Problem, type Target } from './convert-types.js';
import type { Resolver } from './convert-resolve.js';
import { checkBaseSection } from './kernel-rules.js';

/** One relocation entry to move: entry `entry` of section `relSec` (base `base`), against `sym`. */
export interface Move {
  relSec: number;
  base: number;
  entry: number;
  target: Target;
  sym: number;
}

export interface Placement {
  moves: Move[];
  /** symbol index -> number of relocations against it in ordinary sections */
  refsBySym: Map<number, number>;
}

export interface PlaceContext {
  file: string;
  symtab: number;
  /** relocation sections of annotations, never converted */
  skipSections: ReadonlySet<number>;
  needs: (sym: number) => boolean;
  resolver: Resolver;
  problems: Problem[];
}

export function placeRelocations(ed: ElfEditor, ctx: PlaceContext): Placement {
  const moves: Move[] = [];
  const refsBySym = new Map<number, number>();
  const syms = ed.symbols;
  const machine = ed.elf.header.e_machine;
  const { file, problems } = ctx;
  ed.sections.forEach((s, ri) => {
    if ((s.sh_type !== SHT_RELA && s.sh_type !== SHT_REL) || s.sh_link !== ctx.symtab) return;
    if (s.name.startsWith(KLP_RELA_PREFIX) || hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH) || ctx.skipSections.has(ri)) return;
    const base = ed.sections[s.sh_info];
    if (!base) return;
    ed.relocations(ri).forEach((rel, k) => {
      if (!ctx.needs(rel.sym)) return;
      refsBySym.set(rel.sym, (refsBySym.get(rel.sym) ?? 0) + 1);
      const where = `${base.name}+${hex(rel.offset)}`;
      // the kernel never applies relocations whose target is not allocated; leave them alone
      if (!hasFlag(base.sh_flags, SHF_ALLOC)) return;
      const sym = syms[rel.sym]!;
      const t = ctx.resolver.resolve({ index: rel.sym, name: sym.name, bind: sym.info >>> 4, where });
      if (t === null) return;
      if (s.sh_type === SHT_REL) {
        problems.push({ code: 'REL_SECTION', message: `${file}: ${where}: '${s.name}' is SHT_REL; klp relocations are read as Elf_Rela, so implicit-addend (REL) relocations cannot be converted (this architecture has no livepatch support)` });
        return;
      }
      if (machine === EM_RISCV) {
        problems.push({ code: 'RISCV_UNSUPPORTED', message: `${file}: ${where}: ${relocTypeName(machine, rel.type)} against '${sym.name}': riscv PCREL_HI20/LO12 pairs cannot be split into klp relocations (and riscv has no upstream livepatch support)` });
        return;
      }
      // the kernel applies a klp relocation by its type; one the machine does not have would be
      // refused there or, with a wrong e_machine, read as another relocation
      if (!isRelocType(machine, ed.header.bits, rel.type)) {
        problems.push({ code: 'UNKNOWN_RELOC_TYPE', message: `${file}: ${where}: ${relocTypeName(machine, rel.type)} against '${sym.name}' is not a relocation type of this machine for ELF${ed.header.bits} (e_machine ${machine}); is the ELF header's e_machine right? rebuild the module` });
        return;
      }
      const v = checkBaseSection(base.name, t.relaObject === 'vmlinux' && t.symObject === 'vmlinux' ? 'vmlinux' : t.symObject, machine);
      if (!v.ok) {
        problems.push({ code: v.code!, message: `${file}: ${where}: cannot convert reference to '${sym.name}' (${t.symObject}): ${v.why}; ${v.hint}` });
        return;
      }
      moves.push({ relSec: ri, base: s.sh_info, entry: k, target: t, sym: rel.sym });
    });
  });
  return { moves, refsBySym };
}
