/**
 * The symbol map generator: kernel build tree -> symbols.klp. It runs once per kernel build,
 * after vmlinux and the modules are linked, and before any livepatch module is converted
 * (`kernel build -> symbols.klp -> module link -> convert -> livepatch load`).
 *
 * Format 0.1 reproduces, byte for byte, the 2022 kbuild recipe (klp-convert-lineage.md §2–3;
 * ../shared/tools/symbols-klp-baseline.sh): `nm -f posix | cut -d' ' -f1` per object, in one
 * process, reading only the ELF header, section headers, .symtab, its string table and .modinfo.
 * The extended format (docs/symbols-format.md) adds what the kernel needs to count sympos, and
 * the source path of each local symbol (path-recovery.ts: from the DWARF compile units of a
 * debug build, else from the tree's .o files), which also reads parts of the debug sections.
 *
 * What GNU nm 2.40 prints, learned from binutils (bfd/elfcode.h elf_slurp_symbol_table, nm.c
 * filter_symbols) and checked against nm in test/integration/symbols-nm.test.ts: every symbol
 * table entry except the null entry 0 and the STT_SECTION and STT_FILE entries (BFD flags both
 * BSF_DEBUGGING, which nm hides without -a). Undefined, absolute, local-label (.LC0) and
 * empty-named symbols are printed. On x86 there are no "target special" symbols to hide.
 * Order: nm sorts by name with strcoll (byte order under LC_COLLATE=C) using glibc's qsort,
 * a stable merge sort on glibc 2.36; equal names print identical lines either way.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile, ReadArena, SHN_UNDEF, SHN_XINDEX, SHN_LORESERVE, STB_WEAK, STT_FILE, STT_OBJECT, STT_SECTION } from '../elf/index.js';
import type { SymbolTable } from '../elf/index.js';
import { emitNames01 } from './map01.js';
import { threadNameSort } from './namesort.js';
import { sourceFiles } from './path-recovery.js';
import { compressionOf, decompressFile } from './decompress.js';
import { KlpError } from './errors.js';
import { kallsymsVisible, leadingUnderscores, mayBeLinkerProvided, type SectionInfo } from './kallsyms.js';
import { kernelModuleName } from './modname.js';
import { hasLivepatchTag } from './modinfo.js';
import { findKernelTree, moduleEntries, type KernelTree } from './kernel-tree.js';
import { checkVmlinuxSections, checkVmlinuxSymbols } from './vmlinux-symbols.js';

export const HEADER_01 = 'klp-convert-symbol-data.0.1';
export const HEADER_EXT = 'klp-convert-symbol-data-ext.2';

export type MapFormat = '0.1' | 'ext';

export interface ModuleEntry {
  /** the modules.order line, e.g. 'fs/nls/nls_iso8859-1.o' */
  entry: string;
  /** entry without .o/.ko, relative to the objtree */
  stem: string;
  /** the file read: <stem>.o, else <stem>.ko, else a compressed .ko */
  file: string;
  /** file-form basename (dashes kept): the 0.1 object line */
  base: string;
  /** kernel form (dashes become underscores): the ext object line */
  kname: string;
  /**
   * `file` was found in its directory's listing and not stat'ed (a symlink, or any kind of entry):
   * openModule opens it, and falls back to the next candidate if it does not open as a file
   */
  unchecked?: boolean;
}

export interface TreePlan {
  /** the directory module paths are relative to (KernelTree.root) */
  objtree: string;
  vmlinux: string;
  modules: ModuleEntry[];
  /** modules.order entries left out as livepatch modules, with the reason */
  livepatch: { entry: string; why: string }[];
  /** what the directory was (build tree, debug package...) */
  tree: KernelTree;
}

export interface GenerateOptions {
  /** the kernel directory (see findKernelTree), or what findKernelTree said about it */
  objtree: string | KernelTree;
  format: MapFormat;
  /** called after each object is read */
  onProgress?: (done: number, total: number, file: string) => void;
  /**
   * where the map goes as it is made, in order (the bytes may be reused once it returns: write
   * or copy them). Without it the map is kept in memory and returned as `parts`.
   */
  write?: (bytes: Uint8Array) => void;
}

export interface GenerateResult {
  /** the map, joined (a copy when it was built in parts; empty when it went to `write`) */
  readonly bytes: Uint8Array;
  /** the map as consecutive parts (write these: no joined copy); none when it went to `write` */
  parts: Uint8Array[];
  /** its length in bytes */
  size: number;
  plan: TreePlan;
  lines: number;
}

/**
 * Output buffer; strings are copied byte by byte (style.md §9: fastest for short names), the 0.1
 * names come in chunks written by namesort.ts. With a `drain`, a full buffer is handed to it and
 * reused (a streamed map: the buffer stays small and hot, no fresh pages per megabyte written);
 * without one it grows.
 */
export class Sink {
  buf: Uint8Array;
  len = 0;
  lines = 0;
  /** bytes handed to drain so far */
  drained = 0;
  /**
   * A large first size costs nothing until written (a zero-filled ArrayBuffer's pages are mapped on
   * first touch) and saves the copies of growing: the generator starts at 64 MiB, more than the
   * generic distribution kernel's whole map (30 MB); growing from 16 MiB cost a 32 MiB copy
   * and 10 MiB of peak RSS there (-j 1: 113 -> 103 MiB; -j 2: 133 -> 126 MiB).
   */
  constructor(size = 1 << 20, public drain?: (bytes: Uint8Array) => void) {
    this.buf = new Uint8Array(size);
  }
  /** reserve makes room for n more bytes: `len` may drop to 0 (drained), `buf` may change */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    if (this.drain !== undefined && this.len > 0) {
      this.flush();
      if (n <= this.buf.length) return;
    }
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  /** flush hands what the buffer holds to drain and empties it */
  flush(): void {
    if (this.drain === undefined || this.len === 0) return;
    this.drain(this.buf.subarray(0, this.len));
    this.drained += this.len;
    this.len = 0;
  }
  ascii(s: string): void {
    this.reserve(s.length);
    const b = this.buf;
    let l = this.len;
    for (let i = 0; i < s.length; i++) b[l++] = s.charCodeAt(i) & 0xff;
    this.len = l;
  }
  line(s: string): void {
    this.ascii(s);
    this.nl();
  }
  nl(): void {
    this.reserve(1);
    this.buf[this.len++] = 10;
    this.lines++;
  }
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

function exists(p: string): boolean {
  // no exception for a missing file: a throw per probe cost ~40 ms over 4,230 modules
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * FileProbe answers "is it there" for many paths in few directories with one readdir per
 * directory instead of a stat per path: planning probes three paths per module (.mod, .o, .ko),
 * 3,400 stats on the cloud corpus (~15 ms) against ~200 readdirs. It lists names only (no
 * Dirent per entry): a listed name is reported unchecked, of whatever type, and the caller stats
 * or opens it (a debug package's modules can all be links; openModule falls back when one does
 * not open as a file). An unreadable directory falls back to a stat per path (exists()).
 */
class FileProbe {
  private readonly dirs = new Map<string, Set<string> | null>();
  /** found tells whether `dir` lists `name` (Listed: not stat'ed), or holds it as a regular file (File: stat'ed) */
  found(dir: string, name: string): Found {
    let list = this.dirs.get(dir);
    if (list === undefined) {
      try {
        list = new Set(fs.readdirSync(dir));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        list = code === 'ENOENT' || code === 'ENOTDIR' ? new Set() : null;
      }
      this.dirs.set(dir, list);
    }
    if (list === null) return exists(path.join(dir, name)) ? Found.File : Found.None;
    return list.has(name) ? Found.Listed : Found.None;
  }
}

/** what FileProbe.found found: nothing, a regular file, or a name in its directory's listing */
const enum Found { None, File, Listed }

/** the files a module may be read from, in the recipe's order of preference (.o, else .ko) */
const MODULE_EXTS = ['.o', '.ko', '.ko.zst', '.ko.xz', '.ko.gz'];

/**
 * moduleFile picks the file of a module `dir`/`name` (no extension), as the recipe's
 * `[ -e $name.o ] || obj=$name.ko`, or undefined. A name found in the directory's listing is
 * taken unchecked (`unchecked`: a symlink, or anything else): openModule opens it, and falls
 * back (resolveModuleFile) if it does not open as a file.
 */
function moduleFile(probe: FileProbe, dir: string, name: string): { ext: string; unchecked: boolean } | undefined {
  for (const ext of MODULE_EXTS) {
    const k = probe.found(dir, name + ext);
    if (k !== Found.None) return { ext, unchecked: k === Found.Listed };
  }
  return undefined;
}

/** resolveModuleFile is moduleFile with every candidate stat'ed (links followed), for a link that failed to open. */
function resolveModuleFile(objtree: string, m: ModuleEntry): string {
  const abs = path.join(objtree, m.stem);
  for (const ext of MODULE_EXTS) if (exists(abs + ext)) return abs + ext;
  throw missingModule(objtree, m.entry, m.stem);
}

function missingModule(objtree: string, entry: string, stem: string): KlpError {
  return new KlpError('TREE_MODULE_MISSING',
    `${path.join(objtree, entry)}: listed in modules.order but neither ${stem}.o nor ${stem}.ko (.gz/.xz/.zst) exists; rebuild the modules`);
}

/**
 * joinClean is path.join(root, rel) for the common case of an absolute, normalised root and a
 * plain relative modules.order line (no '.', '..' or empty component): a string concatenation,
 * where path.join's normalisation showed in profiles at 4,230 modules. Anything else goes
 * through path.join.
 */
function joinClean(root: string, rootIsClean: boolean, rel: string): string {
  if (!rootIsClean || rel.length === 0 || rel[0] === '/' || UNCLEAN.test(rel)) return path.join(root, rel);
  return root === '/' ? root + rel : root + '/' + rel;
}
const UNCLEAN = /(^|\/)\.{1,2}(\/|$)|\/\/|\/$/;

function readLines(p: string): string[] {
  return fs.readFileSync(p, 'latin1').split('\n').filter((l) => l.length > 0);
}

/**
 * planTree lists the objects of a kernel tree (a build tree, a debug package root or its
 * lib/modules/<release> directory: findKernelTree in kernel-tree.ts): vmlinux, then each module
 * in byte order of its modules.order line (or of its path under kernel/ when the tree has no
 * modules.order), duplicates dropped, livepatch modules left out (their .mod file mentions
 * LIVEPATCH, or modules.livepatch lists them, or their .modinfo has a `livepatch` key).
 */
export function planTree(dir: string | KernelTree): TreePlan {
  const tree = typeof dir === 'string' ? findKernelTree(dir) : dir;
  const objtree = tree.root;
  const vmlinux = tree.vmlinux;
  checkVmlinuxSections(vmlinux, tree.dir); // a BTF-only or stripped vmlinux: say so before anything else
  const lpFile = path.join(objtree, 'modules.livepatch');
  const lpList = exists(lpFile) ? new Set(readLines(lpFile)) : new Set<string>();
  const modules: ModuleEntry[] = [];
  const livepatch: { entry: string; why: string }[] = [];
  const probe = new FileProbe();
  const rootIsClean = path.isAbsolute(objtree) && path.normalize(objtree) === objtree && (objtree === '/' || !objtree.endsWith('/'));
  for (const entry of moduleEntries(tree)) {
    let stem = entry.endsWith('.ko') ? entry.slice(0, -3) : entry;
    if (stem.endsWith('.o')) stem = stem.slice(0, -2);
    const abs = joinClean(objtree, rootIsClean, stem);
    const slash = abs.lastIndexOf('/');
    const dir = slash <= 0 ? path.dirname(abs) : abs.slice(0, slash), name = abs.slice(slash + 1);
    if (lpList.has(entry)) {
      livepatch.push({ entry, why: 'listed in modules.livepatch' });
      continue;
    }
    // (modFileSaysLivepatch stats the .mod: a listed name that is not a file says nothing)
    if (probe.found(dir, name + '.mod') !== Found.None && modFileSaysLivepatch(abs + '.mod')) {
      livepatch.push({ entry, why: `${stem}.mod has the LIVEPATCH marker` });
      continue;
    }
    const f = moduleFile(probe, dir, name);
    if (f === undefined) throw missingModule(objtree, entry, stem);
    const base = stem.slice(stem.lastIndexOf('/') + 1);
    modules.push({ entry, stem, file: abs + f.ext, base, kname: kernelModuleName(stem), ...(f.unchecked ? { unchecked: true } : {}) });
  }
  return { objtree, vmlinux, modules, livepatch, tree };
}

let modBuf = Buffer.allocUnsafe(1 << 16);

/** modFileSaysLivepatch greps <name>.mod for LIVEPATCH (the v6 02/12 marker), like `grep -o`. */
function modFileSaysLivepatch(p: string): boolean {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (st === undefined || !st.isFile()) return false;
  const fd = fs.openSync(p, 'r');
  try {
    if (modBuf.length < st.size) modBuf = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < st.size) {
      const r = fs.readSync(fd, modBuf, n, st.size - n, n);
      if (r === 0) break;
      n += r;
    }
    return modBuf.subarray(0, n).indexOf('LIVEPATCH') >= 0;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * readArena is this thread's arena, reset after each object: fresh buffers per read cost page
 * faults and GC, and with two threads the page faults serialise on the mm lock. It is the read
 * region of the thread's NameSort memory, so the 0.1 names are sorted where they were read
 * (namesort.ts).
 */
function readArena(): ReadArena {
  return threadNameSort().arena;
}

function openObject(file: string): ElfFile {
  const c = compressionOf(file);
  if (c === undefined) return ElfFile.open(file, { arena: readArena() });
  return ElfFile.parse(decompressFile(file, c), file);
}

/**
 * openModule opens a module's file. One planTree took unchecked from a directory listing that
 * does not open as a file (a dangling link, a directory) is resolved as the recipe's `[ -e ]`
 * would have: the next candidate that is a file (m.file is updated), or TREE_MODULE_MISSING;
 * when it is a file after all, its own error stands.
 */
function openModule(objtree: string, m: ModuleEntry): ElfFile {
  if (m.unchecked !== true) return openObject(m.file);
  try {
    return openObject(m.file);
  } catch (e) {
    const real = resolveModuleFile(objtree, m);
    if (real === m.file) throw e;
    m.file = real;
    m.unchecked = false;
    return openObject(real);
  }
}

function badName(st: SymbolTable, i: number): never {
  st.nameEnd(i); // throws the ElfFormatError with the file and offset
  throw new Error('unreachable');
}

// ---- extended format ---------------------------------------------------------------------


export interface SymbolVersFile {
  /** kernel-form object name -> exported names */
  byObject: Map<string, Set<string>>;
}

/** readModuleSymvers parses <objtree>/Module.symvers (crc, name, module, export type, namespace). */
export function readModuleSymvers(objtree: string): SymbolVersFile | undefined {
  const p = path.join(objtree, 'Module.symvers');
  if (!exists(p)) return undefined;
  const byObject = new Map<string, Set<string>>();
  for (const line of readLines(p)) {
    const f = line.split('\t');
    if (f.length < 3) continue;
    const obj = f[2] === 'vmlinux' ? 'vmlinux' : kernelModuleName(f[2]!);
    let s = byObject.get(obj);
    if (!s) byObject.set(obj, (s = new Set()));
    s.add(f[1]!);
  }
  return { byObject };
}

function sectionInfos(elf: ElfFile): SectionInfo[] {
  return elf.sections.map((s) => ({ flags: Number(s.sh_flags & 0xffffffffn), type: s.sh_type }));
}

function resolvedShndx(st: SymbolTable, i: number): number {
  const s = st.shndx[i]!;
  if (s === SHN_XINDEX && st.xindex !== undefined) return st.xindex[i]!;
  return s;
}

/** Names of one symbol table, decoded once as a single latin1 string and sliced per symbol. */
class Names {
  private readonly s: string;
  constructor(readonly st: SymbolTable) {
    const t = st.strtab;
    this.s = Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('latin1');
  }
  get(i: number): string {
    const o = this.st.nameOff[i]!;
    if (this.s.length === 0) return '';
    const e = this.s.indexOf('\0', o);
    if (e < 0) badName(this.st, i);
    return this.s.slice(o, e);
  }
}

/** exportsOf collects X for every __ksymtab_X / __export_symbol_X symbol of an object. */
function exportsOf(st: SymbolTable, names: Names, extra: Set<string> | undefined): Set<string> {
  const ex = new Set<string>(extra ?? []);
  const s = st.strtab;
  for (let i = 1; i < st.count; i++) {
    const o = st.nameOff[i]!;
    if (s[o] !== 0x5f || s[o + 1] !== 0x5f) continue; // "__"
    const c = s[o + 2];
    if (c !== 0x6b && c !== 0x65) continue; // k(symtab_) or e(xport_symbol_)
    const name = names.get(i);
    if (name.startsWith('__ksymtab_')) ex.add(name.slice(10));
    else if (name.startsWith('__export_symbol_')) ex.add(name.slice(16));
  }
  return ex;
}

/** initSections marks the sections whose symbols the module loader treats as init (`.init*`). */
function initSections(elf: ElfFile): Uint8Array {
  const m = new Uint8Array(elf.sections.length);
  for (const s of elf.sections) if (s.name.startsWith('.init')) m[s.index] = 1;
  return m;
}

interface ExtCtx {
  st: SymbolTable;
  names: Names;
  init: Uint8Array;
  exported: Set<string>;
  owner: Int32Array;
}

/**
 * emitExtLine writes one symbol line. It runs once per symbol (~155k for vmlinux), so it writes
 * into the buffer through locals with one reserve and looks the flag letters up in typed arrays.
 */
function emitExtLine(out: Sink, c: ExtCtx, i: number, sh: number, name: string | undefined): void {
  const st = c.st;
  const o = st.nameOff[i]!;
  const t = st.strtab;
  // a decoded name gives its length (latin1: one byte per character); else find the NUL
  let e = o;
  if (name !== undefined) e += name.length;
  else {
    while (e < t.length && t[e] !== 0) e++;
    if (e === t.length) badName(st, i);
  }
  out.reserve(e - o + 24); // name, ' ', up to 4 flags, ' ', 10 digits, '\n'
  const b = out.buf;
  let l = out.len;
  for (let p = o; p < e; p++) b[l++] = t[p]!;
  b[l++] = 32;
  if (sh === SHN_UNDEF) {
    b[l++] = 0x55; // U
  } else {
    const info = st.info[i]!;
    const bind = info >>> 4;
    b[l++] = BIND_LETTER[bind]!;
    b[l++] = TYPE_LETTER[info & 0xf]!;
    if (sh < c.init.length && c.init[sh] === 1) b[l++] = 0x69; // i
    if (bind !== 0 && c.exported.size > 0 && c.exported.has(name ?? c.names.get(i))) b[l++] = 0x78; // x
    const f = c.owner[i]!;
    if (f >= 0) {
      b[l++] = 32;
      // decimal digits written in place (String(f) made a string per local symbol)
      let d = 1;
      while (d * 10 <= f) d *= 10;
      for (let r = f; d >= 1; d = (d / 10) | 0) {
        const q = (r / d) | 0;
        b[l++] = 0x30 + q;
        r -= q * d;
      }
    }
  }
  b[l++] = 10;
  out.len = l;
  out.lines++;
}

const BIND_CODES: Record<number, number> = { 0: 0x6c, 1: 0x67, 2: 0x77, 10: 0x75 }; // l g w u
const TYPE_CODES: Record<number, number> = { 0: 0x6e, 1: 0x6f, 2: 0x66, 5: 0x63, 6: 0x74, 10: 0x69 }; // n o f c t i
/** the letters by STB_* / STT_* value (4 bits each): o (other) and ? (other) where unnamed */
const BIND_LETTER = Uint8Array.from({ length: 16 }, (_, v) => BIND_CODES[v] ?? 0x6f);
const TYPE_LETTER = Uint8Array.from({ length: 16 }, (_, v) => TYPE_CODES[v] ?? 0x3f);

/**
 * sortByAddress sorts symbol indexes in `order` (a total order whose first keys are the address
 * halves hi, lo) with one native sort of numbers: each index becomes the exact integer
 * (rank of hi, lo, position) below 2^53 in a Float64Array, and only runs of equal addresses go
 * through `order`. vmlinux has ~155k such symbols: a comparator sort of them all took ~40 % of
 * the extended map's vmlinux time. Falls back to `order` when the key does not fit.
 */
export function sortByAddress(keep: number[], hi: Uint32Array, lo: Uint32Array, order: (a: number, b: number) => number): void {
  const n = keep.length;
  const his = [...new Set(keep.map((i) => hi[i]!))].sort((a, b) => a - b);
  const rank = new Map(his.map((h, r) => [h, r]));
  const posBits = Math.max(1, Math.ceil(Math.log2(n + 1)));
  const rankBits = Math.max(1, Math.ceil(Math.log2(his.length + 1)));
  if (posBits + rankBits + 32 > 53) {
    keep.sort(order);
    return;
  }
  const scale = 2 ** posBits;
  const keys = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const i = keep[j]!;
    keys[j] = (rank.get(hi[i]!)! * 0x100000000 + lo[i]!) * scale + j;
  }
  keys.sort();
  const sorted = new Array<number>(n);
  for (let j = 0; j < n; j++) sorted[j] = keep[keys[j]! % scale]!;
  // equal addresses: the rest of the order decides
  for (let s = 0; s < n;) {
    const i = sorted[s]!;
    let e = s + 1;
    while (e < n && hi[sorted[e]!] === hi[i] && lo[sorted[e]!] === lo[i]) e++;
    if (e - s > 1) {
      const run = sorted.slice(s, e).sort(order);
      for (let k = 0; k < run.length; k++) sorted[s + k] = run[k]!;
    }
    s = e;
  }
  for (let j = 0; j < n; j++) keep[j] = sorted[j]!;
}

/** emitExtVmlinux lists vmlinux's kallsyms-visible symbols in kallsyms order. */
function emitExtVmlinux(elf: ElfFile, st: SymbolTable, out: Sink, ctx: MapContext): void {
  const symvers = ctx.symvers;
  const secs = sectionInfos(elf);
  const nm = new Names(st);
  const n = st.count;
  const names: string[] = new Array(n);
  const keep: number[] = [];
  for (let i = 1; i < n; i++) {
    const t = st.info[i]! & 0xf;
    if (t === STT_SECTION || t === STT_FILE) continue;
    const sh = resolvedShndx(st, i);
    const name = nm.get(i);
    names[i] = name;
    if (kallsymsVisible(name, st.info[i]!, sh, sh < SHN_LORESERVE ? secs[sh] : undefined)) keep.push(i);
  }
  // nm -n input order for equal addresses: name (byte order), then symbol-table order
  const hi = new Uint32Array(n), lo = new Uint32Array(n);
  for (const i of keep) {
    hi[i] = st.valueHi(i);
    lo[i] = st.valueLo(i);
  }
  // kallsyms.c tests nm's letter: W/w only. A weak STT_OBJECT prints as V (BFD's BSF_OBJECT) and
  // does not count as weak there.
  const weak = (i: number): number => ((st.info[i]! >>> 4) === STB_WEAK && (st.info[i]! & 0xf) !== STT_OBJECT ? 1 : 0);
  const kallsymsOrder = (a: number, b: number): number => {
    if (hi[a] !== hi[b]) return hi[a]! - hi[b]!;
    if (lo[a] !== lo[b]) return lo[a]! - lo[b]!;
    const wa = weak(a), wb = weak(b);
    if (wa !== wb) return wa - wb;
    const na = names[a]!, nb = names[b]!;
    const la = mayBeLinkerProvided(na) ? 1 : 0, lb = mayBeLinkerProvided(nb) ? 1 : 0;
    if (la !== lb) return la - lb;
    const ua = leadingUnderscores(na), ub = leadingUnderscores(nb);
    if (ua !== ub) return ua - ub;
    if (na !== nb) return na < nb ? -1 : 1;
    return a - b;
  };
  sortByAddress(keep, hi, lo, kallsymsOrder);
  const { owner, names: files } = sourceFiles(elf, st, (i) => nm.get(i), ctx.objtree);
  const ext: ExtCtx = { st, names: nm, init: initSections(elf), exported: exportsOf(st, nm, symvers?.byObject.get('vmlinux')), owner };
  files.forEach((f, ix) => out.line(`@${ix} ${f}`));
  for (const i of keep) emitExtLine(out, ext, i, resolvedShndx(st, i), names[i]);
}

/** emitExtModule lists a module's symbols in .symtab order: defined ones, and references ('U'). */
function emitExtModule(elf: ElfFile, st: SymbolTable, out: Sink, kname: string, mctx: MapContext): void {
  const nm = new Names(st);
  const { owner, names: files } = sourceFiles(elf, st, (i) => nm.get(i), mctx.objtree);
  const ctx: ExtCtx = { st, names: nm, init: initSections(elf), exported: exportsOf(st, nm, mctx.symvers?.byObject.get(kname)), owner };
  files.forEach((f, ix) => out.line(`@${ix} ${f}`));
  for (let i = 1; i < st.count; i++) {
    const t = st.info[i]! & 0xf;
    if (t === STT_SECTION || t === STT_FILE) continue;
    const o = st.nameOff[i]!;
    if (st.strtab.length === 0 || st.strtab[o] === 0) continue; // unnamed: never looked up
    emitExtLine(out, ctx, i, resolvedShndx(st, i), undefined);
  }
}

/** One object's lines: ELF symbol table -> map lines, in the chosen format. */
export interface MapContext {
  objtree: string;
  format: MapFormat;
  symvers: SymbolVersFile | undefined;
}

/** mapContext reads what every object's lines depend on (Module.symvers, for ext). */
export function mapContext(objtree: string, format: MapFormat): MapContext {
  return { objtree, format, symvers: format === 'ext' ? readModuleSymvers(objtree) : undefined };
}

/** emitHeader writes the format line and vmlinux's object line. */
export function emitHeader(ctx: MapContext, out: Sink): void {
  const ext = ctx.format === 'ext';
  out.line(ext ? HEADER_EXT : HEADER_01);
  out.line(ext ? '*vmlinux vmlinux' : '*vmlinux');
}

/** emitVmlinux writes vmlinux's names (its object line is part of the header). */
export function emitVmlinux(ctx: MapContext, vmlinux: string, out: Sink): void {
  // not through the arena: its tables (9 MB for a distribution kernel) would stay resident in the
  // sort's memory for the whole run; the sort copies the string table in (emitNames01)
  const elf = ElfFile.open(vmlinux);
  try {
    const has = elf.symtabIndex() !== undefined;
    if (ctx.format === 'ext') {
      const st = has ? elf.symbols() : undefined;
      checkVmlinuxSymbols(elf, st, ctx.objtree);
      if (st !== undefined) emitExtVmlinux(elf, st, out, ctx);
    } else {
      const t = has ? elf.symbolBytes() : undefined;
      checkVmlinuxSymbols(elf, t, ctx.objtree);
      if (t !== undefined) emitNames01(t, out);
    }
  } finally {
    elf.close();
    readArena().reset(); // the sort's copy of the string table
  }
}

/**
 * emitModule writes one module's object line and names. It returns false, writing nothing, for a
 * livepatch module (its `.modinfo` has the livepatch key).
 */
export function emitModule(ctx: MapContext, m: ModuleEntry, out: Sink): boolean {
  const elf = openModule(ctx.objtree, m);
  try {
    if (hasLivepatchTag(elf)) return false;
    const ext = ctx.format === 'ext';
    out.line(ext ? `*${m.kname} ${path.relative(ctx.objtree, m.file)}` : `*${m.base}`);
    if (elf.symtabIndex() !== undefined) {
      if (ext) emitExtModule(elf, elf.symbols(), out, m.kname, ctx);
      else emitNames01(elf.symbolBytes(), out);
    }
    return true;
  } finally {
    elf.close();
    readArena().reset(); // nothing read from this module outlives this call
  }
}

/** modinfoSkip is the plan.livepatch entry of a module left out by emitModule. */
export function modinfoSkip(objtree: string, m: ModuleEntry): { entry: string; why: string } {
  return { entry: m.entry, why: `${path.relative(objtree, m.file)} has the livepatch modinfo key` };
}

/**
 * generateSymbolMap builds the whole map in memory, in this thread, and returns its bytes; the
 * caller writes them atomically. Any unreadable or malformed object aborts the run (nothing is
 * written). generateSymbolMapParallel (generate-map-parallel.ts) gives the same bytes.
 */
export function generateSymbolMap(opts: GenerateOptions): GenerateResult {
  const plan = planTree(opts.objtree);
  const ctx = mapContext(plan.objtree, opts.format);
  const out = opts.write !== undefined ? new Sink(STREAM_SIZE, opts.write) : new Sink(SINK_SIZE);
  const total = plan.modules.length + 1;
  emitHeader(ctx, out);
  emitVmlinux(ctx, plan.vmlinux, out);
  opts.onProgress?.(1, total, plan.vmlinux);
  const kept: ModuleEntry[] = [];
  let done = 1;
  for (const m of plan.modules) {
    try {
      if (emitModule(ctx, m, out)) kept.push(m);
      else plan.livepatch.push(modinfoSkip(plan.objtree, m));
    } finally {
      opts.onProgress?.(++done, total, m.file);
    }
  }
  plan.modules = kept;
  if (opts.write === undefined) return mapResult([out.result()], plan, out.lines);
  out.flush();
  return mapResult([], plan, out.lines, out.drained);
}

/**
 * the buffer of a streamed map: written out whenever full. 1 MiB: a write per megabyte costs
 * nothing measurable, and the buffer stays in cache (no fresh page per 4 KiB written).
 */
export const STREAM_SIZE = 1 << 20;

/** the output buffer size each thread starts with (see Sink: untouched pages cost nothing) */
export const SINK_SIZE = 64 << 20;

/** mapResult makes a GenerateResult of the parts of a map. */
export function mapResult(parts: Uint8Array[], plan: TreePlan, lines: number, streamed = 0): GenerateResult {
  let size = streamed;
  for (const p of parts) size += p.length;
  return {
    parts, plan, lines, size,
    get bytes(): Uint8Array {
      if (parts.length === 1) return parts[0]!;
      const b = new Uint8Array(size - streamed);
      let at = 0;
      for (const p of parts) {
        b.set(p, at);
        at += p.length;
      }
      return b;
    },
  };
}
