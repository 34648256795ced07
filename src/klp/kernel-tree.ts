/**
 * What a kernel directory given on the command line is, and where its vmlinux and its modules are.
 * The map generator (`kernel build -> symbols.klp`) needs the unstripped vmlinux and every module;
 * three layouts hold them, and findKernelTree tells them apart with a few stats and one readdir:
 *
 *  - a kernel build (output) tree: `vmlinux`, `modules.order`, `<path>.o` / `<path>.ko` (what
 *    `make vmlinux modules` leaves; modules.order is written by the modules build);
 *  - a distribution debug package, unpacked (`dpkg -x`) or installed: the directory that holds
 *    `usr/lib/debug/` (Debian: linux-image-<release>-dbg; `/` when it is installed), or that
 *    `usr/lib/debug` directory itself;
 *  - that package's `usr/lib/debug/lib/modules/<release>` directory, or any `lib/modules/<release>`
 *    like directory: `kernel/**.ko` (maybe `.ko.xz`/`.ko.zst`/`.ko.gz`), perhaps `modules.order`,
 *    and `vmlinux` there or in `usr/lib/debug/boot/vmlinux-<release>`.
 *
 * Debian 6.12's -dbg package has `modules.order`; 7.2's has only `System.map`, `vmlinux` and
 * `kernel/**.ko`. Without modules.order the modules are the `.ko` files found under `kernel/`, in
 * byte order of their paths: the same order the map takes from a modules.order (the 2022 recipe
 * sorts its lines with make's `$(sort)`, so the file's own order never mattered, only its set of
 * lines; docs/symbols-format.md). `check --target` uses the same discovery.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readInputText } from '../elf/index.js';
import { KlpError } from './errors.js';

export type KernelTreeKind = 'build-tree' | 'debug-package' | 'modules-dir';

export interface KernelTree {
  kind: KernelTreeKind;
  /** the directory as given */
  dir: string;
  /**
   * the directory module paths are relative to: the build tree itself, or the
   * `lib/modules/<release>` directory (the `*<object> <path>` lines of the ext map are relative to it)
   */
  root: string;
  /** the vmlinux with the symbol table (for a package: its debug vmlinux) */
  vmlinux: string;
  /** the modules.order file, when there is one */
  modulesOrder?: string;
  /** the kernel release (`6.12.117+deb12-cloud-amd64`) when the layout names it */
  release?: string;
}

const MODULE_FILE = /\.ko(\.zst|\.xz|\.gz)?$/;

function statOf(p: string): fs.Stats | undefined {
  return fs.statSync(p, { throwIfNoEntry: false });
}
export function isFile(p: string): boolean {
  return statOf(p)?.isFile() ?? false;
}
export function isDir(p: string): boolean {
  return statOf(p)?.isDirectory() ?? false;
}

/**
 * findKernelTree classifies `dir` (see the file header) and finds its vmlinux and its
 * modules.order (absent: undefined). It reads no ELF file. It throws KlpError TREE_NO_DIR,
 * TREE_NO_VMLINUX or TREE_MANY_RELEASES (a package root with several kernels).
 */
export function findKernelTree(dir: string): KernelTree {
  if (!isDir(dir)) {
    throw new KlpError('TREE_NO_DIR', `${dir}: no such directory; pass a kernel build tree, a debug package root (the directory holding usr/lib/debug) or its usr/lib/debug/lib/modules/<release> directory`);
  }
  const debugModules = path.join(dir, 'usr/lib/debug/lib/modules');
  if (isDir(debugModules)) return packageTree(dir, debugModules);
  if (!isFile(path.join(dir, 'Makefile'))) {
    // the package's usr/lib/debug itself, or a root with only the installed modules
    if (isDir(path.join(dir, 'lib/modules'))) return packageTree(dir, path.join(dir, 'lib/modules'));
    if (isDir(path.join(dir, 'kernel'))) return modulesDirTree(dir, 'modules-dir', dir);
  }
  return buildTree(dir);
}

function packageTree(dir: string, debugModules: string): KernelTree {
  const releases = fs.readdirSync(debugModules).filter((r) => isDir(path.join(debugModules, r))).sort();
  if (releases.length === 0) {
    throw new KlpError('TREE_NO_VMLINUX', `${debugModules}: no kernel release directory; the debug package has no modules (unpack the whole linux-image-<release>-dbg package)`);
  }
  if (releases.length > 1) {
    throw new KlpError('TREE_MANY_RELEASES', `${dir}: holds the debug files of ${releases.length} kernels (${releases.join(', ')}); pick one: --objtree ${path.join(debugModules, releases[0]!)}`);
  }
  return modulesDirTree(path.join(debugModules, releases[0]!), 'debug-package', dir);
}

/**
 * A lib/modules/<release> directory: vmlinux in it (Debian 7.2: a file; 6.12: a link to
 * ../../../boot/vmlinux-<release>), else in usr/lib/debug/boot/ or usr/lib/debug/ next to it.
 */
function modulesDirTree(modDir: string, kind: KernelTreeKind, given: string): KernelTree {
  const abs = path.resolve(modDir);
  // a release only when the layout names one: .../lib/modules/<release>
  const release = path.basename(path.dirname(abs)) === 'modules' ? path.basename(abs) : undefined;
  const debugTop = path.join(modDir, '../../..'); // usr/lib/debug for usr/lib/debug/lib/modules/<release>
  const candidates = [path.join(modDir, 'vmlinux')];
  if (release !== undefined) candidates.push(path.join(debugTop, 'boot', `vmlinux-${release}`), path.join(debugTop, `vmlinux-${release}`));
  const vmlinux = candidates.find(isFile);
  if (vmlinux === undefined) {
    throw new KlpError('TREE_NO_VMLINUX',
      `${modDir}: has modules but no vmlinux (looked for ${candidates.map((c) => path.relative(modDir, c) || c).join(', ')}); ` +
      `the map needs the unstripped vmlinux of the distribution's debug package (Debian: linux-image-${release ?? '<release>'}-dbg), ` +
      `pass its usr/lib/debug/lib/modules/${release ?? '<release>'} directory`);
  }
  const order = path.join(modDir, 'modules.order');
  return { kind, dir: given, root: modDir, vmlinux, ...(release !== undefined ? { release } : {}), ...(isFile(order) ? { modulesOrder: order } : {}) };
}

function readRelease(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, 'include/config/kernel.release'), 'latin1').trim() || undefined;
  } catch {
    return undefined;
  }
}

function buildTree(dir: string): KernelTree {
  const vmlinux = path.join(dir, 'vmlinux');
  if (!isFile(vmlinux)) {
    throw new KlpError('TREE_NO_VMLINUX', `${vmlinux}: no such file; run the map step in a kernel build tree after vmlinux is linked, or pass a distribution debug package (the directory holding usr/lib/debug, or its usr/lib/debug/lib/modules/<release>) with --objtree`);
  }
  const order = path.join(dir, 'modules.order');
  const release = readRelease(dir);
  // a missing modules.order is reported by moduleEntries: planTree first checks that vmlinux has
  // symbols at all (a headers tree's BTF-only vmlinux is the more basic mistake)
  return { kind: 'build-tree', dir, root: dir, vmlinux, ...(isFile(order) ? { modulesOrder: order } : {}), ...(release !== undefined ? { release } : {}) };
}

/**
 * The fix for a build-tree-looking directory without modules.order. A distribution's headers
 * tree (/lib/modules/<release>/build, e.g. Debian's linux-headers-<release>) has vmlinux (BTF
 * only, no symbol table worth mapping), Module.symvers and .config but never modules, System.map
 * or vmlinux.o; a real build tree that has vmlinux but no modules.order has not built its modules.
 */
function noModulesOrder(dir: string, order: string, release: string | undefined): string {
  const rel = release ?? '<release>';
  const headersOnly = isFile(path.join(dir, 'Module.symvers')) && !isFile(path.join(dir, 'System.map')) && !isFile(path.join(dir, 'vmlinux.o'));
  if (headersOnly) {
    return `${order}: no such file: ${dir} is a kernel headers tree (it has Module.symvers but no modules and no full vmlinux); ` +
      `the map needs the distribution's debug package: install or unpack it (Debian: linux-image-${rel}-dbg) and pass ` +
      `--objtree /usr/lib/debug/lib/modules/${rel} (or the directory it was unpacked into)`;
  }
  return `${order}: no such file; modules.order is written by the modules build: run 'make modules' in ${dir} ` +
    `(for an external module, --objtree is the kernel's tree, not M=), or pass a distribution debug package ` +
    `(its usr/lib/debug/lib/modules/${rel} directory) instead`;
}

/**
 * moduleEntries lists the tree's modules as modules.order lines, in byte order without
 * duplicates (make's `$(sort)`, which the 2022 recipe applies): the lines of modules.order, or,
 * without one, `kernel/<path>.ko` for every module file found under `<root>/kernel/` (a
 * compressed `.ko.xz` is listed as its `.ko`; directory links are not followed). A build tree
 * without modules.order throws TREE_NO_MODULES_ORDER, with the fix for the case at hand
 * (a headers tree: the debug package; a build tree: make modules).
 */
export function moduleEntries(tree: KernelTree): string[] {
  if (tree.kind === 'build-tree' && tree.modulesOrder === undefined) {
    throw new KlpError('TREE_NO_MODULES_ORDER', noModulesOrder(tree.dir, path.join(tree.dir, 'modules.order'), tree.release));
  }
  const lines = tree.modulesOrder !== undefined
    ? readInputText(tree.modulesOrder).split('\n').filter((l) => l.length > 0)
    : scanModules(tree.root);
  const s = [...new Set(lines)];
  s.sort(); // latin1 strings: byte order
  return s;
}

function scanModules(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel + '/' + e.name;
      if (e.isDirectory()) walk(r);
      else if ((e.isFile() || e.isSymbolicLink()) && MODULE_FILE.test(e.name)) out.push(r.replace(MODULE_FILE, '.ko'));
    }
  };
  if (isDir(path.join(root, 'kernel'))) walk('kernel');
  return out;
}

/** describeKernelTree is a one-line account of what was found, for `symbols -v`. */
export function describeKernelTree(t: KernelTree): string {
  const what = t.kind === 'build-tree' ? 'kernel build tree' : t.kind === 'debug-package' ? 'debug package' : 'modules directory';
  const order = t.modulesOrder !== undefined ? 'modules.order' : 'no modules.order: modules found under kernel/, in path order';
  return `${t.dir}: ${what}${t.release !== undefined ? ` ${t.release}` : ''}; vmlinux ${t.vmlinux}; ${order}`;
}
