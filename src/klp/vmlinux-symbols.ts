/**
 * Is this vmlinux a symbol source? The map generator reads vmlinux's `.symtab`; a vmlinux
 * without one, or without the kernel's functions in it, gives a map that is silently useless:
 * every later conversion then fails with "not exported and not in symbols.klp". Two kinds are
 * common, and both are refused here with the way out (the distribution's debug package):
 *
 *  - a BTF-only vmlinux. Debian's linux-headers package ships `<headers>/vmlinux`
 *    (`/lib/modules/<ver>/build/vmlinux`) for building BTF of out-of-tree modules: 4.9 MB, six
 *    sections (`.BTF`, `.BTF_ids`, `.symtab`, `.strtab`, `.shstrtab` and the null one), 799
 *    symbols (`__BTF_ID__*`, `__start_BTF`...), no code section and not one STT_FUNC symbol;
 *    6.12.117+deb12-cloud-amd64 checked. The real one (the -dbg package) has 189,054 symbols.
 *  - a stripped vmlinux (`strip`, or an image extracted from a bzImage): no `.symtab` at all.
 *
 * The criterion, in two steps so that the cheap one runs before anything else is read:
 *  1. section headers only (planTree, before modules.order is even looked at): there must be a
 *     `.symtab` (SHT_SYMTAB) and at least one executable (SHF_EXECINSTR) section. An
 *     `objcopy --only-keep-debug` file passes: its `.text` becomes SHT_NOBITS but keeps its flags
 *     and every symbol, which is all the map needs.
 *  2. the symbol table (emitVmlinux, which reads it anyway): at least one defined STT_FUNC
 *     symbol. Every gcc- or clang-built kernel has tens of thousands; a table without any has
 *     lost the functions livepatches patch and call. A count threshold ("far fewer than kallsyms
 *     would hold") was not used: no number fits both a real kernel and a small test tree, and a
 *     table with some functions left is a table of its own kind that this cannot judge.
 * Both steps hold on every architecture: STT_FUNC is the type gcc gives C functions everywhere
 * (on ppc64 ELFv1 it marks the `.opd` descriptors, which is why the section is not checked).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ElfFile, SHF_EXECINSTR, SHT_SYMTAB, STT_FUNC, hasDefined, hasFlag, readInputText, type SymbolBytes } from '../elf/index.js';
import { KlpError } from './errors.js';
import type { SymbolMap } from './symbol-map.js';

export const VMLINUX_NO_SYMBOLS = 'VMLINUX_NO_SYMBOLS';

/** sectionsProblem says what is missing in the section headers (step 1), or undefined. */
function sectionsProblem(elf: ElfFile): string | undefined {
  const hasSymtab = elf.sections.some((s) => s.sh_type === SHT_SYMTAB);
  const hasCode = elf.sections.some((s) => hasFlag(s.sh_flags, SHF_EXECINSTR));
  if (!hasSymtab) return 'has no symbol table (.symtab): a stripped vmlinux';
  if (hasCode) return undefined;
  const names = elf.sections.filter((s) => s.index > 0).map((s) => s.name);
  const btf = names.includes('.BTF') ? ': a BTF-only vmlinux, as linux-headers packages ship it for building modules' : '';
  return `has no code section (its sections: ${names.join(', ')})${btf}`;
}

/** hasFunction tells whether a table defines an STT_FUNC symbol (step 2); vmlinux's first is near the start. */
function hasFunction(st: SymbolBytes): boolean {
  return hasDefined(st, STT_FUNC);
}

/**
 * checkVmlinuxSections throws VMLINUX_NO_SYMBOLS when vmlinux's section headers already show it
 * cannot be a symbol source (no .symtab, no code): the cheap check, run before the tree is read.
 */
export function checkVmlinuxSections(vmlinux: string, objtree: string): void {
  const elf = ElfFile.open(vmlinux);
  try {
    const why = sectionsProblem(elf);
    if (why !== undefined) throw noSymbolsError(vmlinux, why, objtree);
  } finally {
    elf.close();
  }
}

/**
 * checkVmlinuxSymbols throws VMLINUX_NO_SYMBOLS unless vmlinux (open, with its symbol table
 * `st` when it has one) passes both steps: a .symtab, a code section, a defined function.
 */
export function checkVmlinuxSymbols(elf: ElfFile, st: SymbolBytes | undefined, objtree: string): void {
  const why = sectionsProblem(elf) ?? (st !== undefined && !hasFunction(st)
    ? `has ${st.count - 1} symbols but not one function (STT_FUNC): a stripped or partial symbol table`
    : undefined);
  if (why !== undefined) throw noSymbolsError(elf.file, why, objtree);
}

function noSymbolsError(vmlinux: string, why: string, objtree: string): KlpError {
  return new KlpError(VMLINUX_NO_SYMBOLS,
    `${vmlinux}: ${why}; the map is made from the kernel's unstripped vmlinux, which its debug package holds`,
    debugPackageAdvice(kernelRelease(objtree, vmlinux)));
}

/**
 * kernelRelease finds the release string (`uname -r` form) of a kernel tree: the
 * include/config/kernel.release of the tree or of the directory vmlinux really is in (kbuild and
 * linux-headers trees have it), else a `/lib/modules/<ver>` or `linux-headers-<ver>` component of
 * those paths or of what they link to.
 */
export function kernelRelease(objtree: string, vmlinux = path.join(objtree, 'vmlinux')): string | undefined {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p); // missing: the path as given
    }
  };
  const dirs = [objtree, path.dirname(real(vmlinux))];
  for (const d of dirs) {
    try {
      const r = fs.readFileSync(path.join(d, 'include/config/kernel.release'), 'latin1').trim();
      if (/^[\w.+~-]+$/.test(r)) return r;
    } catch {
      /* not a kbuild tree: try the paths */
    }
  }
  for (const p of [path.resolve(objtree), real(objtree), real(vmlinux)]) {
    const m = /\/lib\/modules\/([^/]+)/.exec(p) ?? /\/linux-headers-([^/]+)/.exec(p);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * debugPackageAdvice lists where each distribution keeps the unstripped vmlinux (detail lines
 * under an error). `release` fills in the names when known. The Debian paths hold for both
 * 6.12.117+deb12 (file in boot/, linked from lib/modules/<ver>/vmlinux) and sid's 7.2.13+deb14
 * (file in lib/modules/<ver>/, linked from boot/); other distributions are named generically.
 */
export function debugPackageAdvice(release: string | undefined): string {
  const v = release ?? '<version>';
  const lines = [
    `  Debian: apt-get install linux-image-${v}-dbg, then`,
    `          klp-convert symbols --objtree /usr/lib/debug/lib/modules/${v}`,
    `          (the vmlinux there, also /usr/lib/debug/boot/vmlinux-${v})`,
    '  Ubuntu: the -dbgsym package of the kernel image (ddebs.ubuntu.com), /usr/lib/debug/boot/vmlinux-<version>',
    '  Fedora, RHEL, SUSE and others: the kernel debuginfo package (kernel-debuginfo; kernel-default-debuginfo',
    '          on SUSE), under /usr/lib/debug/lib/modules/<version>/',
    '  a kernel you built: --objtree pointing at its build (output) tree',
  ];
  if (release === undefined) lines.push("  (<version> is the release the patch is for: 'uname -r' on that machine)");
  return lines.join('\n');
}

/** what the vmlinux block of a map holds (vmlinuxBlockSummary) */
export interface VmlinuxSummary {
  /** symbol lines */
  names: number;
  /** exported names: `__ksymtab_`/`__export_symbol_` lines (0.1), lines with the x flag (ext) */
  exports: number;
  /** defined function lines, type f (ext); undefined for 0.1, which has no types */
  functions: number | undefined;
}

/** mapText reads a map as latin1, or undefined when it cannot be read (the caller is on an error path) */
function mapText(file: string): string | undefined {
  try {
    return readInputText(file);
  } catch {
    return undefined;
  }
}

/**
 * vmlinuxBlock returns the lines of a map's vmlinux block (docs/symbols-format.md: from the line
 * after the `*vmlinux` object line to the next `*` line) and whether the map is extended.
 */
function vmlinuxBlock(text: string): { body: string; ext: boolean } | undefined {
  const at = /^\*vmlinux(?: |$)/m.exec(text);
  if (at === null) return undefined;
  const start = text.indexOf('\n', at.index) + 1;
  if (start === 0) return { body: '', ext: text.startsWith(EXT_HEADER_PREFIX) };
  const next = text.indexOf('\n*', start - 1);
  return { body: text.slice(start, next < 0 ? text.length : next + 1), ext: text.startsWith(EXT_HEADER_PREFIX) };
}

/** the first line of every extended map version (ext.1, ...) starts so */
const EXT_HEADER_PREFIX = 'klp-convert-symbol-data-ext.';

/** summarise counts a vmlinux block (ext symbol lines: `<name> <flags>[ <file index>]`, flags = binding or U, type, then i/x) */
function summarise(body: string, ext: boolean): VmlinuxSummary {
  const v: VmlinuxSummary = { names: 0, exports: 0, functions: ext ? 0 : undefined };
  for (const line of body.split('\n')) {
    if (line === '' || (ext && line.startsWith('@'))) continue;
    v.names++;
    if (!ext) {
      if (line.startsWith('__ksymtab_') || line.startsWith('__export_symbol_')) v.exports++;
      continue;
    }
    const flags = line.split(' ')[1] ?? ''; // kernel symbol names have no spaces
    if (flags[0] !== 'U' && flags[1] === 'f') v.functions!++;
    if (flags.slice(2).includes('x')) v.exports++;
  }
  return v;
}

/**
 * vmlinuxBlockSummary reads the map at `file` again and counts what its vmlinux block holds.
 * Undefined when the file cannot be read or has no vmlinux block. The loaders, tuned to
 * materialise the converter's few dozen names, do not count; this is for error paths and tests.
 */
export function vmlinuxBlockSummary(file: string): VmlinuxSummary | undefined {
  const text = mapText(file);
  const b = text === undefined ? undefined : vmlinuxBlock(text);
  return b === undefined ? undefined : summarise(b.body, b.ext);
}

/** answers of vmlinuxLooksSymbolless per loaded map: a conversion may ask for each missing symbol */
const looked = new WeakMap<SymbolMap, string | undefined>();

/**
 * vmlinuxLooksSymbolless tells whether the vmlinux block of a map was made from a vmlinux
 * without symbols (a map written by an older version, or by the 2022 shell recipe run on a
 * linux-headers vmlinux), and returns the reason to print; else undefined. Ext: no function line
 * (type f). 0.1 has no types: no `__ksymtab_` line, which every kernel with modules has for its
 * exports (a BTF-only vmlinux has none: its symbols are all in .BTF and .BTF_ids). A good map is
 * recognised by one regular-expression search (the first function or export line); only a
 * suspect block, which is small, is counted line by line for the message.
 */
export function vmlinuxLooksSymbolless(map: SymbolMap): string | undefined {
  if (looked.has(map)) return looked.get(map);
  const text = mapText(map.path);
  const b = text === undefined ? undefined : vmlinuxBlock(text);
  let why: string | undefined;
  if (b !== undefined && !(b.ext ? /^[^ \n]+ [^U\n]f/m : /^(?:__ksymtab_|__export_symbol_)/m).test(b.body)) {
    const v = summarise(b.body, b.ext);
    why = b.ext ? `its vmlinux block has no function (${v.names} symbols)` : `its vmlinux block has no __ksymtab_ name, so no exports (${v.names} symbols)`;
  }
  looked.set(map, why);
  return why;
}

/**
 * symbollessMapHint is what to say instead of "check the name" when a symbol is missing from a
 * map whose vmlinux block shows it was made from a vmlinux without symbols; else undefined.
 */
export function symbollessMapHint(map: SymbolMap): string | undefined {
  const why = vmlinuxLooksSymbolless(map);
  if (why === undefined) return undefined;
  return `${map.path} was made from a vmlinux without symbols (${why}: a stripped or BTF-only vmlinux); ` +
    "regenerate it with 'klp-convert symbols' from the kernel's unstripped vmlinux (Debian: the linux-image-<version>-dbg package; " +
    'other distributions: the kernel debuginfo package)';
}
