/**
 * Stage 2 of the converter: resolution. For each undefined symbol that needs a klp relocation,
 * decide the object that defines it, its position as the kernel counts it, and the object whose
 * load gates the relocation. The steps are tried in order, first decision wins:
 *
 *   minimal-form name -> KLP_SYMPOS annotation -> rules file (pos= / file=) -> the map
 *
 * A step returns a Target, null (decided: refused, or left alone), or undefined (not mine: ask
 * the next step). A new way to name a symbol is one more step in RESOLUTION_STEPS. Ambiguity is
 * an error that lists the candidates and ready-to-paste fixes; nothing is guessed. Names and
 * positions are checked with the kernel's own rules (kernel-rules.ts).
 */
import { STB_WEAK, stbName, sttName } from '../elf/index.js';
import { KLP_MINIMAL_PREFIX } from './constants.js';
import type { Annotation, Problem, Target } from './convert-types.js';
import { checkKlpNameParts, positionOutcome, type KernelLimits } from './kernel-rules.js';
import { parseMinimalName } from './klpname.js';
import { kernelModuleName } from './modname.js';
import type { ResolveRule } from './rules.js';
import { pickByFile, shortestFileName } from './source-paths.js';
import { sameNameCount, type SymbolCandidate, type SymbolMap } from './symbol-map.js';
import { symbollessMapHint } from './vmlinux-symbols.js';

export interface ResolveRequest {
  /** symbol index in the module */
  index: number;
  name: string;
  /** STB_* of the undefined symbol */
  bind: number;
  /** where it is used, for messages ("section+0xoff" or "symbol 'x'") */
  where: string;
}

export interface ResolverContext {
  file: string;
  map?: SymbolMap | undefined;
  rules?: readonly ResolveRule[] | undefined;
  annotations: ReadonlyMap<number, Annotation>;
  limits: KernelLimits;
  problems: Problem[];
  warnings: string[];
}

/** One way of deciding a symbol: a Target, null (decided, nothing to convert or refused), undefined (next step). */
export type ResolutionStep = (req: ResolveRequest, r: Resolver) => Target | null | undefined;

export class Resolver {
  /** symbol index -> decision (null: not converted) */
  readonly targets = new Map<number, Target | null>();
  readonly rulesByName = new Map<string, ResolveRule[]>();
  readonly usedRules = new Set<ResolveRule>();

  constructor(readonly ctx: ResolverContext, readonly steps: readonly ResolutionStep[] = RESOLUTION_STEPS) {
    for (const r of ctx.rules ?? []) {
      const l = this.rulesByName.get(r.name) ?? [];
      l.push(r);
      this.rulesByName.set(r.name, l);
    }
  }

  get map(): SymbolMap | undefined {
    return this.ctx.map;
  }

  /** resolve decides symbol `req.index` once; later calls return the same decision. */
  resolve(req: ResolveRequest): Target | null {
    const cached = this.targets.get(req.index);
    if (cached !== undefined) return cached;
    let t: Target | null = null;
    for (const step of this.steps) {
      const d = step(req, this);
      if (d !== undefined) {
        t = d;
        break;
      }
    }
    this.targets.set(req.index, t);
    return t;
  }

  fail(req: ResolveRequest, code: string, message: string, detail?: string): null {
    const m = `${this.ctx.file}: ${req.where}: ${message}`;
    this.ctx.problems.push(detail === undefined ? { code, message: m } : { code, message: m, detail });
    return null;
  }

  warn(req: ResolveRequest, message: string): void {
    this.ctx.warnings.push(`${this.ctx.file}: ${req.where}: ${message}`);
  }

  /** finish checks the names against the kernel's grammar and limits, and the init caveats. */
  finish(req: ResolveRequest, t: Target): Target | null {
    if (!Number.isSafeInteger(t.pos)) {
      // a JS number would round it, and the kernel would read another position from the name
      return this.fail(req, 'POSITION_OUT_OF_RANGE', `position of '${t.name}' in '${t.symObject}' is too large to be written exactly (at most ${Number.MAX_SAFE_INTEGER}); no object has that many symbols of one name`);
    }
    const p = checkKlpNameParts([t.symObject, t.relaObject], t.name, this.ctx.limits);
    if (p) return this.fail(req, p.code, p.message);
    if (this.map?.format === 'ext') this.initCaveat(req, t);
    return t;
  }

  /** finishChecked validates a user-given position against the map first. */
  finishChecked(req: ResolveRequest, t: Target, suffix = ''): Target | null {
    if (!Number.isSafeInteger(t.pos)) return this.finish(req, t);
    const chk = this.checkPosition(t.symObject, t.name, t.pos);
    if (chk) return this.fail(req, chk.code, chk.message + suffix, chk.detail);
    return this.finish(req, t);
  }

  candidatesAll(name: string): SymbolCandidate[] {
    return this.map ? this.map.lookup(name).filter((c) => c.count > 0) : [];
  }

  candidatesIn(object: string, name: string): SymbolCandidate[] {
    return this.candidatesAll(name).filter((c) => c.object === object);
  }

  /** checkPosition validates a user-given position against the map, where the map can tell. */
  checkPosition(object: string, name: string, pos: number): Problem | undefined {
    const map = this.map;
    if (!map) return undefined;
    const count = sameNameCount(map, object, name);
    switch (positionOutcome(count, pos)) {
      case 'not-found':
        return { code: 'POSITION_NO_SYMBOL', message: `no symbol '${name}' in object '${object}' of ${map.path}`, detail: suggestions(name, this.candidatesAll(name)) };
      case 'ambiguous':
        return { code: 'POSITION_ZERO_AMBIGUOUS', message: `position 0 for '${name}' in '${object}', but ${count} symbols share that name (the kernel would report an unresolvable ambiguity)`, detail: suggestions(name, this.candidatesIn(object, name)) };
      case 'no-such-position':
        return { code: 'POSITION_TOO_LARGE', message: `position ${pos} for '${name}' in '${object}', but only ${count} symbol(s) of that name exist`, detail: suggestions(name, this.candidatesIn(object, name)) };
      case 'ok':
        return undefined;
    }
  }

  /**
   * initCaveat warns about init sections (livepatch-elf-abi.md §5.2): init memory is freed after
   * initialisation, and while a module is still loading the kernel also counts its init symbols,
   * so a same-named init symbol before the target shifts the position between late patching
   * (module loading) and a live module.
   */
  private initCaveat(req: ResolveRequest, t: Target): void {
    const inObj = this.candidatesIn(t.symObject, t.name);
    const target = t.pos > 0 ? inObj.find((c) => c.pos === t.pos) : inObj.length === 1 ? inObj[0] : undefined;
    if (target?.init) {
      this.warn(req, `'${t.name}' in ${t.symObject} lives in an init section; that memory is freed once ${t.symObject === 'vmlinux' ? 'the kernel has booted' : 'the module has initialised'}`);
    } else if (t.symObject !== 'vmlinux' && target && inObj.some((c) => c.init && c.pos < target.pos)) {
      this.warn(req, `position ${t.pos} of '${t.name}' in ${t.symObject} counts a same-named symbol in an init section, which the kernel counts only while ${t.symObject} is loading: the relocation resolves when the patch is applied to a loading module, but not to a live one; rename the init symbol if you can`);
    }
  }
}

const kernelObject = (o: string): string => (o === 'vmlinux' ? 'vmlinux' : kernelModuleName(o));

/** The minimal scheme: the name says it all. */
export function fromMinimalName(req: ResolveRequest, r: Resolver): Target | null | undefined {
  if (!req.name.startsWith(KLP_MINIMAL_PREFIX)) return undefined;
  const m = parseMinimalName(req.name);
  if (!m) return r.fail(req, 'BAD_MINIMAL_NAME', `'${req.name}' is not of the form .klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>`);
  const symObject = kernelObject(m.symObject);
  let relaObject = kernelObject(m.lpObject);
  if (symObject === 'vmlinux' && relaObject !== 'vmlinux') {
    // the kernel refuses vmlinux symbols in module-specific sections (5.8+)
    r.warn(req, `'${req.name}': vmlinux symbol named for object '${relaObject}'; using .klp.rela.vmlinux (the kernel rejects vmlinux symbols in module sections)`);
    relaObject = 'vmlinux';
  }
  return r.finishChecked(req, { symObject, relaObject, name: m.name, pos: m.pos, via: 'minimal' });
}

/** A v7 KLP_SYMPOS annotation of this symbol. */
export function fromAnnotation(req: ResolveRequest, r: Resolver): Target | null | undefined {
  const ann = r.ctx.annotations.get(req.index);
  if (!ann) return undefined;
  ann.used = true;
  return r.finishChecked(req, { symObject: ann.object, relaObject: ann.object, name: req.name, pos: ann.pos, via: 'annotation' });
}

/** A `--resolve` rule: `<object> <symbol> pos=<n>` or `file=<source.c>` (extended map). */
export function fromRule(req: ResolveRequest, r: Resolver): Target | null | undefined {
  const name = req.name;
  const rules = r.rulesByName.get(name);
  if (!rules || rules.length === 0) return undefined;
  if (rules.length > 1) return r.fail(req, 'RULE_AMBIGUOUS', `'${name}' has rules for several objects (${rules.map((x) => `${x.object} at ${x.origin}`).join(', ')}); keep one`);
  const rule = rules[0]!;
  r.usedRules.add(rule);
  if (rule.pos !== undefined) {
    return r.finishChecked(req, { symObject: rule.object, relaObject: rule.object, name, pos: rule.pos, via: 'rule-pos' }, ` (rule at ${rule.origin})`);
  }
  const map = r.map;
  if (!map || map.format !== 'ext') {
    return r.fail(req, 'RULE_NEEDS_EXT_MAP', `rule '${rule.object} ${name} file=${rule.file}' (${rule.origin}) needs the extended map, which records source files; generate it with 'klp-convert symbols --format ext'`);
  }
  const inObj = r.candidatesIn(rule.object, name);
  const { matches: byFile, weak } = pickByFile(inObj, rule.file!);
  if (byFile.length !== 1) {
    return r.fail(req, byFile.length === 0 ? 'RULE_FILE_NO_MATCH' : 'RULE_FILE_AMBIGUOUS',
      `rule '${rule.object} ${name} file=${rule.file}' (${rule.origin}) matches ${byFile.length} symbols`, suggestions(name, inObj.length ? inObj : r.candidatesAll(name)));
  }
  const c = byFile[0]!;
  if (weak) {
    r.warn(req, `rule '${rule.object} ${name} file=${rule.file}' (${rule.origin}): the map records only the file name '${c.file}' for this symbol, so its directory was not checked; regenerate the map with 'klp-convert symbols --format ext' from a debug vmlinux or a build tree with its objects to record paths`);
  }
  return r.finish(req, { symObject: rule.object, relaObject: rule.object, name, pos: c.count > 1 ? c.pos : 0, via: 'rule-file' });
}

/**
 * The map: with the extended map a name is automatic only when one object defines it once; with
 * the 0.1 map only when it occurs once in the whole map (v7's rule: 0.1 carries no order).
 */
export function fromMap(req: ResolveRequest, r: Resolver): Target | null | undefined {
  const map = r.map;
  const name = req.name;
  if (!map) return null; // no map: only explicit conversions
  const all = r.candidatesAll(name);
  if (all.length === 0) {
    if (req.bind === STB_WEAK) {
      r.warn(req, `weak undefined symbol '${name}' is in no object of the map; left undefined (it resolves to 0)`);
      return null;
    }
    return r.fail(req, 'SYMBOL_NOT_FOUND', `symbol '${name}' is not exported and not in ${map.path}; ${symbollessMapHint(map) ?? 'check the name, or regenerate the map from the kernel this patch is for'}`);
  }
  const objects = [...new Set(all.map((c) => c.object))];
  if (map.format === 'ext') {
    if (objects.length === 1 && all[0]!.count === 1) {
      const c = all[0]!;
      return r.finish(req, { symObject: c.object, relaObject: c.object, name, pos: 0, via: 'map-unique' });
    }
    const why = objects.length === 1
      ? `symbol '${name}' is ambiguous: ${all[0]!.count} definitions in ${objects[0]}`
      : `symbol '${name}' is ambiguous: defined in ${objects.length} objects (${objects.join(', ')})`;
    return r.fail(req, 'AMBIGUOUS', `${why}; name the one you mean`, suggestions(name, all));
  }
  if (all.length === 1) return r.finish(req, { symObject: all[0]!.object, relaObject: all[0]!.object, name, pos: 0, via: 'map-unique' });
  return r.fail(req, 'AMBIGUOUS', `symbol '${name}' is ambiguous: ${all.length} entries in ${map.path} (${objects.join(', ')}); name the one you mean`, suggestions(name, all));
}

/** The resolution order; first decision wins. */
export const RESOLUTION_STEPS: readonly ResolutionStep[] = [fromMinimalName, fromAnnotation, fromRule, fromMap];

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
