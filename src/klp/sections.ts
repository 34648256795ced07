/**
 * Which base sections may receive klp relocations.
 *
 * The kernel applies klp relocations late: vmlinux ones when the patch module loads, module
 * ones when the patch is enabled or the target module loads (livepatch-elf-abi.md §6). Sections
 * whose entries the kernel consumes once at module load (alternatives, paravirt, exception and
 * bug tables, static calls, jump labels) would see the relocation too late, so a klp relocation
 * there is refused. Jump-label entries that name a vmlinux key are fine since 5.8 (vmlinux klp
 * relocations are applied together with the normal ones, before jump labels are initialised).
 *
 * Module references from .data..ro_after_init are converted only for the architectures whose
 * kernels write late relocations into read-only module memory (arch-rules.ts); elsewhere, or
 * when the machine is not known, they are refused.
 *
 * The check is an allowlist, like klp-convert v6/v7's supported_section(), widened to the data
 * and text sections a module really has; anything not listed is refused with an explanation.
 */

import { lateWriteArches, lateWriteFailure, lateWriteRule } from './arch-rules.js';

export interface SectionVerdict {
  ok: boolean;
  code?: string;
  why?: string;
  hint?: string;
}

const TEXT_DATA_PREFIXES = ['.text', '.data', '.rodata', '.sdata', '.sdata2', '.toc', '.init.text', '.init.data', '.init.rodata', '.exit.text', '.exit.data', '.noinstr.text', '.ref.text', '.ref.data'];

/** sections the kernel consumes at module load, with what to do instead */
const LOAD_TIME: readonly (readonly [RegExp, string])[] = [
  [/^\.altinstr(uctions|_replacement|_aux)$/, 'alternatives are patched once at module load; call a helper function from the patched code instead of referencing the symbol inside an alternative'],
  [/^\.parainstructions$/, 'paravirt sites are patched once at module load; keep the reference out of paravirt call sites'],
  [/^__ex_table$/, 'exception tables are sorted and checked at module load; access the symbol from a function that does not need an exception-table entry for it'],
  [/^__bug_table$/, 'BUG/WARN tables are read at module load; reference the symbol outside the WARN/BUG condition'],
  [/^\.static_call_sites$/, 'static calls are initialised at module load; call the function directly or through a pointer (objtool calls this KLP_STATIC_CALL)'],
  [/^\.smp_locks$/, 'lock-prefix sites are recorded at module load'],
  [/^__mcount_loc$|^__patchable_function_entries$/, 'ftrace call sites are recorded at module load'],
  [/^\.(retpoline|return|call)_sites$|^\.ibt_endbr_seal$|^\.kcfi_traps$/, 'objtool site tables are processed at module load'],
  [/^\.orc_unwind(_ip)?$|^\.eh_frame$/, 'unwind tables are registered at module load'],
  [/^__tracepoints(_ptrs|_strings)?$|^__dyndbg(_classes)?$|^_ftrace_events$|^_ftrace_eval_map$|^__bpf_raw_tp_map$|^__trace_printk_fmt$/, 'tracepoint and dynamic-debug descriptors are registered at module load; the patch may not reference them by klp relocation'],
  [/^__param$|^__modver$|^\.gnu\.linkonce\.this_module$|^\.init_array$|^\.ctors$|^\.modinfo$|^__ksymtab/, 'the module loader reads this section itself at load'],
];

/**
 * loadTimeReason: why the kernel consumes section `base` at module load, or undefined; each
 * name is matched against the list once (a livepatch has a few base sections and a convert
 * checks each relocation twice, converting and verifying: 240 checks cost 1.2 ms, 0.6 ms so)
 */
const loadTimeSeen = new Map<string, string | undefined>();
function loadTimeReason(base: string): string | undefined {
  if (loadTimeSeen.has(base)) return loadTimeSeen.get(base);
  const why = LOAD_TIME.find(([re]) => re.test(base))?.[1];
  loadTimeSeen.set(base, why);
  return why;
}

/** `machine`: the livepatch's ELF e_machine (omitted: the most restrictive rules apply) */
export function checkBaseSection(base: string, object: string, machine?: number): SectionVerdict {
  if (base === '__jump_table') {
    if (object === 'vmlinux') return { ok: true };
    return {
      ok: false, code: 'JUMP_TABLE_MODULE_KEY',
      why: `jump labels are initialised when the patch module loads, before relocations to module '${object}' can be applied`,
      hint: 'test a module-owned key with static_key_enabled(&key) instead of static_branch_likely/unlikely(&key)',
    };
  }
  const why = loadTimeReason(base);
  if (why !== undefined) return { ok: false, code: 'LOAD_TIME_SECTION', why, hint: 'move the reference into ordinary function code or data' };
  if (/^\.data\.\.ro_after_init/.test(base) && object !== 'vmlinux' && !lateWriteRule(machine)) {
    return {
      ok: false, code: 'RO_AFTER_INIT_MODULE',
      why: `.data..ro_after_init becomes read-only after the patch initialises; a relocation to module '${object}' may be applied later, ${lateWriteFailure(machine) ? `and the kernel then faults (${lateWriteFailure(machine)})` : `and no kernel of this architecture was shown to write late relocations into read-only module memory (shown on: ${lateWriteArches().join(', ')})`}`,
      hint: 'keep the pointer in ordinary .data',
    };
  }
  for (const p of TEXT_DATA_PREFIXES) {
    if (base === p || base.startsWith(p + '.') || base.startsWith(p + '_') || (p === '.data' && base.startsWith('.data'))) return { ok: true };
  }
  return {
    ok: false, code: 'UNKNOWN_SECTION',
    why: `section '${base}' is not a text or data section known to be safe for late (klp) relocations`,
    hint: 'move the reference into ordinary function code or data, or report the section to the klp-convert developers',
  };
}
