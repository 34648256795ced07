// `symbols --objtree` on distribution debug packages as they ship: a temporary directory laid out
// like Debian's linux-image-<release>-dbg (6.12: usr/lib/debug/boot/vmlinux-<release> with a
// vmlinux link and modules.order in lib/modules/<release>; 7.2: vmlinux in lib/modules/<release>,
// no modules.order), filled with the committed gcc-built fixtures of test/fixtures/bin/x86_64.
// Oracles: the same files as a kbuild tree with a modules.order (the path the nm and recipe tests
// prove), and the 2022 recipe run with the real nm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/elf-fixtures.js';
import { haveTool, run } from '../helpers/symbols-tree.js';
import { FIX, MODULES, ORDER, REL, layout612, layout72, layoutBuildTree, put } from '../helpers/debug-package.js';
import { findKernelTree, moduleEntries } from '../../src/klp/kernel-tree.js';
import { KlpError } from '../../src/klp/errors.js';

const CLI = join(repoRoot, 'dist/src/cli/main.js');
const RECIPE = join(repoRoot, 'test/helpers/symbols-klp-recipe.sh');

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
let pkg612: string, mod612: string, pkg72: string, mod72: string, build: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'klp-kernel-tree-'));
  pkg612 = join(tmp, 'pkg612');
  pkg72 = join(tmp, 'pkg72');
  build = join(tmp, 'build');
  mkdirSync(build);
  mod612 = layout612(pkg612);
  mod72 = layout72(pkg72);
  layoutBuildTree(build);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function map(dir: string, format: '0.1' | 'ext', name: string): string {
  const out = join(tmp, name);
  const r = cli(['symbols', '--objtree', dir, '--format', format, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(out, 'latin1');
}

test('findKernelTree: a package root, its lib/modules/<release> directory and a build tree', () => {
  const root612 = findKernelTree(pkg612);
  assert.equal(root612.kind, 'debug-package');
  assert.equal(root612.root, mod612);
  assert.equal(root612.release, REL);
  assert.equal(root612.vmlinux, join(mod612, 'vmlinux'));
  assert.equal(root612.modulesOrder, join(mod612, 'modules.order'));
  const debugDir = findKernelTree(join(pkg72, 'usr/lib/debug'));
  assert.equal(debugDir.kind, 'debug-package', 'usr/lib/debug itself');
  assert.equal(debugDir.root, mod72);
  const dir72 = findKernelTree(mod72);
  assert.equal(dir72.kind, 'modules-dir');
  assert.equal(dir72.modulesOrder, undefined, '7.2 has no modules.order');
  assert.equal(dir72.vmlinux, join(mod72, 'vmlinux'));
  const b = findKernelTree(build);
  assert.equal(b.kind, 'modules-dir', 'no Makefile: the fixture tree reads like a lib/modules directory');
  writeFileSync(join(build, 'Makefile'), 'all:\n');
  try {
    assert.equal(findKernelTree(build).kind, 'build-tree');
  } finally {
    rmSync(join(build, 'Makefile'));
  }
});

test('moduleEntries: without modules.order, kernel/**.ko in byte order, compressed ones as .ko, vdso ignored', () => {
  const want = [...ORDER].sort();
  assert.deepEqual(moduleEntries(findKernelTree(mod72)), want);
  assert.deepEqual(moduleEntries(findKernelTree(mod612)), want, 'modules.order lines, sorted like make $(sort)');
});

test('symbols: a package root, its modules directory and a build tree of the same files give the same bytes (0.1 and ext)', () => {
  for (const format of ['0.1', 'ext'] as const) {
    const want = map(build, format, `build.${format}`);
    assert.equal(map(pkg612, format, `pkg612.${format}`), want, `6.12 root, ${format}`);
    assert.equal(map(mod612, format, `mod612.${format}`), want, `6.12 modules dir, ${format}`);
    assert.equal(map(pkg72, format, `pkg72.${format}`), want, `7.2 root (no modules.order), ${format}`);
    assert.equal(map(mod72, format, `mod72.${format}`), want, `7.2 modules dir, ${format}`);
  }
  const ext = readFileSync(join(tmp, 'pkg72.ext'), 'latin1');
  assert.ok(ext.includes('\n*target_mod kernel/drivers/misc/target_mod.ko\n'), 'ext object paths are relative to lib/modules/<release>');
  assert.ok(ext.includes('\n*keys_mod kernel/fs/keys/keys-mod.ko.gz\n'));
  assert.ok(!ext.includes('*lp_main'), 'the livepatch module is left out');
});

test('symbols 0.1 of a package without modules.order equals the 2022 recipe with the real nm', { skip: haveTool('nm') ? false : 'needs nm (binutils)' }, () => {
  // the recipe needs a modules.order and cannot read .ko.gz: give it the plain tree with the list
  const recipeTree = join(tmp, 'recipe-tree');
  mkdirSync(recipeTree);
  copyFileSync(join(FIX, 'vmlinux'), join(recipeTree, 'vmlinux'));
  for (const [rel, fix] of MODULES) put(join(recipeTree, 'kernel', rel.replace(/\.gz$/, '')), readFileSync(join(FIX, fix)));
  writeFileSync(join(recipeTree, 'modules.order'), ORDER.join('\n') + '\n');
  writeFileSync(join(recipeTree, 'modules.livepatch'), 'kernel/samples/livepatch/lp_main.ko\n'); // v7's list
  const base = join(tmp, 'recipe.klp');
  run('bash', [RECIPE, recipeTree, base], { env: { ...process.env, LC_ALL: '' } });
  const want = readFileSync(base, 'latin1');
  assert.ok(want.includes('*keys-mod\n') && want.includes('*target_mod\n'));
  assert.equal(map(mod72, '0.1', 'mod72-recipe.klp'), want);
  assert.equal(map(pkg612, '0.1', 'pkg612-recipe.klp'), want);
});

test('symbols: errors on distribution layouts name the debug package and exit 66', () => {
  // a headers tree (/lib/modules/<release>/build): BTF-only vmlinux, Module.symvers, no modules
  const headers = join(tmp, 'headers');
  mkdirSync(join(headers, 'include/config'), { recursive: true });
  copyFileSync(join(FIX, 'vmlinux'), join(headers, 'vmlinux'));
  writeFileSync(join(headers, 'Makefile'), 'include /usr/src/linux-headers-common/Makefile\n');
  writeFileSync(join(headers, 'Module.symvers'), '0x0\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n');
  writeFileSync(join(headers, 'include/config/kernel.release'), REL + '\n');
  let r = cli(['symbols', '--objtree', headers, '-o', join(tmp, 'h.klp')]);
  assert.equal(r.status, 66, r.stderr);
  assert.match(r.stderr, /modules\.order: no such file: .* is a kernel headers tree/);
  assert.match(r.stderr, new RegExp(`linux-image-${REL.replace(/[+.]/g, '\\$&')}-dbg`));
  assert.match(r.stderr, new RegExp(`--objtree /usr/lib/debug/lib/modules/${REL.replace(/[+.]/g, '\\$&')}`));
  assert.doesNotMatch(r.stderr, /build the modules first/);
  assert.ok(!existsSync(join(tmp, 'h.klp')));
  // a kbuild tree that has not built its modules: the fix is make modules
  writeFileSync(join(headers, 'System.map'), '');
  r = cli(['symbols', '--objtree', headers, '-o', join(tmp, 'h.klp')]);
  assert.equal(r.status, 66);
  assert.match(r.stderr, /modules\.order is written by the modules build: run 'make modules'/);
  // the installed modules directory (stripped vmlinuz only): no vmlinux
  const installed = join(tmp, 'installed/lib/modules', REL);
  mkdirSync(join(installed, 'kernel'), { recursive: true });
  r = cli(['symbols', '--objtree', installed, '-o', join(tmp, 'i.klp')]);
  assert.equal(r.status, 66);
  assert.match(r.stderr, /has modules but no vmlinux .*debug package \(Debian: linux-image-.*-dbg\)/);
  // not a directory
  r = cli(['symbols', '--objtree', join(tmp, 'nowhere'), '-o', join(tmp, 'n.klp')]);
  assert.equal(r.status, 66);
  assert.match(r.stderr, /nowhere: no such directory; pass a kernel build tree, a debug package root/);
});

test('symbols: a package root with two kernels asks for one (exit 1, both listed)', () => {
  const two = join(tmp, 'two');
  layout72(two);
  mkdirSync(join(two, 'usr/lib/debug/lib/modules/7.2.13+deb14-cloud-amd64'));
  const r = cli(['symbols', '--objtree', two, '-o', join(tmp, 't.klp')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /holds the debug files of 2 kernels \(6\.12\.99\+deb12-cloud-amd64, 7\.2\.13\+deb14-cloud-amd64\); pick one: --objtree /);
  assert.throws(() => findKernelTree(two), (e: unknown) => e instanceof KlpError && e.code === 'TREE_MANY_RELEASES');
});

test('symbols: without -o the map of a package goes to the current directory, a tree keeps its own', () => {
  const cwd = join(tmp, 'cwd');
  mkdirSync(cwd);
  const r = spawnSync(process.execPath, [CLI, 'symbols', '--objtree', pkg72], { cwd, encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(cwd, 'symbols.klp'), 'latin1'), map(pkg72, '0.1', 'pkg72-o.klp'));
  assert.ok(!existsSync(join(mod72, 'symbols.klp')) && !existsSync(join(pkg72, 'symbols.klp')), 'nothing written into the package');
  const t = spawnSync(process.execPath, [CLI, 'symbols', '--objtree', build], { cwd, encoding: 'latin1' });
  assert.equal(t.status, 0, t.stderr);
  assert.ok(existsSync(join(build, 'symbols.klp')), 'a tree without a release keeps <objtree>/symbols.klp');
  rmSync(join(build, 'symbols.klp'));
});
