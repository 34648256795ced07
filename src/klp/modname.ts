/**
 * Module names in kernel form. The build names a module after its file (`kvm-intel.ko`), the
 * kernel after `mod->name` (`kvm_intel`): kbuild's modpost writes KBUILD_MODNAME with every `-`
 * turned into `_`. symbols.klp, .klp.sym.<obj>.* names and klp_object.name all need the kernel
 * form; the 0.1 map alone keeps the file form because the 2022 recipe wrote `basename` verbatim.
 */
import { KlpError } from './errors.js';

/** MODULE_NAME_LEN - 1: the kernel's limit on a module name (`char name[MODULE_NAME_LEN]`, 64 - sizeof(unsigned long) = 56 on 64-bit). */
export const MODULE_NAME_MAX = 55;

const EXTENSIONS = ['.ko.gz', '.ko.xz', '.ko.zst', '.ko', '.o'] as const;

/** stripModuleExtension removes the directory and a .ko/.o/.ko.gz/.ko.xz/.ko.zst extension, keeping dashes. */
export function moduleFileBase(pathOrName: string): string {
  const slash = pathOrName.lastIndexOf('/');
  let base = slash >= 0 ? pathOrName.slice(slash + 1) : pathOrName;
  for (const ext of EXTENSIONS) {
    if (base.endsWith(ext) && base.length > ext.length) {
      base = base.slice(0, -ext.length);
      break;
    }
  }
  return base;
}

/**
 * kernelModuleName returns the name the kernel gives a module: directory and extension stripped,
 * every '-' replaced by '_' ('arch/x86/kvm/kvm-intel.ko' -> 'kvm_intel').
 */
export function kernelModuleName(pathOrName: string): string {
  // a bare name (every object line of a 0.1 map: 4,231 on a distro kernel) needs no stripping
  const base = pathOrName.includes('/') || pathOrName.includes('.') ? moduleFileBase(pathOrName) : pathOrName;
  return base.includes('-') ? base.replaceAll('-', '_') : base;
}

/** moduleNameProblem says why a kernel-form object name cannot appear in a .klp.sym/.klp.rela name, or undefined if it can. */
export function moduleNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (name.length > MODULE_NAME_MAX) return `the name has ${name.length} characters (the kernel allows ${MODULE_NAME_MAX})`;
  if (name.includes('.')) return 'the name contains a dot';
  return undefined;
}

/** checkModuleName throws KlpError MODULE_NAME_INVALID when moduleNameProblem finds a problem. */
export function checkModuleName(name: string): void {
  const p = moduleNameProblem(name);
  if (p !== undefined) throw new KlpError('MODULE_NAME_INVALID', `object name '${name}' cannot be used: ${p}`);
}
