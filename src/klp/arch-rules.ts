/**
 * Per-architecture facts of the kernel's livepatch core that decide what may be converted.
 *
 * The kernel applies module-specific klp relocations late: when the patch is enabled against a
 * loaded target, or when the target loads after the patch (late module patching). By then the
 * patch module's text, .rodata and .data..ro_after_init are read-only, so the architecture's
 * apply_relocate_add() must write them through a text-poke helper. Each entry names that helper
 * and the real kernels on which the test/kernel roai, roai-late, data-late and lp*-late cases
 * (late writes into read-only text, .rodata and .data..ro_after_init) pass.
 *
 * Not listed: ppc64. Its apply_relocate_add() (arch/powerpc/kernel/module_64.c, 6.12) patches
 * instructions with patch_instruction() but stores R_PPC64_ADDR64/ADDR32 data with a plain
 * "*(unsigned long *)location = value". Booted (test/kernel-cross/ppc64le-roai-experiment.sh,
 * 6.12 with STRICT_MODULE_RWX=y): applied while the patch enables, a .data..ro_after_init klp
 * relocation works; applied when the target loads later, the kernel oopses (LATE_WRITE_FAILS).
 */
import { EM_AARCH64, EM_PPC64, EM_S390, EM_X86_64, isKnownMachine } from '../elf/index.js';

export interface LateWriteRule {
  /** the architecture as users name it */
  arch: string;
  /** how apply_relocate_add() writes into a live (read-only) module */
  helper: string;
  /** the evidence: kernels booted by test/kernel on which late writes to read-only sections work */
  proven: string;
}

const LATE_WRITES: ReadonlyMap<number, LateWriteRule> = new Map([
  [EM_X86_64, { arch: 'x86_64', helper: 'text_poke()', proven: 'Linux 6.1, 6.12, 7.2' }],
  [EM_AARCH64, { arch: 'arm64', helper: 'aarch64_insn_copy()', proven: 'Linux 7.2' }],
  [EM_S390, { arch: 's390x', helper: 's390_kernel_write()', proven: 'Linux 6.12' }],
]);

/**
 * The rule for late klp writes into read-only sections of a live module on machine `machine`
 * (ELF e_machine), or undefined when no kernel of that architecture was shown to cope.
 */
export function lateWriteRule(machine: number | undefined): LateWriteRule | undefined {
  return machine === undefined ? undefined : LATE_WRITES.get(machine);
}

/** the architectures of lateWriteRule(), for messages */
export function lateWriteArches(): string[] {
  return [...LATE_WRITES.values()].map((r) => r.arch);
}

/** what the kernel did on machines that were shown NOT to cope, quoted from its log */
const LATE_WRITE_FAILS: ReadonlyMap<number, string> = new Map([
  [EM_PPC64, 'ppc64le Linux 6.12 with STRICT_MODULE_RWX, target loaded after the patch: "BUG: Unable to handle kernel data access on write at 0xc008000000043000", "Oops: Kernel access of bad area, sig: 11 [#1]"'],
]);

/** the kernel's own words when late writes into read-only module memory failed on `machine` */
export function lateWriteFailure(machine: number | undefined): string | undefined {
  return machine === undefined ? undefined : LATE_WRITE_FAILS.get(machine);
}

/**
 * machineRefusal returns why a module of machine `machine` (ELF e_machine) cannot be converted,
 * or undefined when it can be tried. Converting means choosing which relocations to move, by
 * type, into klp sections that the kernel applies with the architecture's apply_relocate_add():
 * without the machine's relocation table (src/elf/arch) every type would be read as some other
 * machine's, so EM_NONE or an unknown number is refused outright. i386 and riscv are known and
 * refused per relocation, with their own reasons (convert-place.ts).
 */
export function machineRefusal(machine: number): string | undefined {
  if (isKnownMachine(machine)) return undefined;
  return `${machine === 0 ? 'e_machine 0 (EM_NONE, no machine)' : `e_machine ${machine}`} is not a machine klp-convert has relocation rules for `
    + '(x86_64, aarch64, s390x, ppc64le, ppc32, x32 convert); the ELF header may be damaged: rebuild the module';
}
