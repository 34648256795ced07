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

const KSYM_NAME_LEN = 512;

const KEEP_ABSOLUTE = new Set(['__kernel_syscall_via_break', '__kernel_syscall_via_epc', '__kernel_sigtramp', '__gp']);
const IGNORED_PREFIXES = [
  '$', '.L', '__efistub_', '__pi_$', '__pi_.L', '__kvm_nvhe_$', '__kvm_nvhe_.L',
  '__kcfi_typeid_', '__kvm_nvhe___kcfi_typeid_', '__pi___kcfi_typeid_', '__crc_', '__kstrtab_', '__kstrtabns_',
];
const IGNORED_SUFFIXES = ['_from_arm', '_from_thumb', '_veneer'];
const IGNORED_EXACT = new Set(['L0', '_SDA_BASE_', '_SDA2_BASE_']);
const IGNORED_INFIXES = ['.long_branch.', '.plt_branch.'];

/** the kinds of KALLSYMS_RULES' records (src/klp/wasm/extlines.c reads them) */
export const enum RuleKind {
  End = 0, Prefix = 1, Suffix = 2, Exact = 3, Infix = 4,
  /** `__`, letters and digits, then the bytes (THUNK) */
  ThunkTail = 5,
  /** an absolute symbol kallsyms keeps */
  KeepAbsolute = 6,
  /** after `__`: a linker-provided-looking start (a tie-break only) */
  LinkerPrefix = 7,
  /** a linker-provided-looking end */
  LinkerSuffix = 8,
}

/** the linker-provided look of mayBeLinkerProvided: `__` then one of these, or one of those at the end; 8 bytes or more */
const LINKER_PREFIXES = ['start_', 'stop_', 'end_'];
const LINKER_SUFFIXES = ['_start', '_end'];
/** the shortest name mayBeLinkerProvided considers */
export const LINKER_MIN = 8;
export { KSYM_NAME_LEN };

/**
 * KALLSYMS_RULES are the lists above as records `kind, length, bytes...` ending with a 0 kind,
 * for the WebAssembly that applies them (wasm/extlines.c, through extlines.ts: ExtLines.kallsyms
 * for vmlinux's table, kallsymsVisible / ignoredByName / mayBeLinkerProvided for one name): the
 * lists here stay the one statement of the rules, the C their one reading.
 */
export const KALLSYMS_RULES: Uint8Array = (() => {
  const out: number[] = [];
  const add = (kind: RuleKind, s: string): void => {
    out.push(kind, s.length);
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
  };
  for (const p of IGNORED_PREFIXES) add(RuleKind.Prefix, p);
  for (const p of IGNORED_SUFFIXES) add(RuleKind.Suffix, p);
  for (const p of IGNORED_EXACT) add(RuleKind.Exact, p);
  for (const p of IGNORED_INFIXES) add(RuleKind.Infix, p);
  add(RuleKind.ThunkTail, 'Thunk_');
  for (const p of KEEP_ABSOLUTE) add(RuleKind.KeepAbsolute, p);
  for (const p of LINKER_PREFIXES) add(RuleKind.LinkerPrefix, p);
  for (const p of LINKER_SUFFIXES) add(RuleKind.LinkerSuffix, p);
  out.push(RuleKind.End);
  return Uint8Array.from(out);
})();
