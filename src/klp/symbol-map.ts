/**
 * Reading symbols.klp: the converter's view of which object defines a symbol and at which
 * sympos (`kernel build -> symbols.klp -> module link -> convert -> livepatch load`).
 *
 * Two formats, told apart by line 1 (docs/symbols-format.md):
 *  - 0.1 (`klp-convert-symbol-data.0.1`): names as `nm -f posix` prints them, per object, sorted
 *    by name. Only counting is possible: pos is 0, count is the number of equal lines in the block
 *    (undefined references included — nm prints them and 0.1 cannot tell them apart).
 *  - ext (`klp-convert-symbol-data-ext.2`, and `.1`): per object, symbols in the kernel's counting
 *    order with binding, type, init, export and source file (ext.2: a path in the tree where the
 *    generator recovered one, else the STT_FILE name; ext.1: always the STT_FILE name); pos and
 *    count are computed here.
 *
 * Object names are normalised to kernel form ('-' -> '_'): the 0.1 recipe wrote file names.
 * With `wanted`, only those names are materialised: the converter asks for a few dozen names out
 * of ~1.3 M lines, so the loader checks a name's length and first byte before decoding it.
 */
import * as fs from 'node:fs';
import { openInput, readInputText } from '../elf/index.js';
import { SymbolMapError } from './errors.js';
import { lineNumberAt, readLinesAt, scanMap } from './map-scan.js';
import { kernelModuleName } from './modname.js';

export interface SymbolCandidate {
  /** kernel-form object name: 'vmlinux' or module name with '-' -> '_' */
  object: string;
  name: string;
  /** 1-based position among same-named symbols in that object, in the kernel's order (ext); 0 when unknown (0.1) */
  pos: number;
  /** same-named symbols the kernel counts in that object (ext); occurrences of the name in the object's block (0.1) */
  count: number;
  /** STB_* (ext only) */
  bind?: number;
  /** STT_* (ext only) */
  type?: number;
  /** defined in an init section, .init.* (ext only) */
  init?: boolean;
  /** source file of a local symbol: a tree path (ext.2, when recovered) or the STT_FILE basename (ext only; undefined for globals/unknown) */
  file?: string;
  /** exported from its object (ext only: Module.symvers, __ksymtab_, __export_symbol_) */
  exported?: boolean;
}

export interface SymbolMap {
  readonly format: '0.1' | 'ext';
  readonly path: string;
  /** lookup returns the candidates for a name across all objects, in file order (vmlinux first). For 0.1 one entry per occurrence. */
  lookup(name: string): SymbolCandidate[];
  /** isExported is true when the name is exported (0.1: a `__ksymtab_<name>` or `__export_symbol_<name>` line anywhere; ext: an `x` flag) */
  isExported(name: string): boolean;
  /** objects returns the object names (kernel form) in file order */
  objects(): string[];
  /** referencedBy returns the modules whose block lists the name as an undefined reference (ext only; [] for 0.1) */
  referencedBy(name: string): string[];
}

/**
 * sameNameCount is the number of symbols named `name` in `object` as far as `map` tells: what
 * klp_find_object_symbol() counts, so what a position is judged against (positionOutcome). The
 * extended map records the kernel's count; a 0.1 map has one line per symbol nm lists in the
 * object's block, so its count is the number of those lines (nm's names, which the kernel's
 * kallsyms follow for vmlinux and modules alike). The converter (convert-resolve.ts) and the
 * checker (validate.ts) count here, so they judge a position the same way.
 */
export function sameNameCount(map: SymbolMap, object: string, name: string): number {
  const inObj = map.lookup(name).filter((c) => c.object === object && c.count > 0);
  if (inObj.length === 0) return 0;
  return map.format === 'ext' ? inObj[0]!.count : inObj.length;
}

export const HEADER_01 = 'klp-convert-symbol-data.0.1';
/** the extended map as written now: file tables hold source paths where they were recovered */
export const HEADER_EXT = 'klp-convert-symbol-data-ext.2';
/** the first extended format: file tables hold STT_FILE basenames only (still read) */
export const HEADER_EXT1 = 'klp-convert-symbol-data-ext.1';

const BIND: Record<string, number> = { l: 0, g: 1, w: 2, u: 10 };
const TYPE: Record<string, number> = { n: 0, o: 1, f: 2, c: 5, t: 6, i: 10 };

/** A cheap pre-filter for wanted names: length and first byte, checked before decoding. */
class Wanted {
  private readonly lens = new Uint8Array(4096);
  private readonly first = new Uint8Array(256);
  constructor(readonly set: ReadonlySet<string>) {
    for (const n of set) {
      this.lens[Math.min(n.length, 4095)] = 1;
      if (n.length > 0) this.first[n.charCodeAt(0) & 0xff] = 1;
    }
  }
  maybe(b: string, s: number, e: number): boolean {
    return this.lens[Math.min(e - s, 4095)] === 1 && (e === s || this.first[b.charCodeAt(s) & 0xff] === 1);
  }
}

class MapImpl implements SymbolMap {
  readonly byName = new Map<string, SymbolCandidate[]>();
  readonly exports = new Set<string>();
  readonly refs = new Map<string, string[]>();
  readonly objs: string[] = [];
  /** answers isExported for names a scanned load did not look at (see scanSymbolMap) */
  exportProbe: ((name: string) => boolean) | undefined;
  constructor(readonly format: '0.1' | 'ext', readonly path: string) {}
  lookup(name: string): SymbolCandidate[] {
    return this.byName.get(name) ?? [];
  }
  isExported(name: string): boolean {
    return this.exports.has(name) || (this.exportProbe?.(name) ?? false);
  }
  objects(): string[] {
    return [...this.objs];
  }
  referencedBy(name: string): string[] {
    return this.refs.get(name) ?? [];
  }
  add(c: SymbolCandidate): void {
    const l = this.byName.get(c.name);
    if (l) l.push(c);
    else this.byName.set(c.name, [c]);
  }
}

function startsWithAscii(b: string, s: number, e: number, p: string): boolean {
  return e - s >= p.length && b.startsWith(p, s);
}

/**
 * loadSymbolMap reads a 0.1 or extended map, detecting the format from line 1. `wanted`, when
 * given, keeps only those names (exports are always kept). Throws SymbolMapError with the line.
 */
export function loadSymbolMap(path: string, wanted?: ReadonlySet<string>): SymbolMap {
  if (wanted !== undefined && wanted.size <= SCAN_MAX_WANTED) {
    const m = scanSymbolMap(path, wanted);
    if (m !== undefined) return m;
  }
  // one latin1 string for the whole file: String indexOf/slice/charCodeAt are V8 intrinsics,
  // several times faster per line than Buffer methods; latin1 keeps every byte as one unit
  return parseSymbolMap(readInputText(path), path, wanted);
}

/** parseSymbolMap reads a map already in memory (latin1 text); `path` names it in messages. */
export function parseSymbolMap(buf: string, path: string, wanted?: ReadonlySet<string>): SymbolMap {
  const nl = buf.indexOf('\n');
  const first = buf.slice(0, nl < 0 ? buf.length : nl);
  if (first === HEADER_EXT || first === HEADER_EXT1) return loadExt(path, buf, nl + 1, wanted);
  // the v7 parser compares the first 27 characters of line 1 (a CRLF map would pass, and then
  // every name would end in CR and match nothing)
  if (!first.startsWith(HEADER_01) || first.endsWith('\r')) throw badHeader(path, first);
  return load01(path, buf, nl < 0 ? buf.length : nl + 1, wanted);
}

/**
 * badHeader words a first line that is no map header: an ELF file (the drop-in form's arguments
 * in the wrong order), CRLF line endings (a map that went through a DOS editor or transfer), or
 * anything else, shown with its control and non-ASCII bytes escaped.
 */
function badHeader(path: string, first: string): SymbolMapError {
  const regen = "regenerate the map with 'klp-convert symbols'";
  if (first.startsWith('\x7fELF')) {
    return new SymbolMapError('MAP_BAD_HEADER', path, 1, `an ELF file, not a symbol map; pass the map 'klp-convert symbols' wrote (the drop-in order is SYMBOLS.klp INPUT.ko OUTPUT.ko)`);
  }
  if (first.endsWith('\r') && [HEADER_01, HEADER_EXT, HEADER_EXT1].includes(first.slice(0, -1))) {
    return new SymbolMapError('MAP_BAD_HEADER', path, 1, `the map has CRLF (DOS) line endings; convert it back (dos2unix) or ${regen}`);
  }
  const shown = first.slice(0, 60).replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return new SymbolMapError('MAP_BAD_HEADER', path, 1, `expected "${HEADER_01}" or "${HEADER_EXT}", got "${shown}" (older extended maps, "${HEADER_EXT1}", are read too); ${regen}`);
}

function load01(path: string, b: string, start: number, wanted: ReadonlySet<string> | undefined): SymbolMap {
  const map = new MapImpl('0.1', path);
  const w = wanted ? new Wanted(wanted) : undefined;
  let obj: string | undefined;
  let blockCounts = new Map<string, SymbolCandidate[]>();
  const flush = (): void => {
    for (const l of blockCounts.values()) for (const c of l) c.count = l.length;
    blockCounts = new Map();
  };
  let line = 1;
  let s = start;
  const n = b.length;
  while (s < n) {
    let e = b.indexOf('\n', s);
    if (e < 0) e = n;
    line++;
    if (b.charCodeAt(s) === 0x2a /* * */) {
      flush();
      obj = kernelModuleName(b.slice(s + 1, e));
      map.objs.push(obj);
    } else {
      if (obj === undefined) throw new SymbolMapError('MAP_NAME_BEFORE_OBJECT', path, line, 'a symbol name comes before the first object line (File format error)');
      if (b.charCodeAt(s) === 0x5f && (startsWithAscii(b, s, e, '__ksymtab_') || startsWithAscii(b, s, e, '__export_symbol_'))) {
        const full = b.slice(s, e);
        map.exports.add(full.startsWith('__ksymtab_') ? full.slice(10) : full.slice(16));
      }
      if (e > s && (w === undefined || w.maybe(b, s, e))) {
        const name = b.slice(s, e);
        if (w === undefined || w.set.has(name)) {
          const c: SymbolCandidate = { object: obj, name, pos: 0, count: 0 };
          map.add(c);
          const l = blockCounts.get(name);
          if (l) l.push(c);
          else blockCounts.set(name, [c]);
        }
      }
    }
    s = e + 1;
  }
  flush();
  return map;
}

function loadExt(path: string, b: string, start: number, wanted: ReadonlySet<string> | undefined): SymbolMap {
  const map = new MapImpl('ext', path);
  const w = wanted ? new Wanted(wanted) : undefined;
  let obj: string | undefined;
  let files: string[] = [];
  let block = new Map<string, SymbolCandidate[]>();
  const flush = (): void => {
    for (const l of block.values()) for (const c of l) c.count = l.length;
    block = new Map();
  };
  let line = 1;
  let s = start;
  const n = b.length;
  const bad = (msg: string): never => {
    throw new SymbolMapError('MAP_BAD_LINE', path, line, msg);
  };
  while (s < n) {
    let e = b.indexOf('\n', s);
    if (e < 0) e = n;
    line++;
    const c0 = b.charCodeAt(s);
    if (c0 === 0x2a /* * */) {
      flush();
      let sp = b.indexOf(' ', s);
      if (sp < 0 || sp > e) sp = e;
      obj = b.slice(s + 1, sp);
      map.objs.push(obj);
      files = [];
    } else if (c0 === 0x40 /* @ */) {
      const sp = b.indexOf(' ', s);
      if (sp < 0 || sp > e) bad('file table line without a name');
      const ix = Number(b.slice(s + 1, sp));
      if (ix !== files.length) bad(`file index ${ix} out of sequence (expected ${files.length})`);
      files.push(b.slice(sp + 1, e));
    } else if (e > s) {
      if (obj === undefined) bad('a symbol line comes before the first object line');
      // parse from the right: [name] SP flags [SP fileindex]
      // backward scans with charCodeAt: String.prototype.lastIndexOf measured 6x slower here
      let sp = e - 1;
      while (sp >= s && b.charCodeAt(sp) !== 32) sp--;
      if (sp < s) bad('symbol line without flags');
      let fileAt = -1;
      let fe = e;
      const d = b.charCodeAt(sp + 1);
      if (d >= 0x30 && d <= 0x39) {
        fileAt = sp + 1;
        fe = sp;
        sp--;
        while (sp >= s && b.charCodeAt(sp) !== 32) sp--;
        if (sp < s) bad('symbol line without flags');
      }
      const fs0 = sp + 1;
      let exported = false;
      for (let p = fs0 + 2; p < fe; p++) if (b.charCodeAt(p) === 0x78 /* x */) exported = true;
      const undef = b.charCodeAt(fs0) === 0x55; /* U */
      if (exported) map.exports.add(b.slice(s, sp));
      if (w !== undefined && !w.maybe(b, s, sp)) {
        s = e + 1;
        continue;
      }
      const name = b.slice(s, sp);
      if (w !== undefined && !w.set.has(name)) {
        s = e + 1;
        continue;
      }
      if (undef) {
        const r = map.refs.get(name);
        if (r) r.push(obj!);
        else map.refs.set(name, [obj!]);
      } else {
        const bind = BIND[b[fs0]!];
        const type = TYPE[b[fs0 + 1]!];
        let init = false;
        for (let p = fs0 + 2; p < fe; p++) if (b.charCodeAt(p) === 0x69 /* i */) init = true;
        const l = block.get(name);
        const c: SymbolCandidate = { object: obj!, name, pos: (l?.length ?? 0) + 1, count: 0, bind: bind ?? -1, type: type ?? -1, init, exported };
        if (fileAt >= 0) {
          const fileIx = Number(b.slice(fileAt, e));
          const f = files[fileIx];
          if (f === undefined) bad(`file index ${fileIx} is not in this object's file table`);
          c.file = f!;
        }
        if (l) l.push(c);
        else block.set(name, [c]);
        map.add(c);
      }
    }
    s = e + 1;
  }
  flush();
  return map;
}

// ---- loading only the wanted lines ----------------------------------------------------------

/**
 * Above this many wanted names the whole map is parsed instead (a scan compares every pattern
 * whose block matches; the verifier of bench/check-ext.sh asks for ~150k names at once).
 */
const SCAN_MAX_WANTED = 4096;

/** a name a scan can find: the full parser never matches empty names or object/file-table lines */
function scannable(name: string, ext: boolean): boolean {
  if (name.length === 0 || name.includes('\n')) return false;
  const c = name.charCodeAt(0);
  return c !== 0x2a /* * */ && !(ext && c === 0x40 /* @ */) && !(ext && name.charCodeAt(name.length - 1) === 32);
}

/**
 * scanSymbolMap is loadSymbolMap(path, wanted) without parsing the lines nobody asked for: it
 * finds the wanted names' lines and the object lines with one pass of a line scan over the
 * file (map-scan.ts) and builds the same candidates as the full parsers, for both formats. It
 * returns undefined, leaving the job (and its error messages) to the full parser, when line 1 is
 * not a known header or the file does not end with a newline. isExported() of a name not wanted
 * searches the file again for that name. Lines that are not looked at are not checked. Exported
 * for tests, which pass tiny `chunk` sizes (map-scan.ts scanMap).
 */
export function scanSymbolMap(path: string, wanted: ReadonlySet<string>, chunk?: number): SymbolMap | undefined {
  const fd = openInput(path);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined; // the full parser's read says what it is
    const size = st.size;
    const probe = Buffer.allocUnsafe(Math.min(size, 256));
    if (size === 0 || fs.readSync(fd, probe, 0, probe.length, 0) !== probe.length) return undefined;
    const nl = probe.indexOf(10);
    if (nl < 0) return undefined;
    const first = probe.toString('latin1', 0, nl);
    const ext = first === HEADER_EXT || first === HEADER_EXT1;
    if (!ext && (!first.startsWith(HEADER_01) || first.endsWith('\r'))) return undefined; // the parser words it (badHeader)
    if (fs.readSync(fd, probe, 0, 1, size - 1) !== 1 || probe[0] !== 10) return undefined;
    const names = [...wanted].filter((n) => scannable(n, ext));
    // lines whose name ends in a wanted name (0.1 `<name>\n`, ext `<name> `): one pattern finds
    // `__ksymtab_<name>` and `__export_symbol_<name>` together with the name's own lines
    const patterns = suffixPatterns(names, ext ? ' ' : '\n');
    const found = scanMap(fd, size, patterns.map((p) => Buffer.from(p, 'latin1')), true, chunk);
    const map = new MapImpl(ext ? 'ext' : '0.1', path);
    for (const o of found.objects) {
      if (ext) {
        const sp = o.text.indexOf(' ');
        map.objs.push(sp < 0 ? o.text : o.text.slice(0, sp));
      } else {
        map.objs.push(kernelModuleName(o.text));
      }
    }
    // every found line belongs to the last object line before it
    let oi = -1;
    let block = new Map<string, SymbolCandidate[]>();
    const flush = (): void => {
      for (const l of block.values()) for (const c of l) c.count = l.length;
      block = new Map();
    };
    const fileTables = new Map<number, string[]>();
    for (const line of found.lines) {
      const c0 = line.text.charCodeAt(0);
      if (c0 === 0x2a /* * */ || (ext && c0 === 0x40 /* @ */)) continue; // an object or file-table line ending in a wanted name
      while (oi + 1 < found.objects.length && found.objects[oi + 1]!.at < line.at) {
        flush();
        oi++;
      }
      if (oi < 0) {
        const n = lineNumberAt(fd, line.at);
        if (ext) throw new SymbolMapError('MAP_BAD_LINE', path, n, 'a symbol line comes before the first object line');
        throw new SymbolMapError('MAP_NAME_BEFORE_OBJECT', path, n, 'a symbol name comes before the first object line (File format error)');
      }
      const obj = map.objs[oi]!;
      if (!ext) {
        const name = line.text;
        if (!wanted.has(name)) continue; // a longer name with a wanted ending
        if (name.startsWith('__ksymtab_')) map.exports.add(name.slice(10));
        else if (name.startsWith('__export_symbol_')) map.exports.add(name.slice(16));
        const c: SymbolCandidate = { object: obj, name, pos: 0, count: 0 };
        map.add(c);
        const l = block.get(name);
        if (l) l.push(c);
        else block.set(name, [c]);
        continue;
      }
      const bad = (msg: string): never => {
        throw new SymbolMapError('MAP_BAD_LINE', path, lineNumberAt(fd, line.at), msg);
      };
      const s = parseExtSymbolLine(line.text, bad);
      if (!wanted.has(s.name)) continue; // a longer name containing a space
      if (s.exported) map.exports.add(s.name);
      if (s.undef) {
        const r = map.refs.get(s.name);
        if (r) r.push(obj);
        else map.refs.set(s.name, [obj]);
        continue;
      }
      const l = block.get(s.name);
      const c: SymbolCandidate = { object: obj, name: s.name, pos: (l?.length ?? 0) + 1, count: 0, bind: s.bind, type: s.type, init: s.init, exported: s.exported };
      if (s.fileIx >= 0) {
        let files = fileTables.get(oi);
        if (files === undefined) fileTables.set(oi, (files = readFileTable(fd, size, found.objects[oi]!, path)));
        const f = files[s.fileIx];
        if (f === undefined) bad(`file index ${s.fileIx} is not in this object's file table`);
        c.file = f!;
      }
      if (l) l.push(c);
      else block.set(s.name, [c]);
      map.add(c);
    }
    flush();
    map.exportProbe = exportProbe(path, size, ext, wanted);
    return map;
  } finally {
    fs.closeSync(fd);
  }
}

/** suffixPatterns: `<name><end>` for each name, except export names whose base name is there too */
function suffixPatterns(names: readonly string[], end: string): string[] {
  const set = new Set(names);
  const out: string[] = [];
  for (const n of names) {
    const base = n.startsWith('__ksymtab_') ? n.slice(10) : n.startsWith('__export_symbol_') ? n.slice(16) : undefined;
    if (base !== undefined && base.length > 0 && set.has(base)) continue;
    out.push(n + end);
  }
  return out;
}

interface ExtSymbolLine {
  name: string;
  undef: boolean;
  bind: number;
  type: number;
  init: boolean;
  exported: boolean;
  /** -1 when the line has no file index */
  fileIx: number;
}

/** parseExtSymbolLine parses `<name> <flags>[ <file index>]` from the right, as loadExt does. */
function parseExtSymbolLine(t: string, bad: (msg: string) => never): ExtSymbolLine {
  let sp = t.lastIndexOf(' ');
  if (sp < 0) bad('symbol line without flags');
  let fileIx = -1;
  let fe = t.length;
  const d = t.charCodeAt(sp + 1);
  if (d >= 0x30 && d <= 0x39) {
    fileIx = Number(t.slice(sp + 1));
    fe = sp;
    sp = t.lastIndexOf(' ', sp - 1);
    if (sp < 0) bad('symbol line without flags');
  }
  const f = t.slice(sp + 1, fe);
  const rest = f.slice(2);
  return {
    name: t.slice(0, sp), undef: f.charCodeAt(0) === 0x55 /* U */,
    bind: BIND[f[0]!] ?? -1, type: TYPE[f[1]!] ?? -1,
    init: rest.includes('i'), exported: rest.includes('x'), fileIx,
  };
}

/** readFileTable reads the `@<index> <name>` lines that follow an object line (ext). */
function readFileTable(fd: number, size: number, obj: { at: number; text: string }, path: string): string[] {
  const files: string[] = [];
  const start = obj.at + 1 + Buffer.byteLength(obj.text, 'latin1') + 1;
  let line = 0;
  for (const l of readLinesAt(fd, size, start, (x) => x.charCodeAt(0) === 0x40)) {
    const sp = l.indexOf(' ');
    const ix = sp < 0 ? NaN : Number(l.slice(1, sp));
    if (sp < 0 || ix !== files.length) {
      const n = lineNumberAt(fd, start) + line;
      throw new SymbolMapError('MAP_BAD_LINE', path, n, sp < 0 ? 'file table line without a name' : `file index ${ix} out of sequence (expected ${files.length})`);
    }
    files.push(l.slice(sp + 1));
    line++;
  }
  return files;
}

/**
 * exportProbe answers isExported for names the scan did not look for: a wanted name's export
 * lines were part of the scan (0.1: `__ksymtab_<name>`, `__export_symbol_<name>`; ext: the
 * name's own lines), any other name costs one more search of the file.
 */
function exportProbe(path: string, size: number, ext: boolean, wanted: ReadonlySet<string>): (name: string) => boolean {
  const known = new Map<string, boolean>();
  return (name) => {
    if (ext ? wanted.has(name) : wanted.has('__ksymtab_' + name) && wanted.has('__export_symbol_' + name)) return false;
    let r = known.get(name);
    if (r !== undefined) return r;
    const pats = ext ? [`\n${name} `] : [`\n__ksymtab_${name}\n`, `\n__export_symbol_${name}\n`];
    const fd = openInput(path);
    try {
      const { lines } = scanMap(fd, size, pats.map((p) => Buffer.from(p, 'latin1')), false);
      r = ext ? lines.some((l) => {
        const s = parseExtSymbolLine(l.text, () => {
          throw new SymbolMapError('MAP_BAD_LINE', path, lineNumberAt(fd, l.at), 'symbol line without flags');
        });
        return s.name === name && s.exported;
      }) : lines.length > 0;
    } finally {
      fs.closeSync(fd);
    }
    known.set(name, r);
    return r;
  };
}
