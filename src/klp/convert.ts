/**
 * convertModule: turn a livepatch module's relocations against unexported symbols into klp
 * relocations.
 *
 * Pipeline: kernel build -> symbols.klp -> module link (foo.tmp.ko) -> here -> foo.ko -> load.
 *
 * 1. Read v7 annotations (.klp.module_relocs.<obj>: 12-byte {address, u32 sympos} entries, the
 *    address carried by a relocation against the annotated symbol), paired by r_offset / 12.
 * 2. Decide which undefined symbols need conversion: minimal-form names
 *    (.klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>), annotated symbols, and, with a map or
 *    Module.symvers, every undefined symbol that is not exported.
 * 3. Resolve object and position for each: minimal name, annotation, rules file (pos= or
 *    file=), else the map (the extended map gives the kernel's own order; the 0.1 map only
 *    tells a name that is unique across the whole kernel). Ambiguity is an error that lists the
 *    candidates and ready-to-paste fixes; we never guess.
 * 4. Move each relocation against a converted symbol from its .rela<sec> to
 *    .klp.rela.<obj><sec> (SHT_RELA, SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH), where <obj> is
 *    the object whose load gates it. The original entry is removed (not made NONE: removal keeps
 *    the module loader from ever applying it, and an emptied .rela<sec> is dropped so binutils
 *    sees at most one ordinary relocation section per base section).
 * 5. Rename each converted symbol to .klp.sym.<obj>.<name>,<pos> with st_shndx = SHN_LIVEPATCH;
 *    binding and type are kept, so no symbol index moves.
 * 6. Drop the annotation sections, their relocations and the symbols defined in them.
 */
import {
  ElfEditor, ElfFile, EM_PPC64, EM_RISCV, ET_REL, SHF_ALLOC, SHF_INFO_LINK, SHN_UNDEF, SHT_REL, SHT_RELA, STB_WEAK,
  STT_SECTION, hasFlag, relocTypeName, stbName, sttName,
} from '../elf/index.js';
import {
  KLP_MINIMAL_PREFIX, KLP_MODULE_RELOCS_PREFIX, KLP_MODULE_RELOC_SIZE, KLP_OBJNAME_MAX, KLP_RELA_PREFIX, KLP_SYM_PREFIX,
  SHF_RELA_LIVEPATCH, SHN_LIVEPATCH,
} from './constants.js';
import { KlpError } from './errors.js';
import { klpRelaName, klpSymName, parseMinimalName, symbolNameLimit } from './klpname.js';
import { kernelModuleName } from './modname.js';
import type { ResolveRule } from './rules.js';
import { checkBaseSection } from './sections.js';
import { pickByFile, shortestFileName } from './source-paths.js';
import { hasLivepatchTag } from './modinfo.js';
import type { SymbolCandidate, SymbolMap } from './symbol-map.js';
import { symbollessMapHint } from './vmlinux-symbols.js';

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
}

export type Resolution = 'minimal' | 'annotation' | 'rule-pos' | 'rule-file' | 'map-unique';

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
}

interface Annotation {
  object: string;
  pos: number;
  where: string;
  used: boolean;
}

interface Target {
  symObject: string;
  /** object whose load gates the relocation: names the .klp.rela section */
  relaObject: string;
  name: string;
  pos: number;
  via: Resolution;
}

interface Problem {
  code: string;
  message: string;
  detail?: string;
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

export function convertModule(elf: ElfFile, opts: ConvertOptions): ConvertResult {
  const file = opts.file;
  const h = elf.header;
  if (h.e_type !== ET_REL) {
    throw new KlpError('NOT_RELOCATABLE', `${file}: not a relocatable module (e_type ${h.e_type}); convert the linked .ko (or foo.tmp.ko), not vmlinux or an executable`);
  }
  const ed = new ElfEditor(elf);
  const symtab = ed.symtabIndex();
  if (symtab === undefined) throw new KlpError('NO_SYMTAB', `${file}: no symbol table; was the module stripped? convert before stripping`);
  if (!opts.allowUntagged && !hasLivepatchTag(elf)) {
    throw new KlpError('NOT_LIVEPATCH', `${file}: .modinfo has no 'livepatch' key; add MODULE_INFO(livepatch, "Y") to the livepatch source (or pass --allow-untagged)`);
  }
  const symMax = symbolNameLimit(opts.kernelVersion);
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const syms = ed.symbols;

  // ---- 1. annotations ---------------------------------------------------------------------
  const annotations = new Map<number, Annotation>();
  const annotationSecs: number[] = [];
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
        const pos = view.getUint32(idx * KLP_MODULE_RELOC_SIZE + 8, h.littleEndian);
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
  const annotationSet = new Set(annotationSecs);

  // ---- 2./3. which symbols, resolved where ------------------------------------------------
  const exported = (name: string): boolean => (opts.symvers ? opts.symvers.has(name) : opts.map?.isExported(name) ?? false);
  const knowsExports = opts.symvers !== undefined || opts.map !== undefined;
  const targets = new Map<number, Target | null>();
  const rulesByName = new Map<string, ResolveRule[]>();
  for (const r of opts.rules ?? []) {
    const l = rulesByName.get(r.name) ?? [];
    l.push(r);
    rulesByName.set(r.name, l);
  }
  const usedRules = new Set<ResolveRule>();

  const resolve = (i: number, where: string): Target | null => {
    const cached = targets.get(i);
    if (cached !== undefined) return cached;
    const t = resolveSymbol(i, where);
    targets.set(i, t);
    return t;
  };

  const resolveSymbol = (i: number, where: string): Target | null => {
    const sym = syms[i]!;
    const name = sym.name;
    const fail = (code: string, message: string, detail?: string): null => {
      problems.push(detail === undefined ? { code, message: `${file}: ${where}: ${message}` } : { code, message: `${file}: ${where}: ${message}`, detail });
      return null;
    };
    const checkNames = (t: Target): Target | null => {
      for (const o of [t.symObject, t.relaObject]) {
        if (o.length === 0 || o.length > KLP_OBJNAME_MAX || o.includes('.')) {
          return fail('BAD_OBJECT_NAME', `object name '${o}' for '${name}' is not a kernel module name (1-${KLP_OBJNAME_MAX} characters, no '.')`);
        }
      }
      if (t.name.length > symMax) return fail('NAME_TOO_LONG', `symbol name '${t.name}' has ${t.name.length} characters; the target kernel accepts at most ${symMax}`);
      if (t.name.includes(',')) return fail('NAME_HAS_COMMA', `symbol name '${t.name}' contains ',', which the kernel's .klp.sym parser cannot read`);
      if (opts.map?.format === 'ext') initCaveat(t, where);
      return t;
    };
    // minimal scheme: the name says it all
    if (name.startsWith(KLP_MINIMAL_PREFIX)) {
      const m = parseMinimalName(name);
      if (!m) return fail('BAD_MINIMAL_NAME', `'${name}' is not of the form .klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>`);
      const symObject = m.symObject === 'vmlinux' ? 'vmlinux' : kernelModuleName(m.symObject);
      let relaObject = m.lpObject === 'vmlinux' ? 'vmlinux' : kernelModuleName(m.lpObject);
      if (symObject === 'vmlinux' && relaObject !== 'vmlinux') {
        // the kernel refuses vmlinux symbols in module-specific sections (5.8+)
        warnings.push(`${file}: ${where}: '${name}': vmlinux symbol named for object '${relaObject}'; using .klp.rela.vmlinux (the kernel rejects vmlinux symbols in module sections)`);
        relaObject = 'vmlinux';
      }
      const chk = checkPosition(symObject, m.name, m.pos);
      if (chk) return fail(chk.code, chk.message, chk.detail);
      return checkNames({ symObject, relaObject, name: m.name, pos: m.pos, via: 'minimal' });
    }
    const ann = annotations.get(i);
    if (ann) {
      ann.used = true;
      const chk = checkPosition(ann.object, name, ann.pos);
      if (chk) return fail(chk.code, chk.message, chk.detail);
      return checkNames({ symObject: ann.object, relaObject: ann.object, name, pos: ann.pos, via: 'annotation' });
    }
    const rules = rulesByName.get(name);
    if (rules && rules.length > 0) {
      if (rules.length > 1) return fail('RULE_AMBIGUOUS', `'${name}' has rules for several objects (${rules.map((r) => `${r.object} at ${r.origin}`).join(', ')}); keep one`);
      const r = rules[0]!;
      usedRules.add(r);
      if (r.pos !== undefined) {
        const chk = checkPosition(r.object, name, r.pos);
        if (chk) return fail(chk.code, `${chk.message} (rule at ${r.origin})`, chk.detail);
        return checkNames({ symObject: r.object, relaObject: r.object, name, pos: r.pos, via: 'rule-pos' });
      }
      if (!opts.map || opts.map.format !== 'ext') {
        return fail('RULE_NEEDS_EXT_MAP', `rule '${r.object} ${name} file=${r.file}' (${r.origin}) needs the extended map, which records source files; generate it with 'klp-convert symbols --format ext'`);
      }
      const inObj = candidatesIn(r.object, name);
      const { matches: byFile, weak } = pickByFile(inObj, r.file!);
      if (byFile.length !== 1) {
        return fail(byFile.length === 0 ? 'RULE_FILE_NO_MATCH' : 'RULE_FILE_AMBIGUOUS',
          `rule '${r.object} ${name} file=${r.file}' (${r.origin}) matches ${byFile.length} symbols`, suggestions(name, inObj.length ? inObj : candidatesAll(name)));
      }
      const c = byFile[0]!;
      if (weak) {
        warnings.push(`${file}: ${where}: rule '${r.object} ${name} file=${r.file}' (${r.origin}): the map records only the file name '${c.file}' for this symbol, so its directory was not checked; regenerate the map with 'klp-convert symbols --format ext' from a debug vmlinux or a build tree with its objects to record paths`);
      }
      return checkNames({ symObject: r.object, relaObject: r.object, name, pos: c.count > 1 ? c.pos : 0, via: 'rule-file' });
    }
    if (!opts.map) return null; // no map: only explicit conversions
    const all = candidatesAll(name);
    if (all.length === 0) {
      if ((sym.info >>> 4) === STB_WEAK) {
        warnings.push(`${file}: ${where}: weak undefined symbol '${name}' is in no object of the map; left undefined (it resolves to 0)`);
        return null;
      }
      return fail('SYMBOL_NOT_FOUND', `symbol '${name}' is not exported and not in ${opts.map.path}; ${symbollessMapHint(opts.map) ?? 'check the name, or regenerate the map from the kernel this patch is for'}`);
    }
    const objects = [...new Set(all.map((c) => c.object))];
    if (opts.map.format === 'ext') {
      if (objects.length === 1 && all[0]!.count === 1) {
        const c = all[0]!;
        return checkNames({ symObject: c.object, relaObject: c.object, name, pos: 0, via: 'map-unique' });
      }
      const why = objects.length === 1
        ? `symbol '${name}' is ambiguous: ${all[0]!.count} definitions in ${objects[0]}`
        : `symbol '${name}' is ambiguous: defined in ${objects.length} objects (${objects.join(', ')})`;
      return fail('AMBIGUOUS', `${why}; name the one you mean`, suggestions(name, all));
    }
    // 0.1 map (v7 rule): unique across the whole map, or the user decides
    if (all.length === 1) return checkNames({ symObject: all[0]!.object, relaObject: all[0]!.object, name, pos: 0, via: 'map-unique' });
    return fail('AMBIGUOUS', `symbol '${name}' is ambiguous: ${all.length} entries in ${opts.map.path} (${objects.join(', ')}); name the one you mean`, suggestions(name, all));
  };

  /**
   * initCaveat warns about init sections (livepatch-elf-abi.md §5.2): init memory is freed after
   * initialisation, and while a module is still loading the kernel also counts its init symbols,
   * so a same-named init symbol before the target shifts the position between late patching
   * (module loading) and a live module.
   */
  const initCaveat = (t: Target, where: string): void => {
    const inObj = candidatesIn(t.symObject, t.name);
    const target = t.pos > 0 ? inObj.find((c) => c.pos === t.pos) : inObj.length === 1 ? inObj[0] : undefined;
    if (target?.init) {
      warnings.push(`${file}: ${where}: '${t.name}' in ${t.symObject} lives in an init section; that memory is freed once ${t.symObject === 'vmlinux' ? 'the kernel has booted' : 'the module has initialised'}`);
    } else if (t.symObject !== 'vmlinux' && target && inObj.some((c) => c.init && c.pos < target.pos)) {
      warnings.push(`${file}: ${where}: position ${t.pos} of '${t.name}' in ${t.symObject} counts a same-named symbol in an init section, which the kernel counts only while ${t.symObject} is loading: the relocation resolves when the patch is applied to a loading module, but not to a live one; rename the init symbol if you can`);
    }
  };
  const candidatesAll = (name: string): SymbolCandidate[] => (opts.map ? opts.map.lookup(name).filter((c) => c.count > 0) : []);
  const candidatesIn = (object: string, name: string): SymbolCandidate[] => candidatesAll(name).filter((c) => c.object === object);

  /** checkPosition validates a user-given position against the map, where the map can tell. */
  const checkPosition = (object: string, name: string, pos: number): Problem | undefined => {
    if (!opts.map) return undefined;
    const inObj = candidatesIn(object, name);
    if (inObj.length === 0) {
      return { code: 'POSITION_NO_SYMBOL', message: `no symbol '${name}' in object '${object}' of ${opts.map.path}`, detail: suggestions(name, candidatesAll(name)) };
    }
    const count = opts.map.format === 'ext' ? inObj[0]!.count : inObj.length;
    if (pos === 0 && count > 1) {
      return { code: 'POSITION_ZERO_AMBIGUOUS', message: `position 0 for '${name}' in '${object}', but ${count} symbols share that name (the kernel would report an unresolvable ambiguity)`, detail: suggestions(name, inObj) };
    }
    if (pos > count) {
      return { code: 'POSITION_TOO_LARGE', message: `position ${pos} for '${name}' in '${object}', but only ${count} symbol(s) of that name exist`, detail: suggestions(name, inObj) };
    }
    return undefined;
  };

  // walk every relocation section
  interface Move { relSec: number; base: number; entry: number; target: Target; sym: number }
  const moves: Move[] = [];
  const refsBySym = new Map<number, number>();
  const klpNamed = (n: string): boolean => n.startsWith(KLP_SYM_PREFIX) && !n.startsWith(KLP_MINIMAL_PREFIX);
  const needs = (i: number): boolean => {
    const s = syms[i]!;
    if (i === 0 || s.shndx !== SHN_UNDEF || s.name === '') return false;
    // explicit requests win over the export check: the user asked for a klp relocation
    if (s.name.startsWith(KLP_MINIMAL_PREFIX) || annotations.has(i) || rulesByName.has(s.name)) return true;
    if (klpNamed(s.name)) return false;
    if (s.name === '.TOC.' && h.e_machine === EM_PPC64) return false; // ppc64 TOC base, resolved by the module loader
    if (s.name === '_GLOBAL_OFFSET_TABLE_') return false;
    if (!knowsExports) return false;
    return !exported(s.name);
  };
  ed.sections.forEach((s, ri) => {
    if ((s.sh_type !== SHT_RELA && s.sh_type !== SHT_REL) || s.sh_link !== symtab) return;
    if (s.name.startsWith(KLP_RELA_PREFIX) || hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH) || annotationSet.has(ri)) return;
    const base = ed.sections[s.sh_info];
    if (!base) return;
    const list = ed.relocations(ri);
    list.forEach((rel, k) => {
      if (!needs(rel.sym)) return;
      refsBySym.set(rel.sym, (refsBySym.get(rel.sym) ?? 0) + 1);
      const baseName = base.name;
      const where = `${baseName}+${hex(rel.offset)}`;
      // the kernel never applies relocations whose target is not allocated; leave them alone
      if (!hasFlag(base.sh_flags, SHF_ALLOC)) return;
      const t = resolve(rel.sym, where);
      if (t === null) return;
      if (s.sh_type === SHT_REL) {
        problems.push({ code: 'REL_SECTION', message: `${file}: ${where}: '${s.name}' is SHT_REL; klp relocations are read as Elf_Rela, so implicit-addend (REL) relocations cannot be converted (this architecture has no livepatch support)` });
        return;
      }
      if (h.e_machine === EM_RISCV) {
        problems.push({ code: 'RISCV_UNSUPPORTED', message: `${file}: ${where}: ${relocTypeName(h.e_machine, rel.type)} against '${syms[rel.sym]!.name}': riscv PCREL_HI20/LO12 pairs cannot be split into klp relocations (and riscv has no upstream livepatch support)` });
        return;
      }
      const v = checkBaseSection(baseName, t.relaObject === 'vmlinux' && t.symObject === 'vmlinux' ? 'vmlinux' : t.symObject);
      if (!v.ok) {
        problems.push({ code: v.code!, message: `${file}: ${where}: cannot convert reference to '${syms[rel.sym]!.name}' (${t.symObject}): ${v.why}; ${v.hint}` });
        return;
      }
      moves.push({ relSec: ri, base: s.sh_info, entry: k, target: t, sym: rel.sym });
    });
  });
  // undefined, unexported symbols that no allocated relocation uses still break module loading
  // (the loader resolves every SHN_UNDEF symbol), so rename them too
  syms.forEach((s, i) => {
    if (!needs(i) || targets.has(i)) return;
    resolve(i, `symbol '${s.name}'`);
  });
  for (const [i, a] of annotations) {
    if (!refsBySym.has(i)) problems.push({ code: 'ANNOTATION_UNUSED', message: `${file}: ${a.where}: annotation for '${syms[i]!.name}' is not used by any relocation; remove it` });
  }
  for (const r of opts.rules ?? []) {
    if (!usedRules.has(r)) warnings.push(`${r.origin}: rule for '${r.name}' in '${r.object}' matched no undefined symbol of ${file}`);
  }
  if (problems.length > 0) throw aggregate(problems);

  // ---- 4. move relocations ------------------------------------------------------------------
  const klpSecByName = new Map<string, number>();
  ed.sections.forEach((s, i) => {
    if (s.name.startsWith(KLP_RELA_PREFIX)) klpSecByName.set(s.name, i);
  });
  const created: string[] = [];
  const drop = new Map<number, Set<number>>();
  const converted = new Map<number, ConvertedSymbol>();
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
    const c = convertedFor(m.sym, m.target);
    c.relocations.push({ section: base.name, klpSection: name, offset: hex(rel.offset), type: relocTypeName(h.e_machine, rel.type) });
  }
  function convertedFor(i: number, t: Target): ConvertedSymbol {
    let c = converted.get(i);
    if (!c) {
      c = { name: syms[i]!.name, object: t.symObject, pos: t.pos, klpName: klpSymName(t.symObject, t.name, t.pos), via: t.via, relocations: [] };
      converted.set(i, c);
    }
    return c;
  }
  const emptied: number[] = [];
  for (const [ri, entries] of drop) {
    const list = ed.relocations(ri);
    const kept = list.filter((_, k) => !entries.has(k));
    list.length = 0;
    list.push(...kept);
    if (kept.length === 0) emptied.push(ri);
  }

  // ---- 5. rename symbols ---------------------------------------------------------------------
  for (const [i, t] of targets) {
    if (t === null) continue;
    const c = convertedFor(i, t);
    ed.renameSymbol(i, c.klpName);
    ed.setSymbolShndx(i, SHN_LIVEPATCH);
  }

  // ---- 6. drop annotations and emptied relocation sections ------------------------------------
  // A section can go only if nothing that stays refers to it: no symbol but its section symbol
  // is defined there, and no remaining relocation names a symbol that goes with it.
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
  const emptiedSet = new Set(emptied);
  const definedInEmptied = symbolsIn(emptiedSet, false);
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
        problems.push({ code: 'ANNOTATION_REFERENCED', message: `${file}: ${ed.sections[sec.sh_info]?.name ?? sec.name}+${hex(rel.offset)}: relocation refers to '${syms[rel.sym]!.name || ed.sections[target]!.name}' in annotation section '${ed.sections[target]!.name}', which the conversion removes; annotations may only be read by klp-convert` });
      } else {
        removeSecs.delete(target); // keep an emptied section whose section symbol is still used
      }
    }
  });
  for (const ref of ed.referencedSections(removeSecs)) {
    if (!removeSecs.has(ref)) continue;
    if (annSet.has(ref)) {
      problems.push({ code: 'ANNOTATION_REFERENCED', message: `${file}: a section that stays refers to annotation section '${ed.sections[ref]!.name}' (sh_link or sh_info), which the conversion removes` });
    } else {
      removeSecs.delete(ref);
    }
  }
  if (problems.length > 0) throw aggregate(problems);
  const removedNames = [...removeSecs].sort((a, b) => a - b).map((i) => ed.sections[i]!.name);
  if (removeSecs.size > 0) {
    for (const i of removeSecs) {
      const sec = ed.sections[i]!;
      if (sec.sh_type === SHT_RELA || sec.sh_type === SHT_REL) ed.relocations(i).length = 0;
    }
    ed.removeSymbols([...symbolsIn(removeSecs, false)]);
    ed.removeSections(removeSecs);
  }

  const changed = converted.size > 0 || removeSecs.size > 0;
  const bytes = changed ? ed.write() : elf.rawBytes(0, elf.size).slice();
  return {
    bytes,
    converted: [...converted.values()],
    klpSections: created,
    removedSections: removedNames,
    warnings,
    changed,
  };
}


/** suggestions prints every candidate and ready-to-paste fixes in each supported form. */
export function suggestions(name: string, cands: readonly SymbolCandidate[]): string {
  if (cands.length === 0) return '';
  const lines: string[] = ['  candidates (position as the kernel counts it):'];
  const rows = cands.map((c) => {
    const pos = c.pos > 0 ? String(c.pos) : c.count === 1 ? '0 (unique)' : '?';
    const extra = [c.file ? `file ${c.file}` : '', c.bind !== undefined ? stbName(c.bind) : '', c.type !== undefined ? sttName(c.type) : '', c.init ? 'init section' : '']
      .filter(Boolean).join(', ');
    return `    ${c.object}  pos ${pos}${extra ? `  (${extra})` : ''}`;
  });
  lines.push(...rows);
  const pick = cands.filter((c) => c.pos > 0 || c.count === 1);
  if (pick.length > 0) {
    lines.push('  fix it in one of these forms (pick the line of the symbol you mean):');
    lines.push('    rules file for --resolve:');
    for (const c of pick) {
      const pos = c.count === 1 ? 0 : c.pos;
      const byName = shortestFileName(c, cands.filter((d) => d.object === c.object));
      lines.push(`      ${c.object} ${name} ${byName !== undefined ? `file=${byName}` : `pos=${pos}`}`);
    }
    lines.push('    annotation in the livepatch source (#include "klp_convert.h"):');
    for (const c of pick) lines.push(`      KLP_MODULE_RELOC(${c.object}) ${c.object}_relocs[] = { KLP_SYMPOS(${name}, ${c.count === 1 ? 0 : c.pos}) };`);
    lines.push('    assembler name on the extern declaration (minimal scheme; the inner quotes keep gas from splitting at the comma):');
    for (const c of pick) {
      // lp_obj (the object whose load gates the relocation) is the symbol's own object here
      lines.push(`      __asm__("\\"${KLP_MINIMAL_PREFIX}${c.object}.${c.object}.${name},${c.count === 1 ? 0 : c.pos}\\"")`);
    }
  } else {
    lines.push(`  the 0.1 map has no positions; regenerate it with 'klp-convert symbols --format ext' to get them, or annotate with KLP_SYMPOS(${name}, <n>) (n from 1, in the kernel's order)`);
  }
  return lines.join('\n');
}

function aggregate(problems: Problem[]): KlpError {
  const [first, ...rest] = problems;
  const detail: string[] = [];
  if (first!.detail) detail.push(first!.detail);
  for (const p of rest) {
    detail.push(`klp-convert: error: ${p.message}`);
    if (p.detail) detail.push(p.detail);
  }
  if (problems.length > 1) detail.push(`klp-convert: ${problems.length} errors; no output written`);
  return new KlpError(first!.code, first!.message, detail.length ? detail.join('\n') : undefined, problems.map((p) => p.code));
}
