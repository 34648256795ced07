/**
 * convertModule: turn a livepatch module's relocations against unexported symbols into klp
 * relocations.
 *
 * Pipeline: kernel build -> symbols.klp -> module link (foo.tmp.ko) -> here -> foo.ko -> load.
 *
 * The stages, one file each, pass plain data (convert-types.ts):
 *  1. what the module asks for (convert-requests.ts): v7 annotations, and which undefined symbols
 *     need a klp relocation;
 *  2. resolution (convert-resolve.ts): object and position per symbol, an ordered list of steps
 *     (minimal name, annotation, rule, map); ambiguity is an error with candidates and fixes;
 *  3. placement (convert-place.ts): which relocations move to which .klp.rela.<obj>.<sec>;
 *  4. edit (convert-edit.ts): move, rename, drop annotation and emptied sections;
 *  5. verify (convert-verify.ts): the checker of `klp-convert check` on the output (the CLI runs
 *     it before writing).
 * A klp-build pre-post-link module (`__klp_relocs.<obj>` tables) is the other input form
 * (convert-klp-build.ts): klp-build has resolved everything, so stages 1-3 are its tables.
 * Every stage collects problems; the first stage with problems stops the conversion, and all of
 * its problems are reported together.
 */
import { ElfEditor, ElfFile } from '../elf/index.js';
import { conversionNeeds, readAnnotations } from './convert-requests.js';
import { Resolver, type ResolutionStep } from './convert-resolve.js';
import { placeRelocations } from './convert-place.js';
import { dropSections, moveRelocations } from './convert-edit.js';
import type { Problem, Resolution } from './convert-types.js';
import { KlpError, problemsError } from './errors.js';
import { kernelLimits, moduleHeaderProblem } from './kernel-rules.js';
import { machineRefusal } from './arch-rules.js';
import { hasLivepatchTag } from './modinfo.js';
import { convertKlpBuildModule, isKlpBuildModule } from './convert-klp-build.js';
import type { ResolveRule } from './rules.js';
import type { SymbolMap } from './symbol-map.js';

export { suggestions } from './convert-resolve.js';
export type { Resolution } from './convert-types.js';

export interface ConvertOptions {
  /** the input's name in messages */
  file: string;
  map?: SymbolMap | undefined;
  /** exported names (Module.symvers); overrides the map's export information */
  symvers?: ReadonlyMap<string, string> | undefined;
  rules?: readonly ResolveRule[] | undefined;
  /** target kernel version "X.Y" (limits symbol names to 127 characters before 6.1) */
  kernelVersion?: string | undefined;
  /** accept a module without the livepatch modinfo tag */
  allowUntagged?: boolean | undefined;
  /** resolution steps to use instead of the default order (RESOLUTION_STEPS) */
  resolutionSteps?: readonly ResolutionStep[] | undefined;
}

export interface ConvertedSymbol {
  name: string;
  object: string;
  pos: number;
  klpName: string;
  via: Resolution;
  relocations: { section: string; klpSection: string; offset: string; type: string }[];
}

export interface ConvertResult {
  bytes: Uint8Array;
  converted: ConvertedSymbol[];
  klpSections: string[];
  removedSections: string[];
  warnings: string[];
  /** false when the input needed nothing (already converted, or nothing unexported) */
  changed: boolean;
  /** the input form: a module linked for conversion, or klp-build's pre-post-link module */
  form: 'module' | 'klp-build';
}

export function convertModule(elf: ElfFile, opts: ConvertOptions): ConvertResult {
  const file = opts.file;
  const h = elf.header;
  const header = moduleHeaderProblem(h);
  if (header !== undefined) throw new KlpError(header.code, `${file}: ${header.message}`);
  const machine = machineRefusal(h.e_machine);
  if (machine !== undefined) throw new KlpError('UNKNOWN_MACHINE', `${file}: ${machine}`);
  // klp-build's pre-post-link module: its __klp_relocs tables already say everything
  if (isKlpBuildModule(elf)) return convertKlpBuildModule(elf, { file, allowUntagged: opts.allowUntagged });
  const ed = new ElfEditor(elf);
  const symtab = ed.symtabIndex();
  if (symtab === undefined) throw new KlpError('NO_SYMTAB', `${file}: no symbol table; was the module stripped? convert before stripping`);
  if (!opts.allowUntagged && !hasLivepatchTag(elf)) {
    throw new KlpError('NOT_LIVEPATCH', `${file}: .modinfo has no 'livepatch' key; add MODULE_INFO(livepatch, "Y") to the livepatch source (or pass --allow-untagged)`);
  }
  const problems: Problem[] = [];
  const warnings: string[] = [];

  // 1. what the module asks for
  const annotations = readAnnotations(ed, symtab, file, problems);
  const knowsExports = opts.symvers !== undefined || opts.map !== undefined;
  const isExported = (name: string): boolean => (opts.symvers ? opts.symvers.has(name) : opts.map?.isExported(name) ?? false);
  const needs = conversionNeeds(ed, {
    annotations: annotations.bySymbol,
    ruleNames: new Set((opts.rules ?? []).map((r) => r.name)),
    isExported: knowsExports ? isExported : undefined,
  });

  // 2. resolution, asked by 3. placement in relocation order
  const resolver = new Resolver({
    file, map: opts.map, rules: opts.rules, annotations: annotations.bySymbol, limits: kernelLimits(opts.kernelVersion), problems, warnings,
  }, opts.resolutionSteps);
  const placement = placeRelocations(ed, { file, symtab, skipSections: new Set(annotations.sections), needs, resolver, problems });
  // undefined, unexported symbols that no allocated relocation uses still break module loading
  // (the loader resolves every SHN_UNDEF symbol), so rename them too
  ed.symbols.forEach((s, i) => {
    if (!needs(i) || resolver.targets.has(i)) return;
    resolver.resolve({ index: i, name: s.name, bind: s.info >>> 4, where: `symbol '${s.name}'` });
  });
  for (const [i, a] of annotations.bySymbol) {
    if (!placement.refsBySym.has(i)) problems.push({ code: 'ANNOTATION_UNUSED', message: `${file}: ${a.where}: annotation for '${ed.symbols[i]!.name}' is not used by any relocation; remove it` });
  }
  for (const r of opts.rules ?? []) {
    if (!resolver.usedRules.has(r)) warnings.push(`${r.origin}: rule for '${r.name}' in '${r.object}' matched no undefined symbol of ${file}`);
  }
  if (problems.length > 0) throw problemsError(problems);

  // 4. edit
  const moved = moveRelocations(ed, placement.moves, resolver.targets);
  const removedSections = dropSections(ed, symtab, annotations.sections, moved.emptied, file, problems);
  if (problems.length > 0) throw problemsError(problems);

  const changed = moved.converted.size > 0 || removedSections.length > 0;
  const bytes = changed ? ed.write() : elf.rawBytes(0, elf.size).slice();
  return {
    bytes,
    converted: [...moved.converted.values()],
    klpSections: moved.created,
    removedSections,
    warnings,
    changed,
    form: 'module',
  };
}
