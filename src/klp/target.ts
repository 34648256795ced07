/**
 * KernelTarget: the symbols of one kernel build as livepatch counts them, whatever the target was
 * given as (target-discover.ts). Every kind ends up as per-object lists of same-named symbols in
 * the kernel's counting order:
 *  - a build tree or debug directory: vmlinux and the modules the patch names are read into the
 *    extended map's form in memory (generate-map.ts: kallsyms order for vmlinux, .symtab order
 *    for modules);
 *  - an extended map: the lines of the names the modules ask about and the object lines, found
 *    without parsing the rest (symbol-map.ts scanSymbolMap, as convert loads its map);
 *  - /proc/kallsyms: vmlinux lines in file order (the kallsyms table order, addresses zeroed or
 *    not), module lines `[mod]` in file order (a live module's core symbols, which is what the
 *    kernel counts once the module has initialised); /proc/modules, when given, adds modules that
 *    are loaded but have no symbol lines.
 */
import * as path from 'node:path';
import { readInputText } from '../elf/index.js';
import { KlpError } from './errors.js';
import { emitHeader, emitModule, emitVmlinux, mapContext, planTree, Sink, type ModuleEntry } from './generate-map.js';
import { loadSymbolMap, parseSymbolMap, type SymbolCandidate, type SymbolMap } from './symbol-map.js';
import { KALLSYMS_LINE, locateTarget, type TargetKind, type TargetLocation } from './target-discover.js';

export interface KernelTarget {
  /** short name for the matrix */
  label: string;
  kind: TargetKind;
  location: TargetLocation;
  release?: string | undefined;
  /** true when the target is a running system: `loaded` are the modules that were loaded */
  live: boolean;
  /** the modules this target has (live: loaded); vmlinux is always there */
  hasObject(object: string): boolean;
  /** whether the target can tell exports (undefined names are then checked) */
  knowsExports: boolean;
  isExported(name: string): boolean;
  /** same-named symbols of `object` in the kernel's counting order; `withInit`: a module still loading */
  symbols(object: string, name: string, withInit: boolean): SymbolCandidate[];
  /** every symbol of that name in every object the target read */
  candidates(name: string): SymbolCandidate[];
}

export interface LoadTargetOptions {
  /** names the modules ask about (the loaders keep only these) */
  names: ReadonlySet<string>;
  /** objects the modules name (a tree target reads only these modules) */
  objects: ReadonlySet<string>;
}

export function loadTarget(arg: string, opts: LoadTargetOptions): KernelTarget {
  const loc = locateTarget(arg);
  switch (loc.kind) {
    // the scanned load: only the lines of the names the modules ask about (and the object lines)
    case 'ext-map': return fromMap(loc, loadSymbolMap(loc.path, opts.names), undefined);
    case 'tree':
    case 'debug-dir': return fromTree(loc, opts);
    case 'kallsyms': return fromKallsyms(loc, opts.names);
  }
}

function labelOf(loc: TargetLocation): string {
  if (loc.release) return loc.release;
  return path.basename(path.resolve(loc.arg));
}

function fromMap(loc: TargetLocation, map: SymbolMap, allObjects: ReadonlySet<string> | undefined): KernelTarget {
  const objects = allObjects ?? new Set(map.objects());
  const counted = (object: string, name: string): SymbolCandidate[] => map.lookup(name).filter((c) => c.object === object && c.count > 0);
  return {
    label: labelOf(loc), kind: loc.kind, location: loc, release: loc.release, live: false,
    hasObject: (o) => o === 'vmlinux' || objects.has(o),
    knowsExports: true,
    isExported: (n) => map.isExported(n),
    symbols(object, name, withInit) {
      const all = counted(object, name);
      if (withInit || object === 'vmlinux' || !all.some((c) => c.init)) return all;
      return renumber(all.filter((c) => !c.init));
    },
    candidates: (name) => map.lookup(name).filter((c) => c.count > 0),
  };
}

/** renumber gives positions again after a filter (the kernel counts only what it walks). */
function renumber(list: SymbolCandidate[]): SymbolCandidate[] {
  return list.map((c, i) => ({ ...c, pos: i + 1, count: list.length }));
}

/** A build tree or a debug directory: vmlinux plus the wanted modules, read in the ext map's form. */
function fromTree(loc: TargetLocation, opts: LoadTargetOptions): KernelTarget {
  // the modules `symbols --objtree` would map (planTree: modules.order or kernel/**, the file of each)
  const plan = planTree(loc.tree!);
  const all = new Map<string, ModuleEntry>();
  for (const m of plan.modules) if (!all.has(m.kname)) all.set(m.kname, m);
  const ctx = mapContext(plan.objtree, 'ext');
  const out = new Sink(1 << 20);
  emitHeader(ctx, out);
  emitVmlinux(ctx, plan.vmlinux, out);
  for (const o of [...opts.objects].sort()) {
    const m = all.get(o);
    if (m !== undefined) emitModule(ctx, m, out);
  }
  const text = Buffer.from(out.result()).toString('latin1');
  return fromMap(loc, parseSymbolMap(text, plan.objtree, opts.names), new Set(all.keys()));
}

/** pseudo-modules of /proc/kallsyms that are not modules: [bpf], [__builtin__ftrace], ... */
const PSEUDO_MODULE = /^(bpf|__builtin__.*)$/;

function fromKallsyms(loc: TargetLocation, names: ReadonlySet<string>): KernelTarget {
  const text = readInputText(loc.path);
  const byName = new Map<string, SymbolCandidate[]>();
  const exported = new Set<string>();
  const loaded = new Set<string>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (line === '') continue;
    if (!KALLSYMS_LINE.test(line)) throw new KlpError('TARGET_BAD_KALLSYMS', `${loc.path}:${lineNo}: not a /proc/kallsyms line: '${line.slice(0, 80)}'`);
    const sp1 = line.indexOf(' ');
    const type = line[sp1 + 1]!;
    const tab = line.indexOf('\t', sp1 + 3);
    const name = tab < 0 ? line.slice(sp1 + 3) : line.slice(sp1 + 3, tab);
    const object = tab < 0 ? 'vmlinux' : line.slice(tab + 2, -1);
    if (PSEUDO_MODULE.test(object)) continue;
    if (object !== 'vmlinux') loaded.add(object);
    if (name.startsWith('__ksymtab_')) exported.add(name.slice(10));
    if (!names.has(name)) continue;
    const l = byName.get(name) ?? [];
    // type letters: lower case local, upper case global; w/W/v/V weak
    const bind = /[wWvV]/.test(type) ? 2 : type === type.toLowerCase() ? 0 : 1;
    l.push({ object, name, pos: 0, count: 0, bind, type: /[tTwW]/.test(type) ? 2 : /[dDbBrRvV]/.test(type) ? 1 : 0 });
    byName.set(name, l);
  }
  for (const l of byName.values()) {
    const per = new Map<string, SymbolCandidate[]>();
    for (const c of l) {
      const p = per.get(c.object) ?? [];
      p.push(c);
      per.set(c.object, p);
    }
    for (const p of per.values()) p.forEach((c, i) => Object.assign(c, { pos: i + 1, count: p.length }));
  }
  if (loc.modules) {
    for (const line of readInputText(loc.modules).split('\n')) {
      const m = /^(\S+) /.exec(line);
      if (m) loaded.add(m[1]!);
    }
  }
  return {
    label: labelOf(loc), kind: 'kallsyms', location: loc, release: loc.release, live: true,
    hasObject: (o) => o === 'vmlinux' || loaded.has(o),
    knowsExports: exported.size > 0,
    isExported: (n) => exported.has(n),
    symbols: (object, name) => (byName.get(name) ?? []).filter((c) => c.object === object),
    candidates: (name) => byName.get(name) ?? [],
  };
}
