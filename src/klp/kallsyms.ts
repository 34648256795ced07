/**
 * Which vmlinux symbols the kernel's kallsyms table holds, and in which order: the order
 * livepatch counts in when it resolves `.klp.sym.vmlinux.<name>,<pos>` (livepatch-elf-abi.md §5.1).
 *
 * Linux 6.12 builds the table in two steps, both read for this file (not copied):
 *  1. scripts/mksysmap runs `nm -n vmlinux` and deletes with sed: nm types a (local absolute),
 *     N (debugging), U (undefined), w (undefined weak); names starting with `$`, `.L`,
 *     `__efistub_`, `__pi_$`/`__pi_.L`, `__kvm_nvhe_$`/`__kvm_nvhe_.L`, `__<alnum>*Thunk_` (lld),
 *     `__kcfi_typeid_` (also under `__kvm_nvhe_`/`__pi_`), `__crc_`, `__kstrtab_`, `__kstrtabns_`;
 *     names ending in `_from_arm`, `_from_thumb`, `_veneer`; the exact names `L0`, `_SDA_BASE_`,
 *     `_SDA2_BASE_`; names containing `.long_branch.` or `.plt_branch.`.
 *  2. scripts/kallsyms.c `read_symbol()`/`is_ignored_symbol()` drops types u (unique global) and
 *     n, every other absolute (A) symbol except `__kernel_syscall_via_break`,
 *     `__kernel_syscall_via_epc`, `__kernel_sigtramp`, `__gp`, and names of KSYM_NAME_LEN (512)
 *     bytes or more. With CONFIG_KALLSYMS_ALL (livepatch selects it) no address-range filter
 *     applies. `sort_symbols()`/`compare_symbols()` then order by address; ties: non-weak (nm W/w;
 *     a weak object prints V and is not weak there) first,
 *     then names that do not look linker-provided (`__start_*`, `__stop_*`, `__end_*`, `*_start`,
 *     `*_end`, names of 8+ bytes starting `__`), then fewer leading underscores, then the input
 *     order, which is `nm -n` order (address, then name in byte order, then symbol-table order).
 *
 * nm's letter comes from BFD: a symbol in a non-SHF_ALLOC section that has contents gets N
 * (debug sections) or n; so "in an allocated section, or SHT_NOBITS" is what survives. Since
 * 6.2 livepatch walks `kallsyms_seqs_of_names` (name, then address, then this order), which
 * counts same-named symbols in the same order.
 */
import { SHF_ALLOC, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_NOBITS, STB_GNU_UNIQUE, STB_WEAK, STT_FILE, STT_SECTION } from '../elf/index.js';

const KSYM_NAME_LEN = 512;

const KEEP_ABSOLUTE = new Set(['__kernel_syscall_via_break', '__kernel_syscall_via_epc', '__kernel_sigtramp', '__gp']);
const IGNORED_PREFIXES = [
  '$', '.L', '__efistub_', '__pi_$', '__pi_.L', '__kvm_nvhe_$', '__kvm_nvhe_.L',
  '__kcfi_typeid_', '__kvm_nvhe___kcfi_typeid_', '__pi___kcfi_typeid_', '__crc_', '__kstrtab_', '__kstrtabns_',
];
const IGNORED_SUFFIXES = ['_from_arm', '_from_thumb', '_veneer'];
const IGNORED_EXACT = new Set(['L0', '_SDA_BASE_', '_SDA2_BASE_']);
const IGNORED_INFIXES = ['.long_branch.', '.plt_branch.'];
const THUNK = /^__[A-Za-z0-9]*Thunk_/;

/** the IGNORED_PREFIXES after "__", by their third character (all others start with "$" or ".L") */
const UNDERSCORE_PREFIXES = new Map<number, string[]>();
for (const p of IGNORED_PREFIXES) {
  if (!p.startsWith('__')) continue;
  const l = UNDERSCORE_PREFIXES.get(p.charCodeAt(2)) ?? [];
  l.push(p);
  UNDERSCORE_PREFIXES.set(p.charCodeAt(2), l);
}
const SUFFIX_LAST = new Set(IGNORED_SUFFIXES.map((x) => x.charCodeAt(x.length - 1)));
const EXACT_MAX = Math.max(...[...IGNORED_EXACT].map((x) => x.length));

/**
 * ignoredByName applies the name rules of mksysmap and kallsyms.c to one name (latin1). It runs
 * for every vmlinux symbol (~190k), so each rule is reached only past a cheap character test
 * that every name it matches passes (the lists above stay the single statement of the rules).
 */
export function ignoredByName(name: string): boolean {
  const n = name.length;
  if (n === 0 || n >= KSYM_NAME_LEN) return true;
  const c = name.charCodeAt(0);
  if (c === 0x24 /* $ */) return true; // the '$' prefix
  if (c === 0x2e /* . */ && name.startsWith('.L')) return true;
  if (c === 0x5f /* _ */ && name.charCodeAt(1) === 0x5f) {
    const l = UNDERSCORE_PREFIXES.get(name.charCodeAt(2));
    if (l !== undefined) for (const p of l) if (name.startsWith(p)) return true;
    if (THUNK.test(name)) return true;
  }
  if (n <= EXACT_MAX && IGNORED_EXACT.has(name)) return true;
  if (SUFFIX_LAST.has(name.charCodeAt(n - 1))) for (const s of IGNORED_SUFFIXES) if (name.endsWith(s)) return true;
  if (name.includes('.')) for (const s of IGNORED_INFIXES) if (name.includes(s)) return true; // each infix holds a '.'
  return false;
}

export interface SectionInfo {
  flags: number; // low 32 bits of sh_flags
  type: number;
}

/**
 * kallsymsVisible decides whether a defined vmlinux symbol reaches the kallsyms table.
 * `shndx` is the resolved section index, or the raw reserved value (SHN_ABS, SHN_COMMON...).
 */
export function kallsymsVisible(name: string, info: number, rawShndx: number, sec: SectionInfo | undefined): boolean {
  const type = info & 0xf;
  const bind = info >>> 4;
  if (type === STT_SECTION || type === STT_FILE) return false; // nm does not print them
  if (rawShndx === SHN_UNDEF) return false; // U, w
  if (bind === STB_GNU_UNIQUE) return false; // u
  if (rawShndx === SHN_ABS) {
    if (bind !== STB_WEAK && bind !== 1 /* GLOBAL */) return false; // a
    if (!KEEP_ABSOLUTE.has(name)) return false; // A
  } else if (rawShndx !== SHN_COMMON && sec !== undefined) {
    if ((sec.flags & SHF_ALLOC) === 0 && sec.type !== SHT_NOBITS) return false; // N, n
  }
  return !ignoredByName(name);
}

/** mayBeLinkerProvided mirrors kallsyms.c's guess for linker-script symbols (a tie-break only). */
export function mayBeLinkerProvided(name: string): boolean {
  if (name.length < 8 || !name.startsWith('__')) return false;
  return name.startsWith('start_', 2) || name.startsWith('stop_', 2) || name.startsWith('end_', 2) ||
    name.endsWith('_start') || name.endsWith('_end');
}

export function leadingUnderscores(name: string): number {
  let i = 0;
  while (i < name.length && name.charCodeAt(i) === 0x5f) i++;
  return i;
}
