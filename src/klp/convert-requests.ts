/**
 * Stage 1 of the converter: what the module asks for. The v7 annotations
 * (.klp.module_relocs.<obj>: 12-byte {address, u32 sympos} entries, the address carried by a
 * relocation against the annotated symbol, paired by r_offset / 12), and which undefined symbols
 * need a klp relocation at all: minimal-form names (.klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>),
 * annotated symbols, symbols a rule names, and, with a map or Module.symvers, every undefined
 * symbol that is not exported.
 */
import { ElfEditor, EM_PPC64, SHN_UNDEF, SHT_REL, SHT_RELA } from '../elf/index.js';
import { KLP_MINIMAL_PREFIX, KLP_MODULE_RELOCS_PREFIX, KLP_MODULE_RELOC_SIZE, KLP_SYM_PREFIX } from './constants.js';
import { hex, type Annotation, type Problem } from './convert-types.js';
import { kernelModuleName } from './modname.js';

export interface Annotations {
  /** symbol index -> its annotation */
  bySymbol: Map<number, Annotation>;
  /** the annotation sections and their relocation sections (removed from the output) */
  sections: number[];
}

/** readAnnotations collects every KLP_SYMPOS annotation; malformed ones become problems. */
export function readAnnotations(ed: ElfEditor, symtab: number, file: string, problems: Problem[]): Annotations {
  const annotations = new Map<number, Annotation>();
  const annotationSecs: number[] = [];
  const syms = ed.symbols;
  const littleEndian = ed.elf.header.littleEndian;
  ed.sections.forEach((s, i) => {
    if (!s.name.startsWith(KLP_MODULE_RELOCS_PREFIX)) return;
    annotationSecs.push(i);
    const objRaw = s.name.slice(KLP_MODULE_RELOCS_PREFIX.length);
    const object = objRaw === 'vmlinux' ? objRaw : kernelModuleName(objRaw);
    const data = ed.sectionData(i);
    if (data.length % KLP_MODULE_RELOC_SIZE !== 0) {
      problems.push({ code: 'ANNOTATION_SIZE', message: `${file}: ${s.name}: size ${data.length} is not a multiple of ${KLP_MODULE_RELOC_SIZE} (struct klp_module_reloc); rebuild with klp_convert.h` });
      return;
    }
    const n = data.length / KLP_MODULE_RELOC_SIZE;
    const seen = new Set<number>();
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    ed.sections.forEach((r, ri) => {
      if ((r.sh_type !== SHT_RELA && r.sh_type !== SHT_REL) || r.sh_info !== i || r.sh_link !== symtab) return;
      annotationSecs.push(ri);
      for (const rel of ed.relocations(ri)) {
        const where = `${r.name}+${hex(rel.offset)}`;
        if (rel.offset % BigInt(KLP_MODULE_RELOC_SIZE) !== 0n || rel.offset >= BigInt(data.length)) {
          problems.push({ code: 'ANNOTATION_OFFSET', message: `${file}: ${where}: relocation does not start a ${KLP_MODULE_RELOC_SIZE}-byte klp_module_reloc entry of ${s.name}` });
          continue;
        }
        const idx = Number(rel.offset) / KLP_MODULE_RELOC_SIZE;
        seen.add(idx);
        const pos = view.getUint32(idx * KLP_MODULE_RELOC_SIZE + 8, littleEndian);
        const sym = syms[rel.sym]!;
        const prev = annotations.get(rel.sym);
        if (prev && (prev.object !== object || prev.pos !== pos)) {
          problems.push({ code: 'ANNOTATION_CONFLICT', message: `${file}: ${where}: conflicting annotations for '${sym.name}': ${prev.object},${prev.pos} (${prev.where}) vs ${object},${pos}; keep one KLP_SYMPOS for it` });
          continue;
        }
        if (sym.shndx !== SHN_UNDEF) {
          problems.push({ code: 'ANNOTATION_DEFINED', message: `${file}: ${where}: annotated symbol '${sym.name}' is defined in the livepatch itself; annotate only external (extern) symbols` });
          continue;
        }
        if (!prev) annotations.set(rel.sym, { object, pos, where, used: false });
      }
    });
    for (let k = 0; k < n; k++) {
      if (!seen.has(k)) problems.push({ code: 'ANNOTATION_NO_SYMBOL', message: `${file}: ${s.name}+${hex(k * KLP_MODULE_RELOC_SIZE)}: entry ${k} has no symbol relocation (KLP_SYMPOS needs the address of an extern symbol)` });
    }
  });
  return { bySymbol: annotations, sections: annotationSecs };
}

export interface NeedsContext {
  annotations: ReadonlyMap<number, Annotation>;
  /** names a rule resolves (an explicit request, like an annotation) */
  ruleNames: ReadonlySet<string>;
  /** undefined: exports are unknown (no map, no Module.symvers): only explicit requests convert */
  isExported: ((name: string) => boolean) | undefined;
}

/** conversionNeeds returns the predicate "symbol i needs a klp relocation". */
export function conversionNeeds(ed: ElfEditor, ctx: NeedsContext): (i: number) => boolean {
  const syms = ed.symbols;
  const machine = ed.elf.header.e_machine;
  const klpNamed = (n: string): boolean => n.startsWith(KLP_SYM_PREFIX) && !n.startsWith(KLP_MINIMAL_PREFIX);
  return (i: number): boolean => {
    const s = syms[i]!;
    if (i === 0 || s.shndx !== SHN_UNDEF || s.name === '') return false;
    // explicit requests win over the export check: the user asked for a klp relocation
    if (s.name.startsWith(KLP_MINIMAL_PREFIX) || ctx.annotations.has(i) || ctx.ruleNames.has(s.name)) return true;
    if (klpNamed(s.name)) return false;
    if (s.name === '.TOC.' && machine === EM_PPC64) return false; // ppc64 TOC base, resolved by the module loader
    if (s.name === '_GLOBAL_OFFSET_TABLE_') return false;
    if (ctx.isExported === undefined) return false;
    return !ctx.isExported(s.name);
  };
}
