/**
 * checkAgainstTarget decides offline what the kernel will do with a livepatch module on one
 * target kernel (target.ts), walking the same steps in the same order as the kernel, so the first
 * failure found is the one the kernel reports, in its own words (kernel-rules.ts):
 *
 *  1. insmod of the patch: every SHN_UNDEF symbol must be an export ("Unknown symbol");
 *     apply_relocations() scans the name of every SHF_RELA_LIVEPATCH section and resolves the
 *     `.klp.rela.vmlinux.*` ones (klp_apply_section_relocs(..., NULL));
 *  2. its init, klp_enable_patch(): for each klp_object in order, each klp_func's old_name must
 *     fit KSYM_NAME_LEN; an object that is loaded gets its module-specific klp sections applied
 *     (module objects only) and each old_name looked up (klp_init_object_loaded());
 *  3. a module object loaded after the patch: the same klp_init_object_loaded() from
 *     klp_module_coming(); a failure refuses that module ("patch ... failed for module ...").
 *
 * Positions follow klp_find_object_symbol(): vmlinux counts kallsyms order, a module its symtab
 * order over defined symbols, init symbols included only while it is still loading. A build tree,
 * a debug package or a map says nothing about load order, so both orders are decided: the module
 * objects loaded first (step 2 applies them), and each loaded after the patch (step 3).
 *
 * Sections the kernel never applies are silent in dmesg but fatal in use: a `.klp.rela.<obj>.*`
 * whose <obj> the patch does not declare (declaredObjectFindings) leaves its sites unrelocated.
 */
import { ElfFile, EM_AARCH64, SHN_UNDEF, STB_WEAK, hasFlag } from '../elf/index.js';
import { KLP_SYM_PREFIX, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from './constants.js';
import {
  checkBaseSection, kernelLimits, kernelSays, parseKlpSymName, positionMessage, positionOutcome, scanKlpRelaObject,
  vmlinuxInModuleSection, type KernelLimits,
} from './kernel-rules.js';
import { kernelModuleName } from './modname.js';
import type { PatchTables } from './patch-tables.js';
import type { SymbolCandidate } from './symbol-map.js';
import type { KernelTarget } from './target.js';
import type { Finding } from './validate.js';

export interface CandidateRow {
  object: string;
  pos: number;
  count: number;
  file?: string | undefined;
  init?: boolean | undefined;
}

export interface TargetFinding {
  severity: 'error' | 'warning' | 'info';
  code: string;
  /** what is wrong and what to do */
  message: string;
  /** the line the kernel prints for it (dmesg, without the "livepatch: " prefix), when it prints one */
  kernel?: string;
  /** which load fails: the patch's insmod, or the named module's load after the patch */
  fails?: string;
  candidates?: CandidateRow[];
  /** KLP_SYM_BINDS/KLP_SYM_INIT: which symbol a klp symbol binds */
  binds?: { klpSymbol: string; object: string; pos: number; count: number; file?: string | undefined };
  /** found by the module-level rules (validate.ts): the same on every target */
  anyTarget?: boolean;
}

export interface LoadOutcome {
  loads: boolean;
  /** the kernel's message of the first failure */
  kernel?: string | undefined;
  /** our finding for it */
  reason?: string | undefined;
}

export interface TargetVerdict {
  module: string;
  target: string;
  /** loads and binds on this target in every load order */
  ok: boolean;
  /** the livepatch loaded after every module object the target has (for a live target: the loaded ones) */
  patchLoad: LoadOutcome;
  /** the livepatch loaded before any module object (not decided for a live target) */
  patchFirst?: LoadOutcome | undefined;
  /** each module object loaded after the patch */
  lateLoads: (LoadOutcome & { module: string })[];
  findings: TargetFinding[];
}

interface KlpSection {
  index: number;
  name: string;
  base: string;
  object?: string | undefined;
  truncated: boolean;
  entries: { sym: number; offset: bigint }[];
}

/** The module's livepatch parts, read once and checked against any number of targets. */
export interface PatchModule {
  file: string;
  /** mod->name */
  name: string;
  elf: ElfFile;
  tables: PatchTables;
  sections: KlpSection[];
  /** names the checks ask targets about */
  names: Set<string>;
  /** objects the module names (klp sections, klp symbols, klp_objects) */
  objects: Set<string>;
}

export function readPatchModule(elf: ElfFile, tables: PatchTables): PatchModule {
  const st = elf.symtabIndex();
  const names = new Set<string>();
  const objects = new Set<string>();
  const sections: KlpSection[] = [];
  if (st !== undefined) {
    const syms = elf.symbols(st);
    for (let i = 1; i < syms.count; i++) {
      const n = syms.name(i);
      if (syms.shndx[i] === SHN_LIVEPATCH) {
        const p = parseKlpSymName(n);
        if (p) { names.add(p.name); objects.add(p.object); }
      } else if (syms.shndx[i] === SHN_UNDEF && n !== '') {
        names.add(n);
        names.add('__ksymtab_' + n);
      }
    }
    for (const s of elf.sections) {
      if (!hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH)) continue;
      const scan = scanKlpRelaObject(s.name);
      if (scan && !scan.truncated) objects.add(scan.object);
      const r = elf.relocations(s.index);
      const entries = [];
      for (let k = 0; k < r.count; k++) entries.push({ sym: r.sym(k), offset: r.offset(k) });
      sections.push({ index: s.index, name: s.name, base: elf.sections[s.sh_info]?.name ?? `#${s.sh_info}`, object: scan?.object, truncated: scan?.truncated ?? false, entries });
    }
  }
  for (const o of tables.objects) {
    objects.add(o.name);
    for (const f of o.funcs) names.add(f.oldName);
  }
  return { file: elf.file, name: moduleName(elf), elf, tables, sections, names, objects };
}

/** moduleName is mod->name: modinfo `name=` (modpost writes it), else the file name in kernel form. */
function moduleName(elf: ElfFile): string {
  for (const s of elf.sections) {
    if (s.name !== '.modinfo') continue;
    const text = Buffer.from(elf.data(s.index)).toString('latin1');
    for (const kv of text.split('\0')) if (kv.startsWith('name=')) return kv.slice(5);
  }
  return kernelModuleName(elf.file);
}

/**
 * declaredObjectFindings: the checks that need no target. Every klp section must name an object
 * the patch declares, or the kernel never applies it (no message; the first use of the site
 * crashes); a vmlinux symbol in a module-specific section is refused when that object is applied.
 */
export function declaredObjectFindings(p: PatchModule): TargetFinding[] {
  const out: TargetFinding[] = [];
  for (const w of p.tables.problems) out.push({ severity: 'warning', code: 'KLP_TABLES_UNREADABLE', message: `${p.file}: ${w}` });
  if (p.tables.source === 'none') {  // neither struct klp_patch nor klp-build tables
    if (p.sections.length > 0) out.push({ severity: 'warning', code: 'KLP_NO_PATCH_TABLE', message: `${p.file}: no struct klp_patch found (klp_patch.mod relocated against __this_module); cannot tell which objects the patch declares` });
    return out;
  }
  const declared = new Set(p.tables.objects.map((o) => o.name));
  for (const s of p.sections) {
    if (s.object === undefined) continue;
    if (s.truncated) {
      out.push({ severity: 'error', code: 'KLP_SECTION_OBJECT_TOO_LONG', message: `${p.file}: section '${s.name}': the kernel reads at most 55 characters of the object name, so it matches no module and is never applied; its ${s.entries.length} relocation(s) stay unresolved and the first use crashes` });
    } else if (!declared.has(s.object)) {
      out.push({ severity: 'error', code: 'KLP_SECTION_UNDECLARED_OBJECT', message: `${p.file}: section '${s.name}' is for object '${s.object}', which is not one of the patch's klp_objects (${[...declared].join(', ') || 'none'}): the kernel never applies it (it prints nothing), the patch enables, and the first use of ${s.base} through an unrelocated site crashes; add a klp_object for '${s.object}' or move the relocations to a section of a declared object` });
    }
  }
  return out;
}

interface Sim {
  p: PatchModule;
  t: KernelTarget;
  limits: KernelLimits;
  /** the target's release, or --kernel-version */
  release: string | undefined;
  findings: TargetFinding[];
}

/**
 * checkAgainstTarget simulates both load orders of `p` on `t`. `moduleRules` are the findings of
 * validateKlpModule(..., { againstTarget: true }) for this target's limits: what the kernel
 * refuses whatever the target (no livepatch modinfo key, not ET_REL, no symbol table, ...) fails
 * the verdict as well (addModuleRules).
 */
export function checkAgainstTarget(p: PatchModule, t: KernelTarget, kernelVersion?: string, moduleRules: readonly Finding[] = []): TargetVerdict {
  const release = t.release ?? kernelVersion;
  const sim: Sim = { p, t, limits: kernelLimits(release), release, findings: [] };
  const moduleObjects = p.tables.objects.filter((o) => o.name !== 'vmlinux');
  for (const o of moduleObjects) {
    if (!t.hasObject(o.name)) {
      sim.findings.push(t.live
        ? { severity: 'warning', code: 'OBJECT_NOT_LOADED', message: `${p.file}: klp_object '${o.name}' is not loaded on ${t.label}; it is patched only when it loads, and its symbols cannot be checked here` }
        : { severity: 'error', code: 'OBJECT_NOT_IN_TARGET', message: `${p.file}: klp_object '${o.name}' is not a module of ${t.label}: its ${o.funcs.length} function(s) can never be patched; check the object name (kernel form, '-' -> '_')` });
    } else if (!t.live) {
      sim.findings.push({ severity: 'info', code: 'OBJECT_PATCHED_WHEN_LOADED', message: `${p.file}: klp_object '${o.name}' is a module: it is patched when the patch is enabled if it is loaded, else when it loads` });
    }
  }
  const present = moduleObjects.filter((o) => t.hasObject(o.name)).map((o) => o.name);
  const patchLoad = simulatePatchLoad(sim, new Set(present));
  const patchFirst = t.live || present.length === 0 ? undefined : simulatePatchLoad({ ...sim, findings: [] }, new Set());
  const lateLoads = t.live ? [] : present.map((m) => ({ module: m, ...simulateLateLoad(sim, m) }));
  hazards(sim);
  addModuleRules(sim, moduleRules);
  const errors = sim.findings.some((f) => f.severity === 'error');
  return {
    module: p.file, target: t.label,
    ok: patchLoad.loads && (patchFirst?.loads ?? true) && lateLoads.every((l) => l.loads) && !errors,
    patchLoad, ...(patchFirst ? { patchFirst } : {}), lateLoads, findings: sim.findings,
  };
}

/** module-rule codes whose subject the simulation reports under other codes, in the kernel's words */
const SIMULATED_AS: Readonly<Record<string, readonly string[]>> = {
  BAD_KLP_SYM_NAME: ['KLP_BAD_SYM_NAME', 'KLP_SYM_NAME_TOO_LONG'],
};

/**
 * addModuleRules puts the module-level findings into the verdict, first, marked anyTarget. A rule
 * the simulation already reported (same code, or SIMULATED_AS) is left out: the simulation's
 * finding says when it fails and quotes the kernel. A module without the livepatch key gets the
 * kernel's line from klp_enable_patch().
 */
function addModuleRules(sim: Sim, rules: readonly Finding[]): void {
  const seen = new Set(sim.findings.map((f) => f.code));
  const add: TargetFinding[] = [];
  for (const r of rules) {
    if (seen.has(r.code) || (SIMULATED_AS[r.code] ?? []).some((c) => seen.has(c))) continue;
    const f: TargetFinding = { ...r, anyTarget: true };
    if (r.code === 'NOT_LIVEPATCH') Object.assign(f, { kernel: kernelSays.notMarked(sim.p.name), fails: 'patch' });
    add.push(f);
  }
  sim.findings.unshift(...add);
}

const failed = (sim: Sim, fails: string, f: Omit<TargetFinding, 'fails'>): LoadOutcome => {
  sim.findings.push({ ...f, fails });
  return { loads: false, kernel: f.kernel, reason: f.message };
};

function simulatePatchLoad(sim: Sim, loaded: ReadonlySet<string>): LoadOutcome {
  const { p, t } = sim;
  const fails = 'patch';
  const when = `when ${p.name} is loaded${loaded.size ? ` (after ${[...loaded].join(', ')})` : ''}`;
  // simplify_symbols(): every undefined symbol must be an export
  const st = p.elf.symtabIndex();
  if (st !== undefined && t.knowsExports) {
    const syms = p.elf.symbols(st);
    for (let i = 1; i < syms.count; i++) {
      const n = syms.name(i);
      if (syms.shndx[i] !== SHN_UNDEF || n === '' || n === '.TOC.' || n === '_GLOBAL_OFFSET_TABLE_' || syms.bind(i) === STB_WEAK) continue;
      if (t.isExported(n)) continue;
      const c = t.candidates(n);
      return failed(sim, fails, {
        severity: 'error', code: 'UNKNOWN_SYMBOL', kernel: kernelSays.unknownSymbol(p.name, n),
        message: `${p.file}: '${n}' is undefined and not exported by ${t.label}: insmod fails ${when}${c.length ? `; it exists unexported in ${[...new Set(c.map((x) => x.object))].join(', ')}: convert it into a klp relocation` : ''}`,
        candidates: rows(c),
      });
    }
  }
  // apply_relocations(): names of all klp sections, vmlinux ones resolved
  for (const s of p.sections) {
    if (s.object === undefined) {
      return failed(sim, fails, { severity: 'error', code: 'KLP_BAD_SECTION_NAME', kernel: kernelSays.badSecName(s.name), message: `${p.file}: section '${s.name}' has no object name the kernel can read: insmod fails ${when}` });
    }
    if (s.object !== 'vmlinux') continue;
    const r = resolveSection(sim, s, loaded, false, fails, when);
    if (r) return r;
  }
  // klp_enable_patch() from the patch's init
  for (const o of p.tables.objects) {
    const r = initObject(sim, o.name, o.name === 'vmlinux' || loaded.has(o.name), loaded, false, fails, when);
    if (r) return r;
  }
  return { loads: true };
}

function simulateLateLoad(sim: Sim, module: string): LoadOutcome {
  const fails = `module ${module}`;
  const when = `when ${module} loads after ${sim.p.name}`;
  const before = sim.findings.length;
  const r = initObject(sim, module, true, new Set([module]), true, fails, when);
  if (!r) return { loads: true };
  // the module is refused; the kernel prints its own reason first, then this
  const f = sim.findings[sim.findings.length - 1]!;
  if (sim.findings.length > before) f.message += `; the kernel then prints "${kernelSays.refusingModule(sim.p.name, module)}" and ${module} does not load`;
  return { loads: false, kernel: r.kernel, reason: r.reason };
}

/** klp_init_object() + klp_init_object_loaded() for one object; undefined when it succeeds. */
function initObject(sim: Sim, object: string, isLoaded: boolean, loaded: ReadonlySet<string>, coming: boolean, fails: string, when: string): LoadOutcome | undefined {
  const { p, t, limits } = sim;
  const obj = p.tables.objects.find((o) => o.name === object);
  if (!obj) return undefined;
  if (object !== 'vmlinux' && object.length > limits.objName) {
    return failed(sim, fails, { severity: 'error', code: 'OBJECT_NAME_TOO_LONG', message: `${p.file}: klp_object name '${object}' is ${object.length} characters; klp_init_object() returns -EINVAL (no message, insmod: Invalid argument) ${when}` });
  }
  for (const f of obj.funcs) {
    if (f.oldName.length > limits.symName) {
      return failed(sim, fails, { severity: 'error', code: 'FUNC_NAME_TOO_LONG', message: `${p.file}: ${f.where}: old_name '${f.oldName}' has ${f.oldName.length} characters (at most ${limits.symName}); klp_init_func() returns -EINVAL (no message) ${when}` });
    }
  }
  if (!isLoaded) return undefined;
  if (object !== 'vmlinux') {
    for (const s of p.sections) {
      if (s.object !== object) continue;
      const r = resolveSection(sim, s, loaded, coming, fails, when);
      if (r) return r;
    }
  }
  for (const f of obj.funcs) {
    const list = t.symbols(object, f.oldName, coming);
    const outcome = positionOutcome(list.length, f.oldSympos);
    if (outcome === 'ok') continue;
    const kernel = positionMessage(outcome, f.oldName, object, f.oldSympos)!;
    return failed(sim, fails, {
      severity: 'error', code: outcome === 'not-found' ? 'FUNC_NOT_FOUND' : outcome === 'ambiguous' ? 'FUNC_AMBIGUOUS' : 'FUNC_POSITION',
      kernel,
      message: `${p.file}: ${f.where}: patched function '${f.oldName}' (old_sympos ${f.oldSympos}) in ${object}: ${describe(outcome, list.length)} on ${t.label}; ${when} the kernel says "${kernel}"${hint(t, f.oldName, object)}`,
      candidates: rows(t.candidates(f.oldName)),
    });
  }
  return undefined;
}

/** klp_resolve_symbols() over one section; undefined when every entry resolves. */
function resolveSection(sim: Sim, s: KlpSection, loaded: ReadonlySet<string>, coming: boolean, fails: string, when: string): LoadOutcome | undefined {
  const { p, t, limits } = sim;
  const st = p.elf.symtabIndex()!;
  const syms = p.elf.symbols(st);
  for (const [idx, e] of s.entries.entries()) {
    const at = `${s.base}+0x${e.offset.toString(16)}`;
    const full = e.sym < syms.count ? syms.name(e.sym) : `#${e.sym}`;
    if (e.sym >= syms.count || syms.shndx[e.sym] !== SHN_LIVEPATCH) {
      return failed(sim, fails, { severity: 'error', code: 'KLP_ENTRY_NOT_LIVEPATCH', kernel: kernelSays.notLivepatchSym(full, st, idx, sim.release), message: `${p.file}: ${at} (${s.name}): symbol '${full}' is not SHN_LIVEPATCH ${when}` });
    }
    const k = parseKlpSymName(full, limits.symName);
    if (!k) {
      const tooLong = parseKlpSymName(full, Number.MAX_SAFE_INTEGER) !== undefined;
      return failed(sim, fails, {
        severity: 'error', code: tooLong ? 'KLP_SYM_NAME_TOO_LONG' : 'KLP_BAD_SYM_NAME', kernel: kernelSays.badSymName(full),
        message: `${p.file}: ${at} (${s.name}): '${full}' ${tooLong ? `has a symbol name over ${limits.symName} characters, the limit of ${t.label}` : 'is not .klp.sym.<obj>.<name>,<pos>'} ${when}`,
      });
    }
    if (vmlinuxInModuleSection(s.object!, k.object)) {
      return failed(sim, fails, {
        severity: 'error', code: 'KLP_VMLINUX_IN_MODULE_SECTION', kernel: kernelSays.vmlinuxFromModuleSection(k.name),
        message: `${p.file}: ${at} (${s.name}): vmlinux symbol '${k.name}' in a section of module '${s.object}': refused ${when}; put it in .klp.rela.vmlinux${s.base.startsWith('.') ? s.base : '.' + s.base}`,
      });
    }
    const objLoaded = k.object === 'vmlinux' || loaded.has(k.object);
    const list = objLoaded ? t.symbols(k.object, k.name, coming && loaded.has(k.object)) : [];
    const outcome = positionOutcome(list.length, k.pos64);
    if (outcome !== 'ok') {
      const kernel = positionMessage(outcome, k.name, k.object, k.pos64)!;
      const why = !objLoaded ? (t.hasObject(k.object) ? `module '${k.object}' is not loaded at that point` : `'${k.object}' is not an object of ${t.label}`) : `${describe(outcome, list.length)} in ${k.object} on ${t.label}`;
      return failed(sim, fails, {
        severity: 'error', code: outcome === 'not-found' ? 'KLP_SYM_NOT_FOUND' : outcome === 'ambiguous' ? 'KLP_SYM_AMBIGUOUS' : 'KLP_SYM_POSITION',
        kernel,
        message: `${p.file}: ${at} (${s.name}): '${full}': ${why}; ${when} the kernel says "${kernel}"${hint(t, k.name, k.object)}`,
        candidates: rows(t.candidates(k.name)),
      });
    }
    const bound = k.pos64 === 0n ? list[0]! : list[Number(k.pos64) - 1]!;
    if (list.length > 1 || bound.init) {
      const dup = sim.findings.some((f) => f.code === 'KLP_SYM_BINDS' && f.message.includes(`'${full}'`));
      if (!dup) {
        sim.findings.push({
          severity: bound.init ? 'warning' : 'info', code: bound.init ? 'KLP_SYM_INIT' : 'KLP_SYM_BINDS',
          message: `${p.file}: '${full}' binds ${k.object}:${k.name} #${bound.pos} of ${list.length}${bound.file ? ` (${bound.file})` : ''} on ${t.label}${bound.init ? '; it lives in an init section, freed after initialisation' : ''}`,
          candidates: rows(list),
          binds: { klpSymbol: full, object: k.object, pos: bound.pos, count: list.length, ...(bound.file ? { file: bound.file } : {}) },
        });
      }
    }
  }
  return undefined;
}

function hazards(sim: Sim): void {
  const { p } = sim;
  const st = p.elf.symtabIndex();
  if (st === undefined) return;
  const syms = p.elf.symbols(st);
  for (const s of p.sections) {
    if (s.object === undefined || s.object === 'vmlinux') continue;
    const objs = new Set<string>();
    for (const e of s.entries) {
      const k = e.sym < syms.count ? parseKlpSymName(syms.name(e.sym)) : undefined;
      if (k) objs.add(k.object);
    }
    for (const o of objs) {
      const v = checkBaseSection(s.base, o, p.elf.header.e_machine);
      if (!v.ok) sim.findings.push({ severity: 'warning', code: v.code!, message: `${p.file}: section '${s.name}': ${v.why}; ${v.hint}` });
    }
    if (p.elf.header.e_machine === EM_AARCH64 && /^\.(text|rodata)/.test(s.base)) {
      sim.findings.push({ severity: 'warning', code: 'LATE_RELOC_ARM64', message: `${p.file}: section '${s.name}' writes into read-only ${s.base} when '${s.object}' loads; arm64 kernels without text-poke late relocations (kpatch #1216; fixed by commit 91b89a634487) fault there` });
    }
  }
}

function describe(outcome: string, count: number): string {
  switch (outcome) {
    case 'not-found': return 'no symbol of that name';
    case 'ambiguous': return `position 0 but ${count} symbols share the name`;
    default: return `only ${count} symbol(s) of that name`;
  }
}

function hint(t: KernelTarget, name: string, object: string): string {
  const c = t.candidates(name);
  if (c.length === 0) return '';
  const inObj = c.filter((x) => x.object === object);
  const use = (inObj.length ? inObj : c).map((x) => `${KLP_SYM_PREFIX}${x.object}.${name},${x.count === 1 ? 0 : x.pos}${x.file ? ` (${x.file})` : ''}`);
  return `; candidates: ${use.join(', ')}`;
}

function rows(c: readonly SymbolCandidate[]): CandidateRow[] {
  return c.map((x) => ({ object: x.object, pos: x.pos, count: x.count, ...(x.file ? { file: x.file } : {}), ...(x.init ? { init: true } : {}) }));
}

/**
 * bindingDifferences: a klp symbol that binds symbols of different source files on different
 * targets (same position, other order): one patch built for many kernel builds then reaches
 * another function or variable on some of them, with no message from any kernel.
 */
export function bindingDifferences(file: string, verdicts: readonly TargetVerdict[]): TargetFinding[] {
  const byKlp = new Map<string, { target: string; file: string }[]>();
  for (const v of verdicts) {
    for (const f of v.findings) {
      if (!f.binds?.file) continue;
      const l = byKlp.get(f.binds.klpSymbol) ?? [];
      l.push({ target: v.target, file: f.binds.file });
      byKlp.set(f.binds.klpSymbol, l);
    }
  }
  const out: TargetFinding[] = [];
  for (const [klp, l] of byKlp) {
    if (new Set(l.map((x) => x.file)).size < 2) continue;
    out.push({ severity: 'warning', code: 'KLP_SYM_BINDS_DIFFERENTLY', message: `${file}: '${klp}' binds a symbol of ${l.map((x) => `${x.file} on ${x.target}`).join(', ')}: the same position names different symbols on these kernels; build the patch per kernel, or resolve the symbol by source file (--resolve 'file=')` });
  }
  return out;
}
