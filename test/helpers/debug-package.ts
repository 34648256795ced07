// A directory laid out like Debian's linux-image-<release>-dbg package (6.12: vmlinux in
// usr/lib/debug/boot/ with a link and modules.order in lib/modules/<release>; 7.2: vmlinux in
// lib/modules/<release>, no modules.order), filled with the committed gcc-built fixtures of
// test/fixtures/bin/x86_64; and the same files as a kbuild tree. Used by the kernel-tree and
// klp-convert.mk tests.
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from './elf-fixtures.js';

export const FIX = join(repoRoot, 'test/fixtures/bin/x86_64');
export const REL = '6.12.99+deb12-cloud-amd64';

// module path under kernel/ -> fixture (lp_main.ko is a livepatch module: left out of every map)
export const MODULES: [string, string][] = [
  ['drivers/misc/target_mod.ko', 'target_mod.ko'],
  ['fs/keys/keys-mod.ko.gz', 'keys-mod.ko'],
  ['samples/livepatch/lp_main.ko', 'lp_main.ko'],
];
// modules.order lines as Debian's 6.12 package writes them (relative to lib/modules/<release>), shuffled
export const ORDER = ['kernel/samples/livepatch/lp_main.ko', 'kernel/fs/keys/keys-mod.ko', 'kernel/drivers/misc/target_mod.ko'];

export function put(p: string, bytes: Buffer): void {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
}

/** fillModules writes kernel/** of a lib/modules/<release> directory (and a vdso and System.map that must be ignored). */
export function fillModules(modDir: string): void {
  for (const [rel, fix] of MODULES) {
    const b = readFileSync(join(FIX, fix));
    put(join(modDir, 'kernel', rel), rel.endsWith('.gz') ? gzipSync(b) : b);
  }
  put(join(modDir, 'vdso/vdso64.so'), readFileSync(join(FIX, 'target_mod.ko')));
  put(join(modDir, 'System.map'), Buffer.from('ffffffff81000000 T _stext\n'));
}

/** Debian 6.12: vmlinux in boot/, a link in lib/modules/<release>, modules.order there. */
export function layout612(root: string): string {
  const dbg = join(root, 'usr/lib/debug');
  put(join(dbg, 'boot', `vmlinux-${REL}`), readFileSync(join(FIX, 'vmlinux')));
  symlinkSync(`boot/vmlinux-${REL}`, join(dbg, `vmlinux-${REL}`));
  const modDir = join(dbg, 'lib/modules', REL);
  fillModules(modDir);
  symlinkSync(`../../../boot/vmlinux-${REL}`, join(modDir, 'vmlinux'));
  writeFileSync(join(modDir, 'modules.order'), ORDER.join('\n') + '\n');
  return modDir;
}

/** Debian 7.2: vmlinux in lib/modules/<release>, boot/vmlinux-<release> links to it, no modules.order. */
export function layout72(root: string): string {
  const dbg = join(root, 'usr/lib/debug');
  const modDir = join(dbg, 'lib/modules', REL);
  fillModules(modDir);
  copyFileSync(join(FIX, 'vmlinux'), join(modDir, 'vmlinux'));
  mkdirSync(join(dbg, 'boot'));
  symlinkSync(`../lib/modules/${REL}/vmlinux`, join(dbg, 'boot', `vmlinux-${REL}`));
  return modDir;
}

/** The same files as a kbuild tree: vmlinux, modules.order (<path>.ko lines), the modules. */
export function layoutBuildTree(dir: string): void {
  copyFileSync(join(FIX, 'vmlinux'), join(dir, 'vmlinux'));
  fillModules(dir);
  writeFileSync(join(dir, 'modules.order'), ORDER.join('\n') + '\n');
}

