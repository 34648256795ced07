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
import { ElfFile, ReadArena, readInputText } from '../elf/index.js';
import type { SymbolTable } from '../elf/index.js';
import { emitModule01, emitNames01 } from './map01.js';
import { threadNameSort } from './namesort.js';
import { sourceFiles } from './path-recovery.js';
import { compressionOf, decompressFile } from './decompress.js';
import { KlpError } from './errors.js';
import { checkFilterNames, checkLineNames, nmDropped, releaseThreadExtLines, threadExtLines } from './extlines.js';
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
  constructor(size: number | Uint8Array = 1 << 20, public drain?: (bytes: Uint8Array) => void) {
    // a buffer given is written into where it is (a streamed 0.1 map's: namesort.ts sinkBuffer)
    this.buf = typeof size === 'number' ? new Uint8Array(size) : size;
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

/** isCleanRoot: an absolute, normalised directory without a trailing slash (joinClean and relativeToTree may concatenate and slice below it) */
function isCleanRoot(root: string): boolean {
  return path.isAbsolute(root) && path.normalize(root) === root && (root === '/' || !root.endsWith('/'));
}

function readLines(p: string): string[] {
  return readInputText(p).split('\n').filter((l) => l.length > 0);
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
  const rootIsClean = isCleanRoot(objtree);
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
    // kernelModuleName(base) is kernelModuleName(stem): it strips the directory first
    const m: ModuleEntry = { entry, stem, file: abs + f.ext, base, kname: kernelModuleName(base) };
    if (f.unchecked) m.unchecked = true;
    modules.push(m);
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

/** initSections marks the sections whose symbols the module loader treats as init (`.init*`). */
function initSections(elf: ElfFile): Uint8Array {
  const m = new Uint8Array(elf.sections.length);
  for (const s of elf.sections) if (s.name.startsWith('.init')) m[s.index] = 1;
  return m;
}

/** emitExtVmlinux lists vmlinux's kallsyms-visible symbols in kallsyms order. */
function emitExtVmlinux(elf: ElfFile, st: SymbolTable, out: Sink, ctx: MapContext): void {
  checkFilterNames(st);
  const x = threadExtLines();
  x.load(st, elf.sections.length, true);
  // nm's N/n: a non-allocated section with contents
  const drop = Uint8Array.from(elf.sections, (s) => nmDropped({ flags: Number(s.sh_flags & 0xffffffffn), type: s.sh_type }));
  x.kallsyms(drop);
  const { owner, names: files } = sourceFiles(elf, st, (i) => st.name(i), ctx.objtree);
  checkLineNames(st);
  files.forEach((f, ix) => out.line(`@${ix} ${f}`));
  x.emit(out, owner, initSections(elf), ctx.symvers?.byObject.get('vmlinux'));
  releaseThreadExtLines();
}

/** emitExtModule lists a module's symbols in .symtab order: defined ones, and references ('U'). */
function emitExtModule(elf: ElfFile, st: SymbolTable, out: Sink, kname: string, mctx: MapContext): void {
  const { owner, names: files } = sourceFiles(elf, st, (i) => st.name(i), mctx.objtree);
  checkLineNames(st);
  files.forEach((f, ix) => out.line(`@${ix} ${f}`));
  const x = threadExtLines();
  x.load(st, elf.sections.length, false);
  x.emit(out, owner, initSections(elf), mctx.symvers?.byObject.get(kname));
}

/** One object's lines: ELF symbol table -> map lines, in the chosen format. */
export interface MapContext {
  objtree: string;
  format: MapFormat;
  symvers: SymbolVersFile | undefined;
  /** `objtree + '/'` when objtree is absolute and normalised (see relativeToTree), else undefined */
  treePrefix?: string | undefined;
}

/** mapContext reads what every object's lines depend on (Module.symvers, for ext). */
export function mapContext(objtree: string, format: MapFormat): MapContext {
  const treePrefix = isCleanRoot(objtree) ? (objtree === '/' ? '/' : objtree + '/') : undefined;
  return { objtree, format, symvers: format === 'ext' ? readModuleSymvers(objtree) : undefined, treePrefix };
}

/**
 * relativeToTree is path.relative(ctx.objtree, file): a slice for the common case of a clean tree
 * and a file below it by a clean relative path (what planTree makes), where path.relative, which
 * resolves both against the working directory, showed in profiles at 4,230 modules.
 */
export function relativeToTree(ctx: MapContext, file: string): string {
  const p = ctx.treePrefix;
  if (p !== undefined && file.startsWith(p)) {
    const rest = file.slice(p.length);
    if (rest.length > 0 && !UNCLEAN.test(rest)) return rest;
  }
  return path.relative(ctx.objtree, file);
}

/** emitHeader writes the format line and vmlinux's object line. */
export function emitHeader(ctx: MapContext, out: Sink): void {
  const ext = ctx.format === 'ext';
  out.line(ext ? HEADER_EXT : HEADER_01);
  out.line(ext ? '*vmlinux vmlinux' : '*vmlinux');
}

/** emitVmlinux writes vmlinux's names (its object line is part of the header). */
export function emitVmlinux(ctx: MapContext, vmlinux: string, out: Sink): void {
  // 0.1: read into the sort's memory (the arena), where the names are filtered and sorted: no
  // buffer of its own for the tables (9 MB for a distribution kernel) and no copy of them.
  // ext: not through the arena (the tables would stay resident in the sort's memory for the run)
  const elf = ctx.format === 'ext' ? ElfFile.open(vmlinux) : ElfFile.open(vmlinux, { arena: readArena() });
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
    readArena().reset(); // vmlinux's reads (0.1) in the sort's memory
  }
}

/**
 * emitModule writes one module's object line and names. It returns false, writing nothing, for a
 * livepatch module (its `.modinfo` has the livepatch key).
 */
export function emitModule(ctx: MapContext, m: ModuleEntry, out: Sink): boolean {
  if (ctx.format !== 'ext' && m.file.charCodeAt(m.file.length - 1) === 0x6f) {
    // the plain case without ElfFile (map01.ts), for a .o or .ko (not compressed: compressionOf);
    // anything else, and every error, below
    const kept = emitModule01(m.file, m.base, out);
    if (kept !== undefined) return kept;
  }
  return emitModuleElf(ctx, m, out);
}

/** emitModuleElf is emitModule through ElfFile (every format, every case; exported for the tests that hold emitModule01 to it) */
export function emitModuleElf(ctx: MapContext, m: ModuleEntry, out: Sink): boolean {
  const elf = openModule(ctx.objtree, m);
  try {
    if (hasLivepatchTag(elf)) return false;
    const ext = ctx.format === 'ext';
    out.line(ext ? `*${m.kname} ${relativeToTree(ctx, m.file)}` : `*${m.base}`);
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
  // a streamed 0.1 map's buffer is in the sort's memory, where its names are written (no copy)
  const out = opts.write === undefined ? new Sink(SINK_SIZE)
    : new Sink(opts.format === 'ext' ? STREAM_SIZE : threadNameSort().sinkBuffer(), opts.write);
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
