/**
 * Source paths for the extended map (format ext.2): which source file, as a path in the tree,
 * defined each local symbol of an object. `.symtab` records only the STT_FILE basename
 * (`proc.c`), which cannot tell arch/x86/kernel/cpu/proc.c from crypto/proc.c; the map generator
 * (`kernel build -> symbols.klp -> ...`) calls sourceFiles() per object to do better.
 *
 * Each STT_FILE entry starts a group: the local symbols that follow it, up to the next STT_FILE,
 * come from one object file. A group gets a path from, in this order:
 *
 *  1. DWARF (a debug vmlinux or module): the compile units of .debug_info, DW_AT_name made
 *     relative to DW_AT_comp_dir. Units and groups are paired by basename; when a basename has
 *     one unit and one group that is the answer, otherwise (init.c, core.c, proc.c ... in
 *     vmlinux) each group goes to the unit that defines most of its symbols' addresses
 *     (subprogram low_pc, variable DW_OP_addr), and only those units' DIEs are read.
 *  2. The build tree's objects (no DWARF): the `.o` files named after the group's file
 *     (`proc.c` -> every `proc.o` under the objtree); the group goes to the one that shares most
 *     of the group's named local functions and objects, compared by name and size. That is
 *     kpatch's idea for finding the object of a symbol (its lookup matches the local symbols of
 *     each object), done here on our own; the sizes tell apart files whose statics share names.
 *     Two objects with the same statics of the same sizes stay undecided.
 *
 * A group that neither finds uniquely keeps its basename, as in ext.1: never a guessed path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DwarfInfo, ElfFile, ElfFormatError, ET_REL, STT_FILE, STT_FUNC, STT_OBJECT } from '../elf/index.js';
import type { DwarfUnit, SymbolTable } from '../elf/index.js';

export interface SourceFiles {
  /** file-table index per symbol index, -1 for none (globals, locals before any STT_FILE) */
  owner: Int32Array;
  /** the file table: a path relative to the tree when recovered, else the STT_FILE name */
  names: string[];
  /** how many groups got a path from DWARF / from the tree's objects / kept the basename */
  stats: { dwarf: number; objects: number; basename: number };
}

interface Group {
  file: string;
  members: number[];
  path: string | undefined;
}

/** groupsOf splits .symtab's locals into STT_FILE groups, in table order. */
function groupsOf(st: SymbolTable, nameOf: (i: number) => string): { groups: Group[]; groupOf: Int32Array } {
  const groups: Group[] = [];
  const groupOf = new Int32Array(st.count).fill(-1);
  let cur: Group | undefined;
  for (let i = 1; i < st.count; i++) {
    const info = st.info[i]!;
    if ((info & 0xf) === STT_FILE) {
      cur = { file: nameOf(i), members: [], path: undefined };
      groups.push(cur);
      continue;
    }
    if (info >>> 4 === 0 && cur !== undefined) {
      cur.members.push(i);
      groupOf[i] = groups.length - 1;
    }
  }
  return { groups, groupOf };
}

/**
 * cuSourcePath turns a unit's DW_AT_name into a tree-relative path: relative to DW_AT_comp_dir
 * when it lies below it, `./` and the `../` that lead from an O= build directory back to the
 * source tree dropped. Returns undefined for names that cannot be a map field (newline).
 */
export function cuSourcePath(name: string, compDir: string | undefined): string | undefined {
  if (name.length === 0 || name.includes('\n')) return undefined;
  let n = name;
  if (n.startsWith('/') && compDir !== undefined && compDir.startsWith('/')) {
    const dir = compDir.endsWith('/') ? compDir : compDir + '/';
    if (n.startsWith(dir)) n = n.slice(dir.length);
  }
  n = path.posix.normalize(n);
  while (n.startsWith('../')) n = n.slice(3);
  if (n.startsWith('./')) n = n.slice(2);
  return n === '.' || n === '' ? undefined : n;
}

/** AddressSet holds addresses as (section, value) pairs: values per section */
class AddressSet {
  private readonly by = new Map<number, Set<bigint>>();
  add(section: number, value: bigint): void {
    let s = this.by.get(section);
    if (s === undefined) this.by.set(section, (s = new Set()));
    s.add(value);
  }
  has(section: number, value: bigint): boolean {
    return this.by.get(section)?.has(value) === true;
  }
}

/** symbolKeys lists where a group's functions and objects are (section, value), placed as DWARF addresses are. */
function symbolKeys(st: SymbolTable, g: Group, rel: boolean): { sections: number[]; values: bigint[] } {
  const sections: number[] = [], values: bigint[] = [];
  for (const i of g.members) {
    const t = st.info[i]! & 0xf;
    if (t !== STT_FUNC && t !== STT_OBJECT) continue;
    const sec = st.sectionIndex(i);
    if (sec < 0) continue;
    sections.push(rel ? sec : -1);
    values.push(st.value(i));
  }
  return { sections, values };
}

/**
 * placeKey makes one number of a (section, value) address, so that RangeLookup can compare
 * addresses of a relocatable file's sections (-1 for a linked file's: the value as it is).
 */
function placeKey(section: number, value: bigint): bigint {
  return section < 0 ? value : (BigInt(section + 1) << 64n) + value;
}

/** functionAddresses lists where a group's functions are (placeKey), placed as DWARF code ranges are. */
function functionAddresses(st: SymbolTable, g: Group, rel: boolean): bigint[] {
  const out: bigint[] = [];
  for (const i of g.members) {
    if ((st.info[i]! & 0xf) !== STT_FUNC) continue;
    const sec = st.sectionIndex(i);
    if (sec >= 0) out.push(placeKey(rel ? sec : -1, st.value(i)));
  }
  return out;
}

/** unitRanges returns a unit's code ranges as placeKey pairs, undefined when DWARF does not say. */
function unitRanges(dw: DwarfInfo, u: DwarfUnit): [bigint, bigint][] | undefined {
  return dw.codeRanges(u)?.map((r) => [placeKey(r.section, r.start), placeKey(r.section, r.end)]);
}

/**
 * RangeLookup counts, for each candidate unit, how many of a list of addresses lie in one of
 * its code ranges: the ranges of all candidates sorted by start, with the largest end so far,
 * so each address is a binary search and a look at the few ranges that can hold it.
 */
class RangeLookup {
  private readonly lo: bigint[] = [];
  private readonly hi: bigint[] = [];
  private readonly cand: number[] = [];
  /** maxHi[i]: the largest end among ranges 0..i */
  private readonly maxHi: bigint[] = [];
  constructor(private readonly ranges: readonly (readonly [bigint, bigint])[][]) {
    const all: [bigint, bigint, number][] = [];
    ranges.forEach((r, c) => {
      for (const [lo, hi] of r) all.push([lo, hi, c]);
    });
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let m: bigint | undefined;
    for (const [lo, hi, c] of all) {
      this.lo.push(lo);
      this.hi.push(hi);
      this.cand.push(c);
      m = m === undefined || hi > m ? hi : m;
      this.maxHi.push(m);
    }
  }
  /** scores returns, per candidate, how many of `addrs` lie in its ranges */
  scores(addrs: readonly bigint[]): number[] {
    const n = this.ranges.length;
    const out = new Array<number>(n).fill(0);
    const seen = new Int32Array(n).fill(-1);
    for (let j = 0; j < addrs.length; j++) {
      const a = addrs[j]!;
      let lo = 0, hi = this.lo.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.lo[mid]! <= a) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo - 1; i >= 0 && this.maxHi[i]! > a; i--) {
        const c = this.cand[i]!;
        if (a < this.hi[i]! && seen[c] !== j) {
          seen[c] = j;
          out[c]!++;
        }
      }
    }
    return out;
  }
}

/** bestUnique returns the index of the single highest positive score, or -1. */
function bestUnique(scores: number[]): number {
  let best = -1, bestScore = 0, tie = false;
  scores.forEach((s, i) => {
    if (s > bestScore) {
      best = i;
      bestScore = s;
      tie = false;
    } else if (s === bestScore && s > 0) {
      tie = true;
    }
  });
  return tie ? -1 : best;
}

/**
 * unreadable tells the DWARF this reader cannot decode (zstd-compressed sections, a DWARF
 * version or form it does not know) from malformed DWARF: the first leaves the basenames, the
 * second is an error like any malformed ELF.
 */
function unreadable(e: unknown): boolean {
  return e instanceof ElfFormatError && (e.code === 'ELF_UNSUPPORTED_COMPRESSION' || e.code === 'DWARF_UNSUPPORTED');
}

/** a compile unit and the tree-relative path of its source */
interface UnitPath {
  unit: DwarfUnit;
  path: string;
}

/**
 * fromDwarf fills in the paths DWARF can give; returns how many groups it placed. Its parts are
 * small functions: the one-unit-one-group case is most of every file, and the pairing by
 * addresses (placeAmbiguous) is needed by few files.
 */
function fromDwarf(elf: ElfFile, st: SymbolTable, groups: Group[]): number {
  let dw: DwarfInfo | undefined;
  let units: DwarfUnit[];
  try {
    dw = DwarfInfo.open(elf);
    if (dw === undefined) return 0;
    units = dw.units();
  } catch (e) {
    if (unreadable(e)) return 0;
    throw e;
  }
  const byBase = unitsByBasename(units);
  const groupsByFile = new Map<string, Group[]>();
  for (const g of groups) {
    const l = groupsByFile.get(g.file);
    if (l) l.push(g);
    else groupsByFile.set(g.file, [g]);
  }
  const rel = elf.header.e_type === ET_REL;
  let placed = 0;
  for (const [file, gs] of groupsByFile) {
    const cands = byBase.get(file);
    if (cands === undefined) continue;
    if (cands.length === 1 && gs.length === 1) {
      gs[0]!.path = cands[0]!.path;
      placed++;
      continue;
    }
    placed += placeAmbiguous(dw, st, gs, cands, rel);
  }
  return placed;
}

/** unitsByBasename indexes the compile units with a usable path by the path's basename. */
function unitsByBasename(units: readonly DwarfUnit[]): Map<string, UnitPath[]> {
  const byBase = new Map<string, UnitPath[]>();
  for (const u of units) {
    if (u.tag !== 0x11 /* DW_TAG_compile_unit */ || u.name === undefined) continue;
    const p = cuSourcePath(u.name, u.compDir);
    if (p === undefined) continue;
    const base = path.posix.basename(p);
    addUnitPath(byBase, base, u, p);
    // gas names the STT_FILE of a preprocessed .S after the object (head_64.o): index both
    if (base.endsWith('.s') || base.endsWith('.S')) addUnitPath(byBase, base.slice(0, -2) + '.o', u, p);
  }
  return byBase;
}

function addUnitPath(byBase: Map<string, UnitPath[]>, key: string, unit: DwarfUnit, p: string): void {
  const l = byBase.get(key);
  if (l) l.push({ unit, path: p });
  else byBase.set(key, [{ unit, path: p }]);
}

/**
 * placeAmbiguous pairs the groups and units of one basename (several of either) by addresses;
 * returns how many groups it placed. Groups with functions go by the units' code ranges (no
 * DIE is read); the rest by the addresses the DIEs of the units not yet taken define (walked
 * once each, only when needed).
 */
function placeAmbiguous(dw: DwarfInfo, st: SymbolTable, gs: readonly Group[], cands: readonly UnitPath[], rel: boolean): number {
  let placed = 0;
  const ranges = cands.map((c) => unitRanges(dw, c.unit));
  const lookup = ranges.every((r) => r !== undefined) ? new RangeLookup(ranges as [bigint, bigint][][]) : undefined;
  const taken = new Set<number>();
  const later: Group[] = [];
  for (const g of gs) {
    const fns = lookup !== undefined ? functionAddresses(st, g, rel) : [];
    const k = fns.length === 0 ? -1 : bestUnique(lookup!.scores(fns));
    if (k >= 0) {
      g.path = cands[k]!.path;
      taken.add(k);
      placed++;
    } else {
      later.push(g);
    }
  }
  const sets: (AddressSet | undefined)[] = [];
  const setOf = (i: number): AddressSet => {
    let set = sets[i];
    if (set === undefined) {
      set = new AddressSet();
      for (const a of dw.definedAddresses(cands[i]!.unit)) set.add(rel ? a.section : -1, a.value);
      sets[i] = set;
    }
    return set;
  };
  try {
    for (const g of later) {
      const { sections, values } = symbolKeys(st, g, rel);
      if (values.length === 0) continue;
      const k = bestUnique(cands.map((_, i) => {
        if (taken.has(i)) return 0;
        const set = setOf(i);
        let n = 0;
        for (let j = 0; j < values.length; j++) if (set.has(sections[j]!, values[j]!)) n++;
        return n;
      }));
      if (k >= 0) {
        g.path = cands[k]!.path;
        placed++;
      }
    }
  } catch (e) {
    if (!unreadable(e)) throw e;
  }
  return placed;
}

/**
 * ObjectIndex lists the `.o` files of a build tree by basename, read once per tree (sorted
 * directory walks, so the answers never depend on the file system's order). Directories that
 * never hold kernel objects (hidden ones, tools/, scripts/, Documentation/) are not entered.
 */
export class ObjectIndex {
  private byStem: Map<string, string[]> | undefined;
  private readonly locals = new Map<string, Set<string> | null>();
  constructor(readonly objtree: string) {}

  private build(): Map<string, string[]> {
    const m = new Map<string, string[]>();
    // symlinked directories are followed (trees laid out as symlink farms), each real directory
    // once, so a link cycle ends
    const seen = new Set<string>();
    // the real path of a directory reached through real directories is its parent's plus its
    // name: only the top and symlinked directories need realpath(3)
    const walk = (rel: string, parentReal: string | undefined): void => {
      let entries: fs.Dirent[];
      const abs = path.join(this.objtree, rel);
      try {
        const real = parentReal === undefined ? fs.realpathSync.native(abs) : path.join(parentReal, path.basename(rel));
        if (seen.has(real)) return;
        seen.add(real);
        entries = fs.readdirSync(abs, { withFileTypes: true });
        parentReal = real;
      } catch {
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        // a symlink is followed to see what it is, unless its name says it is a module (a debug
        // package's tree links every .ko): never an object or a directory the walk wants
        const link = e.isSymbolicLink() && !MODULE_NAME.test(e.name) ? fs.statSync(path.join(abs, e.name), { throwIfNoEntry: false }) : undefined;
        if (e.isDirectory() || link?.isDirectory()) {
          if (e.name.startsWith('.') || (rel === '' && SKIP_TOP.has(e.name))) continue;
          walk(r, e.isDirectory() ? parentReal : undefined);
        } else if ((e.isFile() || link?.isFile()) && e.name.endsWith('.o') && !e.name.endsWith('.mod.o') && !e.name.startsWith('.')) {
          const stem = e.name.slice(0, -2);
          const l = m.get(stem);
          if (l) l.push(r);
          else m.set(stem, [r]);
        }
      }
    };
    walk('', undefined);
    return m;
  }

  /** objectsNamed returns the tree-relative paths of every `<stem>.o`. */
  objectsNamed(stem: string): readonly string[] {
    this.byStem ??= this.build();
    return this.byStem.get(stem) ?? [];
  }

  /**
   * localKeys returns `name size` for each named local FUNC/OBJECT symbol of an object (null:
   * unreadable). Sizes do not change in the final link, and tell apart two files whose statics
   * share their names.
   */
  localKeys(rel: string): Set<string> | null {
    const hit = this.locals.get(rel);
    if (hit !== undefined) return hit;
    let out: Set<string> | null = null;
    try {
      const elf = ElfFile.open(path.join(this.objtree, rel));
      try {
        if (elf.symtabIndex() !== undefined) {
          const st = elf.symbols();
          out = new Set();
          for (let i = 1; i < st.count; i++) if (isNamedLocal(st, i)) out.add(localKey(st.name(i), st, i));
        }
      } finally {
        elf.close();
      }
    } catch {
      out = null; // not ELF, or malformed: it is simply not a candidate
    }
    this.locals.set(rel, out);
    return out;
  }
}

function isNamedLocal(st: SymbolTable, i: number): boolean {
  const info = st.info[i]!;
  const t = info & 0xf;
  return info >>> 4 === 0 && (t === STT_FUNC || t === STT_OBJECT) && st.strtab[st.nameOff[i]!] !== 0;
}

function localKey(name: string, st: SymbolTable, i: number): string {
  return `${name} ${st.size(i)}`;
}

/** names of module files (compressed or not) */
const MODULE_NAME = /\.ko(\.gz|\.xz|\.zst)?$/;

/** top-level entries never searched: no kernel objects, or (`source`, in O= trees) another tree */
const SKIP_TOP = new Set(['tools', 'scripts', 'Documentation', 'usr', 'source']);

const indexes = new Map<string, ObjectIndex>();

/** objectIndex returns the (shared, lazily built) index of a tree's objects. */
export function objectIndex(objtree: string): ObjectIndex {
  let ix = indexes.get(objtree);
  if (ix === undefined) indexes.set(objtree, (ix = new ObjectIndex(objtree)));
  return ix;
}

/** fromObjects places the remaining groups by their local names; returns how many it placed. */
function fromObjects(st: SymbolTable, groups: Group[], index: ObjectIndex, nameOf: (i: number) => string): number {
  let placed = 0;
  for (const g of groups) {
    if (g.path !== undefined) continue;
    const dot = g.file.lastIndexOf('.');
    if (dot <= 0 || g.file.includes('/')) continue;
    const cands = index.objectsNamed(g.file.slice(0, dot));
    if (cands.length === 0) continue;
    const keys: string[] = [];
    for (const i of g.members) if (isNamedLocal(st, i)) keys.push(localKey(nameOf(i), st, i));
    // a group without named statics: nothing in the map refers to it; one candidate names it
    const scores = keys.length === 0
      ? cands.map(() => (cands.length === 1 ? 1 : 0))
      : cands.map((c) => {
        const l = index.localKeys(c);
        return l === null ? 0 : keys.reduce((n, x) => n + (l.has(x) ? 1 : 0), 0);
      });
    const k = bestUnique(scores);
    if (k < 0) continue;
    const dir = path.posix.dirname(cands[k]!);
    g.path = dir === '.' ? g.file : `${dir}/${g.file}`;
    placed++;
  }
  return placed;
}

/**
 * sourceFiles builds an object's file table: one entry per distinct path (or, unrecovered,
 * STT_FILE name), indexed from 0 in order of first appearance, and the owner of each local
 * symbol. `objtree`, when given, lets groups without DWARF be placed by the tree's objects.
 */
export function sourceFiles(elf: ElfFile, st: SymbolTable, nameOf: (i: number) => string, objtree: string | undefined): SourceFiles {
  const { groups, groupOf } = groupsOf(st, nameOf);
  const dwarf = groups.length === 0 ? 0 : fromDwarf(elf, st, groups);
  const objects = objtree === undefined || dwarf === groups.length ? 0 : fromObjects(st, groups, objectIndex(objtree), nameOf);
  const names: string[] = [];
  const ixOf = new Map<string, number>();
  const groupIx = groups.map((g) => {
    const n = g.path ?? g.file;
    let ix = ixOf.get(n);
    if (ix === undefined) {
      ix = names.length;
      names.push(n);
      ixOf.set(n, ix);
    }
    return ix;
  });
  return { owner: owners(groupOf, groupIx), names, stats: { dwarf, objects, basename: groups.length - dwarf - objects } };
}

/**
 * owners maps each symbol's group to its file-table index (-1 for none). A function of its own:
 * as a loop inside sourceFiles it was compiled on-stack (OSR) during vmlinux's 10^5 symbols, and
 * that code then bailed out at the loop's end on every module after.
 */
function owners(groupOf: Int32Array, groupIx: readonly number[]): Int32Array {
  const owner = new Int32Array(groupOf.length).fill(-1);
  for (let i = 1; i < groupOf.length; i++) {
    const g = groupOf[i]!;
    if (g >= 0) owner[i] = groupIx[g]!;
  }
  return owner;
}

/**
 * fileTableStats counts the file-table entries of a written ext map and how many of them are
 * paths (for `symbols -v`); `parts` hold whole lines, as the generator returns them.
 */
export function fileTableStats(parts: readonly Uint8Array[]): { entries: number; paths: number } {
  let entries = 0, paths = 0;
  for (const p of parts) {
    let at = p[0] === 0x40 ? 0 : p.indexOf(0x40);
    while (at >= 0) {
      const lineStart = at === 0 || p[at - 1] === 10;
      let end = p.indexOf(10, at);
      if (end < 0) end = p.length;
      if (lineStart) {
        entries++;
        if (p.subarray(at, end).includes(0x2f)) paths++;
      }
      at = p.indexOf(0x40, end);
    }
  }
  return { entries, paths };
}
