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

function addressKey(section: number, value: bigint): string {
  return `${section}:${value}`;
}

/** symbolKeys lists where a group's functions and objects are, keyed as DWARF addresses are. */
function symbolKeys(st: SymbolTable, g: Group, rel: boolean): string[] {
  const keys: string[] = [];
  for (const i of g.members) {
    const t = st.info[i]! & 0xf;
    if (t !== STT_FUNC && t !== STT_OBJECT) continue;
    const sec = st.sectionIndex(i);
    if (sec < 0) continue;
    keys.push(addressKey(rel ? sec : -1, st.value(i)));
  }
  return keys;
}

/** functionAddresses lists the addresses of a linked file's group's functions. */
function functionAddresses(st: SymbolTable, g: Group): bigint[] {
  const out: bigint[] = [];
  for (const i of g.members) if ((st.info[i]! & 0xf) === STT_FUNC && st.sectionIndex(i) >= 0) out.push(st.value(i));
  return out;
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

/** fromDwarf fills in the paths DWARF can give; returns how many groups it placed. */
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
  const byBase = new Map<string, { unit: DwarfUnit; path: string }[]>();
  for (const u of units) {
    if (u.tag !== 0x11 /* DW_TAG_compile_unit */ || u.name === undefined) continue;
    const p = cuSourcePath(u.name, u.compDir);
    if (p === undefined) continue;
    const base = path.posix.basename(p);
    // gas names the STT_FILE of a preprocessed .S after the object (head_64.o): index both
    for (const key of /\.[sS]$/.test(base) ? [base, base.slice(0, -2) + '.o'] : [base]) {
      const l = byBase.get(key);
      if (l) l.push({ unit: u, path: p });
      else byBase.set(key, [{ unit: u, path: p }]);
    }
  }
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
    // several units or several groups of one basename: pair them by addresses. Groups with
    // functions go by the units' code ranges (no DIE is read); the rest by the addresses the
    // DIEs of the units not yet taken define (walked once each, only when needed)
    const ranges = rel ? undefined : cands.map((c) => dw!.codeRanges(c.unit));
    const taken = new Set<number>();
    const later: Group[] = [];
    for (const g of gs) {
      const fns = ranges !== undefined && ranges.every((r) => r !== undefined) ? functionAddresses(st, g) : [];
      const k = fns.length === 0 ? -1 : bestUnique(ranges!.map((r) => fns.reduce((n, a) => n + (r!.some(([lo, hi]) => a >= lo && a < hi) ? 1 : 0), 0)));
      if (k >= 0) {
        g.path = cands[k]!.path;
        taken.add(k);
        placed++;
      } else {
        later.push(g);
      }
    }
    const sets: (Set<string> | undefined)[] = [];
    const setOf = (i: number): Set<string> =>
      (sets[i] ??= new Set(dw!.definedAddresses(cands[i]!.unit).map((a) => addressKey(rel ? a.section : -1, a.value))));
    try {
      for (const g of later) {
        const keys = symbolKeys(st, g, rel);
        if (keys.length === 0) continue;
        const k = bestUnique(cands.map((_, i) => (taken.has(i) ? 0 : keys.reduce((n, key) => n + (setOf(i).has(key) ? 1 : 0), 0))));
        if (k >= 0) {
          g.path = cands[k]!.path;
          placed++;
        }
      }
    } catch (e) {
      if (!unreadable(e)) throw e;
    }
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
  const owner = new Int32Array(st.count).fill(-1);
  for (let i = 1; i < st.count; i++) {
    const g = groupOf[i]!;
    if (g >= 0) owner[i] = groupIx[g]!;
  }
  return { owner, names, stats: { dwarf, objects, basename: groups.length - dwarf - objects } };
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
