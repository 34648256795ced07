// kbuild/klp-convert-extmod.sh, the conversion step of kbuild/klp-convert.mk, run on its own after
// a (here: simulated) `make -C KDIR M=M modules`: M holds modules.order and the committed
// gcc-built livepatch lp_main.ko; KDIR is a distribution headers tree (Module.symvers, no
// vmlinux, no modules.order); the map comes from a fake debug package (KLP_OBJTREE). Oracle: the
// CLI run by hand with the same map and the same Module.symvers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/elf-fixtures.js';
import { haveTool } from '../helpers/symbols-tree.js';
import { FIX, layout72 } from '../helpers/debug-package.js';

const CLI = join(repoRoot, 'dist/src/cli/main.js');
const EXTMOD = join(repoRoot, 'kbuild/klp-convert-extmod.sh');
const skip = haveTool('objcopy') ? false : 'needs objcopy (binutils)';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'latin1', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, out: r.stdout + r.stderr };
}
const klp = (args: string[]): { status: number; out: string } => run(process.execPath, [CLI, ...args]);

let tmp: string, pkg: string, kdir: string, m: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'klp-extmod-'));
  pkg = join(tmp, 'pkg');
  layout72(pkg);
  kdir = join(tmp, 'headers');
  mkdirSync(kdir);
  m = join(tmp, 'm');
  mkdirSync(m);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** fresh M with the unconverted livepatch; KDIR's Module.symvers lists `exports` (vmlinux) */
function prepare(exports: string[]): void {
  rmSync(m, { recursive: true, force: true });
  mkdirSync(m);
  copyFileSync(join(FIX, 'lp_main.ko'), join(m, 'lp_main.ko'));
  writeFileSync(join(m, 'modules.order'), `${m}/lp_main.o\n`); // 6.12 writes M's absolute path
  writeFileSync(join(kdir, 'Module.symvers'), exports.map((e) => `0x00000000\t${e}\tvmlinux\tEXPORT_SYMBOL\t\n`).join(''));
}

function extmod(env: NodeJS.ProcessEnv): { status: number; out: string } {
  return run('sh', [EXTMOD, kdir, m], { KLP_CONVERT: `${process.execPath} ${CLI}`, KBUILD_VERBOSE: '1', ...env });
}

test('klp-convert.mk step: KLP_OBJTREE=<debug package> writes the map from it and converts with KDIR\'s Module.symvers', { skip }, () => {
  prepare(['exported_func', 'exported_var']);
  const r = extmod({ KLP_OBJTREE: pkg });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, / --symvers [^ ]*\/\.klp\/Module\.symvers /);
  const map = join(tmp, 'map.klpx');
  assert.equal(klp(['symbols', '--objtree', pkg, '--format', 'ext', '-o', map]).status, 0);
  assert.deepEqual(readFileSync(join(m, '.klp/symbols.klpx')), readFileSync(map), 'the map of the package');
  const want = join(tmp, 'want.ko');
  const c = klp(['convert', '--symbols', map, '--symvers', join(kdir, 'Module.symvers'), join(FIX, 'lp_main.ko'), '-o', want]);
  assert.equal(c.status, 0, c.out);
  assert.deepEqual(readFileSync(join(m, 'lp_main.ko')), readFileSync(want), 'converted in place as by hand');
});

test('klp-convert.mk step: the Module.symvers it passes decides what is exported', { skip }, () => {
  // without exported_func in Module.symvers, its reference becomes a klp relocation too
  prepare(['exported_var']);
  const r = extmod({ KLP_OBJTREE: pkg });
  assert.equal(r.status, 0, r.out);
  const map = join(m, '.klp/symbols.klpx');
  const chk = klp(['check', '--symbols', map, join(m, 'lp_main.ko')]);
  assert.equal(chk.status, 0, chk.out);
  assert.match(chk.out, /vmlinux:exported_func pos 0/);
  const noSymvers = join(tmp, 'nosymvers.ko');
  assert.equal(klp(['convert', '--symbols', map, join(FIX, 'lp_main.ko'), '-o', noSymvers]).status, 0);
  assert.doesNotMatch(klp(['check', '--symbols', map, noSymvers]).out, /exported_func/, 'the map alone calls it exported');
});

test('klp-convert.mk step: a headers KDIR without KLP_OBJTREE says to set it', { skip }, () => {
  prepare(['exported_func']);
  const r = extmod({});
  assert.equal(r.status, 1);
  assert.match(r.out, /klp-convert\.mk: .*\/vmlinux is missing: the map needs a built kernel tree \(or set KLP_OBJTREE to the kernel's debug package, or KLP_SYMBOLS\)/);
});
