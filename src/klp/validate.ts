/**
 * validateKlpModule checks a livepatch module against the rules the kernel enforces
 * (livepatch-elf-abi.md §2-§9), independently of the converter that wrote it. `klp-convert
 * check` prints its findings; `convert` runs it on its own output; the tests run it on every
 * converted fixture.
 */
import {
  ElfFile, EM_X86_64, SHF_ALLOC, SHF_INFO_LINK, SHN_UNDEF, SHT_REL, SHT_RELA, STB_LOCAL, STB_WEAK, hasFlag, relocNoneType, relocTypeName,
} from '../elf/index.js';
import { KLP_OBJNAME_MAX, KLP_RELA_PREFIX, KLP_RELOCS_PREFIX, KLP_SYM_PREFIX, KLP_TOMBSTONE_PREFIX, SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from './constants.js';
import { R_X86_64_64, X86_64_RELOC_WIDTH, checkBaseSection, moduleHeaderProblem, parseKlpRelaObject, parseKlpSymName, positionMessage, positionOutcome } from './kernel-rules.js';
import { hasLivepatchTag } from './modinfo.js';
import { machineRefusal } from './arch-rules.js';
import { readPatchTables } from './patch-tables.js';
import { declaredObjectFindings, readPatchModule } from './target-check.js';
import { sameNameCount, type SymbolMap } from './symbol-map.js';
import { symbollessMapHint } from './vmlinux-symbols.js';

export interface Finding {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  /** the symbols the finding is about, when it is about a list of them (EXPORTS_UNKNOWN) */
  names?: string[];
}

export interface KlpRelocRow {
  section: string;
  object: string;
  base: string;
  offset: bigint;
  type: string;
  symbol: string;
  symObject?: string;
  symName?: string;
  pos?: number;
  addend: bigint;
}

export interface ValidateOptions {
  map?: SymbolMap | undefined;
  symvers?: ReadonlyMap<string, string> | undefined;
  symMax?: number;
  /**
   * the caller checks against a target kernel (target-check.ts), which knows the exports and
   * judges the declared objects itself: leave out the warning that undefined symbols were not
   * checked, and the declared-object findings
   */
  againstTarget?: boolean;
}

export interface ValidateResult {
  findings: Finding[];
  rows: KlpRelocRow[];
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

/** x86_64 relocation widths, for the kernel's "existing value is nonzero" check */
const X86_WIDTH = X86_64_RELOC_WIDTH;

export function validateKlpModule(elf: ElfFile, opts: ValidateOptions = {}): ValidateResult {
  const findings: Finding[] = [];
  const rows: KlpRelocRow[] = [];
  const f = elf.file;
  const err = (code: string, message: string): void => void findings.push({ severity: 'error', code, message: `${f}: ${message}` });
  const warnf = (code: string, message: string): void => void findings.push({ severity: 'warning', code, message: `${f}: ${message}` });
  const symMax = opts.symMax ?? 511;
  // not a module at all (vmlinux, an executable, another class): nothing below applies
  const header = moduleHeaderProblem(elf.header);
  if (header) {
    err(header.code, header.message);
    return { findings, rows };
  }
  const st = elf.symtabIndex();
  if (st === undefined) {
    err('NO_SYMTAB', 'no symbol table (SHT_SYMTAB): the module loader refuses it ("module has no symbols (stripped?)"); check the module as it was built, before any strip');
    return { findings, rows };
  }
  const syms = elf.symbols(st);
  const h = elf.header;
  // relocation types, and so every check of the klp entries below, mean nothing without the machine
  const machine = machineRefusal(h.e_machine);
  if (machine !== undefined) err('UNKNOWN_MACHINE', machine);

  // symtab: locals first, sh_info right
  let firstGlobal = syms.count;
  for (let i = 1; i < syms.count; i++) {
    if (syms.bind(i) !== STB_LOCAL) {
      firstGlobal = i;
      break;
    }
  }
  for (let i = firstGlobal; i < syms.count; i++) if (syms.bind(i) === STB_LOCAL) err('LOCAL_AFTER_GLOBAL', `.symtab: local symbol ${i} '${syms.name(i)}' follows a global`);
  if (elf.section(st).sh_info !== firstGlobal) err('SYMTAB_INFO', `.symtab sh_info is ${elf.section(st).sh_info}, first non-local symbol is ${firstGlobal}`);

  // modinfo tag
  if (!hasLivepatchTag(elf)) err('NOT_LIVEPATCH', ".modinfo has no 'livepatch' key; the kernel refuses to enable the patch");

  // symbols used by klp relocation sections
  const klpRelaUsers = new Set<number>();
  for (const s of elf.sections) {
    if (s.sh_type !== SHT_RELA || s.sh_link !== st || !s.name.startsWith(KLP_RELA_PREFIX)) continue;
    try {
      const r = elf.relocations(s.index);
      for (let k = 0; k < r.count; k++) klpRelaUsers.add(r.sym(k));
    } catch {
      // reported with the klp sections below
    }
  }

  // klp-build's module before `objtool klp post-link`: one finding for the whole module
  const klpBuildTables = elf.sections.some((x) => x.name.startsWith(KLP_RELOCS_PREFIX));
  const unfinished: string[] = [];

  // symbols
  const klpSym = new Map<number, { object: string; name: string; pos: number }>();
  const unjudged: string[] = []; // undefined names whose export status no map or Module.symvers tells
  for (let i = 1; i < syms.count; i++) {
    const name = syms.name(i);
    const isLp = syms.shndx[i] === SHN_LIVEPATCH;
    if (isLp && name.startsWith(KLP_TOMBSTONE_PREFIX)) {
      // klp-build's tombstones: the symbol its original relocations name, SHN_LIVEPATCH after
      // post-link. The kernel parses only the names of symbols that klp sections use
      // (klp_resolve_symbols), and the module loader skips SHN_LIVEPATCH (simplify_symbols).
      if (klpRelaUsers.has(i)) err('BAD_KLP_SYM_NAME', `symbol ${i} '${name}' is a klp-build tombstone but a klp relocation section uses it; the kernel cannot parse its name`);
      continue;
    }
    if (isLp) {
      const p = parseKlpSymName(name, symMax);
      if (!p) err('BAD_KLP_SYM_NAME', `symbol ${i} '${name}' has st_shndx SHN_LIVEPATCH but the kernel cannot parse its name (.klp.sym.<obj>.<name>,<pos>, object <= ${KLP_OBJNAME_MAX}, name <= ${symMax} characters)`);
      else {
        if (p.loose) warnf('KLP_SYM_LOOSE_POSITION', `symbol ${i} '${name}': the kernel reads position ${p.pos64} and ignores the rest (white space before the number or text after it); write .klp.sym.<obj>.<name>,<pos> with nothing else`);
        klpSym.set(i, p);
        if (opts.map) checkPos(p, i);
      }
    } else if (name.startsWith(KLP_SYM_PREFIX) && syms.shndx[i] === SHN_UNDEF && !name.startsWith('.klp.sym.rela.')) {
      if (klpBuildTables) unfinished.push(name);
      else if (syms.bind(i) === STB_WEAK) err('KLP_SYM_NOT_LIVEPATCH', `symbol ${i} '${name}' is named like a klp symbol but its st_shndx is SHN_UNDEF; being weak, the module loader resolves it to 0 and every relocation against it computes a wrong address`);
      else err('KLP_SYM_NOT_LIVEPATCH', `symbol ${i} '${name}' is named like a klp symbol but its st_shndx is SHN_UNDEF; the module loader will look it up as an export and fail`);
    } else if (syms.shndx[i] === SHN_UNDEF && name !== '' && name !== '.TOC.' && syms.bind(i) !== STB_WEAK) {
      if (name.startsWith('.klp.sym.rela.')) err('UNCONVERTED_MINIMAL', `symbol '${name}' is a minimal-scheme name that was not converted`);
      else if (!opts.symvers && !opts.map) unjudged.push(name);
      else if (!(opts.symvers ? opts.symvers.has(name) : opts.map!.isExported(name))) {
        const hint = opts.map && !opts.map.lookup(name).length ? symbollessMapHint(opts.map) : undefined;
        err('UNDEFINED_UNEXPORTED', `symbol '${name}' is undefined and not exported; loading fails with "Unknown symbol ${name}"${hint ? `; ${hint}` : ''}`);
      }
    }
  }
  if (unfinished.length > 0) {
    findings.push({
      severity: 'error', code: 'KLP_BUILD_UNFINISHED', names: unfinished,
      message: `${f}: klp-build's module before 'objtool klp post-link' (__klp_relocs tables; ${unfinished.length} klp symbol${unfinished.length === 1 ? ' is' : 's are'} still weak undefined): ` +
        'loaded as it is, its relocations name weak undefined .klp.tombstone and .klp.sym symbols, which the module loader resolves to 0, so the patched code calls and reads wrong addresses; ' +
        'finish it with klp-convert convert (or objtool klp post-link)',
    });
  }
  if (unjudged.length > 0 && !opts.againstTarget) {
    findings.push({
      severity: 'warning', code: 'EXPORTS_UNKNOWN', names: unjudged,
      message: `${f}: ${unjudged.length} undefined symbol${unjudged.length === 1 ? '' : 's'} not checked: without a map or Module.symvers ` +
        'there is no telling an export (the module loader resolves it) from an unexported symbol (loading fails with "Unknown symbol"); ' +
        'pass --symbols symbols.klp or --symvers Module.symvers',
    });
  }
  /**
   * checkPos judges a klp symbol's position against the map as the kernel will against the running
   * kernel (positionOutcome over sameNameCount, the converter's count). A 0.1 map's count is its
   * lines of nm's names; it has no order, so only a count can be wrong, not which symbol binds.
   */
  function checkPos(p: { object: string; name: string; pos: number; pos64: bigint }, i: number): void {
    const map = opts.map!;
    const count = sameNameCount(map, p.object, p.name);
    const outcome = positionOutcome(count, p.pos64);
    if (outcome === 'ok') return;
    const sym = `symbol ${i} '${syms.name(i)}'`;
    const counted = map.format === 'ext' ? '' : ` (the count is the 0.1 map's: the lines of nm's names in its '${p.object}' block)`;
    const says = `; the kernel says "${positionMessage(outcome, p.name, p.object, p.pos64)}"`;
    const fix = `; name the position of the one you mean (1 to ${count}; 'klp-convert symbols --format ext' writes a map with positions)`;
    if (outcome === 'not-found') err('KLP_SYM_NOT_IN_MAP', `${sym}: no '${p.name}' in object '${p.object}' of ${map.path}${says}; check the object and the name, or the map is not of the kernel this patch is for`);
    else if (outcome === 'ambiguous') err('KLP_SYM_AMBIGUOUS', `${sym}: position 0 but ${count} symbols named '${p.name}' in '${p.object}'${counted}${says}${fix}`);
    else err('KLP_SYM_POSITION', `${sym}: position ${p.pos64} but only ${count} symbols named '${p.name}' in '${p.object}'${counted}${says}${fix}`);
  }

  // ordinary relocation sections: no entry may still use a klp symbol in an allocated section
  const none = relocNoneType(h.e_machine);
  const ordinaryOffsets = new Map<number, Set<bigint>>();
  for (const s of elf.sections) {
    if (s.sh_type !== SHT_RELA && s.sh_type !== SHT_REL) continue;
    const isKlp = hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH) || s.name.startsWith(KLP_RELA_PREFIX);
    if (isKlp || s.sh_link !== st) continue;
    const base = elf.sections[s.sh_info];
    if (!base || !hasFlag(base.sh_flags, SHF_ALLOC)) continue;
    const r = elf.relocations(s.index);
    const offs = ordinaryOffsets.get(s.sh_info) ?? new Set<bigint>();
    // klp-build's __klp_relocs tables keep their R_X86_64_64 entries against klp symbols after
    // post-link: the loader writes 0 + addend into a table the kernel never reads (harmless)
    const klpBuildTable = base.name.startsWith(KLP_RELOCS_PREFIX) && h.e_machine === EM_X86_64;
    for (let k = 0; k < r.count; k++) {
      // an R_*_NONE entry (post-link's disabled original) writes nothing: apply_relocate_add skips it
      if (r.type(k) === none) continue;
      offs.add(r.offset(k));
      const sym = r.sym(k);
      if (klpBuildTable && r.type(k) === R_X86_64_64) continue;
      if (sym < syms.count && syms.shndx[sym] === SHN_LIVEPATCH) {
        err('ACTIVE_ORIGINAL', `${base.name}+${hex(r.offset(k))}: ordinary relocation in '${s.name}' uses klp symbol '${syms.name(sym)}'; the module loader would apply it with a wrong value`);
      }
    }
    ordinaryOffsets.set(s.sh_info, offs);
  }

  // klp relocation sections
  const perBase = new Map<string, number>();
  for (const s of elf.sections) {
    const named = s.name.startsWith(KLP_RELA_PREFIX);
    const flagged = hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH);
    if (!named && !flagged) continue;
    const where = `section ${s.index} '${s.name}'`;
    if (!named) { err('KLP_FLAG_WITHOUT_NAME', `${where} has SHF_RELA_LIVEPATCH but is not named ${KLP_RELA_PREFIX}<obj>.<sec>`); continue; }
    if (!flagged) { err('KLP_NAME_WITHOUT_FLAG', `${where} lacks SHF_RELA_LIVEPATCH; the kernel treats it as an ordinary relocation section`); continue; }
    if (s.sh_type !== SHT_RELA) { err('KLP_NOT_RELA', `${where} is not SHT_RELA`); continue; }
    if (!hasFlag(s.sh_flags, SHF_ALLOC)) err('KLP_NOT_ALLOC', `${where} lacks SHF_ALLOC (the format requires it; the kernel keeps the section for late relocation)`);
    if (!hasFlag(s.sh_flags, SHF_INFO_LINK)) warnf('KLP_NO_INFO_LINK', `${where} lacks SHF_INFO_LINK`);
    if (s.sh_link !== st) err('KLP_BAD_LINK', `${where}: sh_link ${s.sh_link} is not the symbol table (${st})`);
    const object = parseKlpRelaObject(s.name);
    if (!object) { err('KLP_BAD_SECTION_NAME', `${where}: the kernel cannot parse the object name`); continue; }
    // `.klp.rela.<obj>..<sec>` (C klp-convert v7, and objtool klp post-link in klp-build) is read
    // like `.klp.rela.<obj>.<sec>`: the kernel scans the object name and finds the base by sh_info
    const base = elf.sections[s.sh_info];
    if (!base) { err('KLP_BAD_INFO', `${where}: sh_info ${s.sh_info} is out of range`); continue; }
    if (!hasFlag(base.sh_flags, SHF_ALLOC)) err('KLP_BASE_NOT_ALLOC', `${where}: base section '${base.name}' is not allocated; the kernel never applies it`);
    const expectName = KLP_RELA_PREFIX + object + (base.name.startsWith('.') ? base.name : '.' + base.name);
    if (s.name !== expectName && !s.name.startsWith(`${KLP_RELA_PREFIX}${object}..`)) warnf('KLP_NAME_MISMATCH', `${where}: named for '${s.name.slice(KLP_RELA_PREFIX.length + object.length)}' but sh_info is '${base.name}'`);
    const key = `${object}\0${s.sh_info}`;
    perBase.set(key, (perBase.get(key) ?? 0) + 1);
    if (perBase.get(key) === 2) warnf('KLP_SPLIT_SECTION', `more than one klp section for object '${object}' and base '${base.name}'`);
    let r;
    try {
      r = elf.relocations(s.index);
    } catch (e) {
      err('KLP_BAD_ENTRIES', `${where}: ${(e as Error).message}`);
      continue;
    }
    const baseData = h.e_machine === EM_X86_64 ? elf.data(base.index) : undefined;
    const ord = ordinaryOffsets.get(s.sh_info);
    for (let k = 0; k < r.count; k++) {
      const sym = r.sym(k);
      const off = r.offset(k);
      const at = `${base.name}+${hex(off)}`;
      const sname = sym < syms.count ? syms.name(sym) : `#${sym}`;
      const p = klpSym.get(sym);
      const row: KlpRelocRow = { section: s.name, object, base: base.name, offset: off, type: relocTypeName(h.e_machine, r.type(k)), symbol: sname, addend: r.addend(k) };
      if (p) Object.assign(row, { symObject: p.object, symName: p.name, pos: p.pos });
      rows.push(row);
      if (sym >= syms.count || syms.shndx[sym] !== SHN_LIVEPATCH) {
        err('KLP_ENTRY_NOT_LIVEPATCH', `${at} (${s.name}): symbol '${sname}' is not a livepatch symbol (st_shndx must be SHN_LIVEPATCH)`);
        continue;
      }
      if (!p) continue;
      if (object !== 'vmlinux' && p.object === 'vmlinux') err('KLP_VMLINUX_IN_MODULE_SECTION', `${at} (${s.name}): vmlinux symbol '${p.name}' in a module-specific section; the kernel rejects this (5.8+)`);
      if (object === 'vmlinux' && p.object !== 'vmlinux') err('KLP_MODULE_IN_VMLINUX_SECTION', `${at} (${s.name}): symbol '${p.name}' of module '${p.object}' in a vmlinux section; it cannot resolve when the patch loads`);
      const v = checkBaseSection(base.name, p.object, h.e_machine);
      if (!v.ok) err(v.code!, `${at}: ${v.why}`);
      if (ord?.has(off)) err('KLP_DUPLICATE_SITE', `${at}: an ordinary relocation also writes this place; the relocation would be applied twice`);
      if (baseData) {
        const w = X86_WIDTH.get(r.type(k));
        if (w !== undefined) {
          const o = Number(off);
          if (o + w > baseData.length) err('KLP_SITE_OUT_OF_RANGE', `${at}: relocation site is past the end of '${base.name}'`);
          else if (baseData.subarray(o, o + w).some((b) => b !== 0)) err('KLP_SITE_NONZERO', `${at}: bytes at the site are not zero; x86 refuses with "Invalid relocation target, existing value is nonzero"`);
        }
      }
    }
  }
  // klp sections for objects the patch does not declare are never applied (target-check.ts)
  const tables = opts.againstTarget ? undefined : readPatchTables(elf);
  if (tables && tables.source !== 'none') {
    for (const d of declaredObjectFindings(readPatchModule(elf, tables))) findings.push({ severity: d.severity === 'error' ? 'error' : 'warning', code: d.code, message: d.message });
  }
  return { findings, rows };
}
