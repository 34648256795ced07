// Which ELF targets the installed GNU binutils (objdump, nm) really understand.
//
// Debian's plain `binutils` reads only x86 ELF with its own backends; other machines fall back to
// the generic elf64-little/elf64-big targets, where objdump -r aborts ("BFD ... internal error")
// and nm prints AArch64/RISC-V mapping symbols ($x, $d) that the real backend hides. An oracle
// comparison on such a file would fail for the tool's reason, not ours, so tests ask here first
// and skip with the package to install (binutils-multiarch, or the cross binutils of that arch).
import { spawnSync } from 'node:child_process';

/** BFD target names by fixture architecture directory (test/fixtures/bin/<arch>). */
const BFD_TARGET: Record<string, string> = {
  x86_64: 'elf64-x86-64',
  x32: 'elf32-x86-64',
  i386: 'elf32-i386',
  aarch64: 'elf64-littleaarch64',
  s390x: 'elf64-s390',
  ppc64le: 'elf64-powerpcle',
  ppc32: 'elf32-powerpc',
  riscv64: 'elf64-littleriscv',
};

let targets: Set<string> | undefined;

/** bfdTargets lists the targets `objdump -i` names (empty when objdump is missing). */
export function bfdTargets(): Set<string> {
  if (targets !== undefined) return targets;
  const r = spawnSync('objdump', ['-i'], { encoding: 'utf8' });
  targets = new Set<string>();
  if (r.error === undefined && r.status === 0) {
    for (const l of r.stdout.split('\n')) if (/^\S/.test(l) && !l.startsWith('BFD ')) targets.add(l.trim());
  }
  return targets;
}

/**
 * bfdSkip returns false when binutils has a real backend for the fixture architecture `arch`,
 * else the reason to skip, naming what to install (node:test prints it with the skipped test).
 */
export function bfdSkip(arch: string, tool: 'objdump' | 'nm'): false | string {
  const want = BFD_TARGET[arch];
  if (want === undefined) return `${tool}: no BFD target known for fixture arch ${arch}`;
  if (bfdTargets().size === 0) return `${tool} not found: apt-get install binutils binutils-multiarch`;
  if (bfdTargets().has(want)) return false;
  return `${tool} has no ${want} backend on this machine (native binutils only): apt-get install binutils-multiarch`;
}

/** fixtureArch is the architecture directory of a fixture name such as "aarch64/lp_basic.o". */
export function fixtureArch(name: string): string {
  return name.split('/')[0]!;
}
