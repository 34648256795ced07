/**
 * The kernel's livepatch rules, in one place: the converter writes nothing these rules reject,
 * and the checker (validate.ts, target-check.ts) predicts with them what the kernel will do.
 *
 *  - name grammar and its limits per kernel version: `sscanf(".klp.sym.%55[^.].%511[^,],%lu")`
 *    (`%127` before 6.1) and `".klp.rela.%55[^.]"` in kernel/livepatch/core.c
 *    (klp_resolve_symbols(), klp_apply_section_relocs());
 *  - position semantics of klp_find_object_symbol(): 0 = the name is unique, N = the Nth
 *    same-named symbol, with the kernel's three failure messages;
 *  - the section/object policy: module-specific klp sections may not reference vmlinux symbols
 *    (5.8+), which base sections may receive late relocations (sections.ts), and per
 *    architecture whether late writes into read-only module memory work (arch-rules.ts).
 *
 * Read for this file (not copied): kernel/livepatch/core.c of Linux 6.1.20, 6.12.117 and 7.2.13
 * (all `%55[^.].%511[^,],%lu`, KSYM_NAME_LEN 512), and of 5.7 (`%127`, KSYM_NAME_LEN 128); 7.2
 * words "not marked as a livepatch symbol" differently. The messages below are the kernel's format
 * strings with their arguments filled in, so a user can grep dmesg for them.
 */
import { ET_REL, etName } from '../elf/index.js';
import { KLP_OBJNAME_MAX, KLP_RELA_PREFIX, KLP_SYM_PREFIX, KLP_SYMNAME_MAX, KLP_SYMNAME_MAX_PRE_6_1 } from './constants.js';

export { checkBaseSection } from './sections.js';
export { lateWriteArches, lateWriteRule } from './arch-rules.js';
export type { LateWriteRule } from './arch-rules.js';
export type { SectionVerdict } from './sections.js';

// ---- limits per kernel version --------------------------------------------------------------

export interface KernelLimits {
  /** longest object name in a klp name (%55: MODULE_NAME_LEN - 1 with the strictest 56) */
  objName: number;
  /** longest symbol name in a klp symbol name (%511 since 6.1, %127 before) */
  symName: number;
}

/** kernelLimits returns the name limits of a kernel version "X.Y[...]"; undefined: a current kernel. */
export function kernelLimits(kernelVersion?: string): KernelLimits {
  return { objName: KLP_OBJNAME_MAX, symName: symbolNameLimit(kernelVersion) };
}

/** atLeast compares a release "X.Y..." with X.Y; an unknown release counts as current (true). */
export function atLeast(release: string | undefined, major: number, minor: number): boolean {
  const m = release === undefined ? null : /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** symbolNameLimit returns the longest symbol name the target kernel accepts. */
export function symbolNameLimit(kernelVersion: string | undefined): number {
  if (kernelVersion === undefined) return KLP_SYMNAME_MAX;
  const m = /^(\d+)\.(\d+)/.exec(kernelVersion);
  if (!m) return KLP_SYMNAME_MAX;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 1) ? KLP_SYMNAME_MAX : KLP_SYMNAME_MAX_PRE_6_1;
}

// ---- name grammar ---------------------------------------------------------------------------

export interface ParsedKlpSym {
  object: string;
  name: string;
  /** the position as a JS number (exact up to 2^53) */
  pos: number;
  /** the position as the kernel's unsigned long holds it (64-bit) */
  pos64: bigint;
  /** the kernel accepts it, but not as written: white space before the number, or text after it */
  loose?: boolean;
}

const U64 = (1n << 64n) - 1n;

/**
 * parseKlpSymName mimics the kernel's `sscanf(name, ".klp.sym.%55[^.].%511[^,],%lu")`: undefined
 * where it would not return 3. A scanset stops at its width, so an over-long object or symbol
 * leaves the next literal ('.' or ',') unmatched; text after the number is not looked at.
 */
export function parseKlpSymName(full: string, symMax = KLP_SYMNAME_MAX): ParsedKlpSym | undefined {
  if (!full.startsWith(KLP_SYM_PREFIX)) return undefined;
  const rest = full.slice(KLP_SYM_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot > KLP_OBJNAME_MAX) return undefined;
  const object = rest.slice(0, dot);
  const tail = rest.slice(dot + 1);
  const comma = tail.indexOf(',');
  if (comma <= 0 || comma > symMax) return undefined;
  const name = tail.slice(0, comma);
  // %lu skips white space, then reads decimal digits; the value wraps at 64 bits
  // (simple_strntoull), and whatever follows is not looked at
  const m = /^[ \t\n\v\f\r]*([0-9]+)/.exec(tail.slice(comma + 1));
  if (!m) return undefined;
  const pos64 = BigInt(m[1]!) & U64;
  const trailing = tail.slice(comma + 1 + m[0].length);
  return { object, name, pos: Number(pos64), pos64, ...(trailing || m[0] !== m[1] ? { loose: true } : {}) };
}

/**
 * parseKlpRelaObject returns what `sscanf(name, ".klp.rela.%55[^.]")` stores: at most 55
 * characters up to the first '.', or undefined when the kernel reports "incorrectly formatted".
 * A longer object is cut at 55 characters by the kernel, so it never equals a module name; the
 * caller sees that through `truncated`.
 */
export function parseKlpRelaObject(sec: string): string | undefined {
  return scanKlpRelaObject(sec)?.object;
}

export function scanKlpRelaObject(sec: string): { object: string; truncated: boolean } | undefined {
  if (!sec.startsWith(KLP_RELA_PREFIX)) return undefined;
  const m = /^[^.]+/.exec(sec.slice(KLP_RELA_PREFIX.length));
  if (!m) return undefined;
  if (m[0].length > KLP_OBJNAME_MAX) return { object: m[0].slice(0, KLP_OBJNAME_MAX), truncated: true };
  return { object: m[0], truncated: false };
}

export interface NameProblem {
  code: 'BAD_OBJECT_NAME' | 'NAME_TOO_LONG' | 'NAME_HAS_COMMA';
  message: string;
}

/**
 * checkKlpNameParts says whether `.klp.sym.<object>.<name>,<pos>` (and a section named for
 * `object`) would parse on a kernel with these limits; the converter refuses what fails here.
 */
export function checkKlpNameParts(objects: readonly string[], name: string, limits: KernelLimits): NameProblem | undefined {
  for (const o of objects) {
    if (o.length === 0 || o.length > limits.objName || o.includes('.')) {
      return { code: 'BAD_OBJECT_NAME', message: `object name '${o}' for '${name}' is not a kernel module name (1-${limits.objName} characters, no '.')` };
    }
  }
  if (name.length > limits.symName) return { code: 'NAME_TOO_LONG', message: `symbol name '${name}' has ${name.length} characters; the target kernel accepts at most ${limits.symName}` };
  if (name.includes(',')) return { code: 'NAME_HAS_COMMA', message: `symbol name '${name}' contains ',', which the kernel's .klp.sym parser cannot read` };
  return undefined;
}

// ---- the module's ELF header ----------------------------------------------------------------

export interface HeaderProblem {
  code: 'NOT_RELOCATABLE';
  message: string;
}

/**
 * moduleHeaderProblem: what the module loader refuses from the ELF header alone, before it looks
 * at a section (kernel/module/main.c, the ELF validity checks: e_type must be ET_REL; insmod then
 * says "Exec format error"). vmlinux, an executable or a shared object is no module, whatever its
 * sections hold. The class and machine must be the kernel's too, but which kernel is the target's
 * to say: ELF32 modules (x32, ppc32) are converted and checked like the others.
 */
export function moduleHeaderProblem(h: { e_type: number }): HeaderProblem | undefined {
  if (h.e_type !== ET_REL) {
    return { code: 'NOT_RELOCATABLE', message: `e_type is ${etName(h.e_type)}, not ET_REL: the module loader refuses it (insmod: Exec format error); give the linked livepatch .ko (or foo.tmp.ko), not vmlinux or an executable` };
  }
  return undefined;
}

// ---- position semantics ---------------------------------------------------------------------

export type PositionOutcome = 'ok' | 'not-found' | 'ambiguous' | 'no-such-position';

/**
 * positionOutcome is klp_find_object_symbol()'s verdict for `count` same-named symbols in the
 * object and a requested position: 0 needs exactly one; N needs at least N (the walk stops at the
 * Nth). Position 1 on a unique name is accepted.
 */
export function positionOutcome(count: number, pos: bigint | number): PositionOutcome {
  const p = BigInt(pos);
  if (count === 0) return 'not-found';
  if (p === 0n) return count > 1 ? 'ambiguous' : 'ok';
  return p > BigInt(count) ? 'no-such-position' : 'ok';
}

// ---- the kernel's messages (kernel/livepatch/core.c, kernel/module/*.c) ----------------------

/** The kernel prints objname with %s: vmlinux is NULL there, which printk shows as "(null)". */
function objnameForAmbiguity(object: string): string {
  return object === 'vmlinux' ? '(null)' : object;
}

/** pr_fmt of kernel/livepatch/*.c: every livepatch line in dmesg starts with it */
export const LIVEPATCH_PREFIX = 'livepatch: ';

/** The kernel's lines, as dmesg shows them. */
export const kernelSays = {
  notFound: (name: string): string => `${LIVEPATCH_PREFIX}symbol '${name}' not found in symbol table`,
  ambiguous: (name: string, object: string): string => `${LIVEPATCH_PREFIX}unresolvable ambiguity for symbol '${name}' in object '${objnameForAmbiguity(object)}'`,
  noSuchPosition: (pos: bigint | number, name: string, object: string): string => `${LIVEPATCH_PREFIX}symbol position ${BigInt(pos)} for symbol '${name}' in object '${object}' not found`,
  badSymName: (full: string): string => `${LIVEPATCH_PREFIX}symbol ${full} has an incorrectly formatted name`,
  badSecName: (sec: string): string => `${LIVEPATCH_PREFIX}section ${sec} has an incorrectly formatted name`,
  /** 7.x adds where (its "rela sec" is the symbol table's index, as the code passes symndx) */
  notLivepatchSym: (name: string, symtabIndex: number, entry: number, release?: string): string => (atLeast(release, 7, 0)
    ? `${LIVEPATCH_PREFIX}symbol ${name} at rela sec ${symtabIndex} idx ${entry} is not marked as a livepatch symbol`
    : `${LIVEPATCH_PREFIX}symbol ${name} is not marked as a livepatch symbol`),
  vmlinuxFromModuleSection: (name: string): string => `${LIVEPATCH_PREFIX}invalid access to vmlinux symbol '${name}' from module-specific livepatch relocation section`,
  refusingModule: (patch: string, mod: string): string => `${LIVEPATCH_PREFIX}patch '${patch}' failed for module '${mod}', refusing to load module '${mod}'`,
  /** kernel/module/main.c, simplify_symbols() */
  unknownSymbol: (mod: string, name: string): string => `${mod}: Unknown symbol ${name} (err -2)`,
  notMarked: (mod: string): string => `${LIVEPATCH_PREFIX}module ${mod} is not marked as a livepatch module`,
};

/** positionMessage is the kernel's message for a failed outcome (undefined for 'ok'). */
export function positionMessage(outcome: PositionOutcome, name: string, object: string, pos: bigint | number): string | undefined {
  switch (outcome) {
    case 'ok': return undefined;
    case 'not-found': return kernelSays.notFound(name);
    case 'ambiguous': return kernelSays.ambiguous(name, object);
    case 'no-such-position': return kernelSays.noSuchPosition(pos, name, object);
  }
}

// ---- section/object policy ------------------------------------------------------------------

/**
 * vmlinuxInModuleSection: a module-specific klp section (object != vmlinux) referencing a
 * vmlinux symbol, which klp_resolve_symbols() refuses since 5.8 when that section is applied.
 */
export function vmlinuxInModuleSection(sectionObject: string, symbolObject: string): boolean {
  return sectionObject !== 'vmlinux' && symbolObject === 'vmlinux';
}

/**
 * The relocation types x86_64's apply_relocate_add() writes (arch/x86/kernel/module.c,
 * __write_relocate_add, 7.2) and the bytes each writes; R_X86_64_NONE (0) is skipped ("nothing
 * to write"), every other type fails the load with "Unknown rela relocation".
 */
export const X86_64_RELOC_WIDTH: ReadonlyMap<number, number> = new Map([[1, 8], [2, 4], [4, 4], [10, 4], [11, 4], [24, 8]]);
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
