// Source paths in the extended map (ext.2) and `file=<path>` rules, on a gcc-built tree whose
// statics repeat in same-named files of different directories (test/helpers/paths-tree.ts):
// c_start/c_state in arch/x86/kernel/cpu/proc.c, crypto/proc.c and fs/proc/consoles.c,
// tbl_val in lib/tbl.c and net/tbl.c (data only), util_get/util_state in drivers/foo/{a,b}/util.c
// of module foo.
//
// Oracles: GNU ld's map file (-Map) says which object each input section came from; objdump -t
// gives each symbol's section and value, so the object of every static is known without our
// reader. For the DWARF builds, `nm -l` (BFD's DWARF reader) must name the same file. The
// kernel's position of a static among its namesakes is its address order in vmlinux
// (kallsyms) and its .symtab order in a module; the converter's position for a file= rule must
// be the position of the oracle's copy.
//
// Builds: DWARF 5 (gcc 12's default), DWARF 4, DWARF 5 compressed by the linker (SHF_COMPRESSED,
// zlib), and no DWARF (paths from the tree's .o files); DWARF 5 and no DWARF also for s390x
// (big-endian) and aarch64 where their cross toolchains are installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPathsTree, mapObjects, objdumpSymbols } from '../helpers/paths-tree.js';
import { haveTool } from '../helpers/symbols-tree.js';
import { cli } from '../helpers/klp-world.js';
import { loadSymbolMap } from '../../src/klp/symbol-map.js';

const tools = ['gcc', 'ld', 'objdump', 'nm', 'readelf'].filter((t) => !haveTool(t));
const skipAll = tools.length > 0 ? `needs ${tools.join(', ')} (apt-get install gcc binutils)` : false;

function ldCompresses(): boolean {
  const r = spawnSync('ld', ['--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--compress-debug-sections');
}

const trees = new Map<string, string>();
function tree(debug: string, prefix = ''): string {
  let t = trees.get(prefix + debug);
  if (t === undefined) trees.set(prefix + debug, (t = buildPathsTree(debug, prefix)));
  return t;
}
after(() => {
  for (const t of trees.values()) rmSync(t, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * oracle lists, for each copy of `name` in `file` in the kernel's counting order, the source
 * file the linker map says it came from.
 */
function oracle(root: string, file: string, mapFile: string, name: string, order: 'address' | 'symtab', prefix = ''): string[] {
  const pieces = mapObjects(readFileSync(join(root, mapFile), 'latin1'));
  let syms = objdumpSymbols(run(`${prefix}objdump`, ['-t', join(root, file)])).filter((s) => s.local && s.name === name);
  if (order === 'address') syms = [...syms].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return syms.map((s) => {
    const p = pieces.find((m) => m.section === s.section && m.start <= s.value && s.value < m.start + m.size);
    assert.ok(p, `${file}: no input section of the link map holds ${name} (${s.section}+0x${s.value.toString(16)})`);
    return p.object.replace(/\.o$/, '.c');
  });
}

/** nmFiles lists `nm -l`'s source file for each copy of `name`, in address order, tree-relative. */
function nmFiles(root: string, file: string, name: string, prefix = ''): string[] {
  return run(`${prefix}nm`, ['-n', '-l', join(root, file)]).split('\n')
    .map((l) => l.split(/\s+/))
    .filter((f) => f[2] === name && f[3] !== undefined)
    .map((f) => f[3]!.replace(/:\d+$/, '').replace(root + '/', ''));
}

function mapOf(root: string, jobs = '1'): string {
  const out = join(root, `symbols-j${jobs}.klpx`);
  const r = cli(['symbols', '--objtree', root, '--format', 'ext', '-j', jobs, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const VMLINUX_NAMES = ['c_start', 'c_cold', 'c_state', 'tbl_val'];
const MODULE_NAMES = ['util_get', 'util_state'];

const CROSS = [['s390x', 's390x-linux-gnu-'], ['aarch64', 'aarch64-linux-gnu-']] as const;
const builds: [string, string, string][] = [
  ['DWARF 5', '-gdwarf-5', ''], ['DWARF 4', '-gdwarf-4', ''], ['zlib-compressed DWARF 5', 'zlib', ''], ['no DWARF (objects)', '', ''],
  ...CROSS.flatMap(([arch, p]) => [[`${arch} DWARF 5`, '-gdwarf-5', p], [`${arch} no DWARF (objects)`, '', p]] as [string, string, string][]),
];
for (const [label, debug, prefix] of builds) {
  const crossTools = prefix === '' ? [] : ['gcc', 'ld', 'nm', 'objdump'].map((t) => prefix + t).filter((t) => !haveTool(t));
  const skip = skipAll || (debug === 'zlib' && !ldCompresses() ? 'needs an ld with --compress-debug-sections'
    : crossTools.length > 0 ? `needs ${crossTools.join(', ')} (apt-get install gcc-${prefix.slice(0, -1)})` : false);
  test(`symbols --format ext records source paths: ${label}`, { skip }, () => {
    const root = prefix === '' ? tree(debug) : tree(debug, prefix);
    if (debug === 'zlib') assert.match(run('readelf', ['-SW', join(root, 'vmlinux')]), /\.debug_info\s+PROGBITS.*\bC\b/, 'the linked .debug_info is SHF_COMPRESSED');
    const path = mapOf(root);
    assert.match(readFileSync(path, 'latin1'), /^klp-convert-symbol-data-ext\.2\n/);
    const map = loadSymbolMap(path, new Set([...VMLINUX_NAMES, ...MODULE_NAMES]));
    for (const name of VMLINUX_NAMES) {
      const got = map.lookup(name).filter((c) => c.object === 'vmlinux').sort((a, b) => a.pos - b.pos).map((c) => c.file);
      const want = oracle(root, 'vmlinux', 'vmlinux.map', name, 'address', prefix);
      assert.ok(want.length >= 2, `${name}: expected duplicates in vmlinux`);
      assert.deepEqual(got, want, `vmlinux ${name} (position order)`);
      if (debug !== '') assert.deepEqual(got, nmFiles(root, 'vmlinux', name, prefix), `vmlinux ${name}: nm -l`);
    }
    for (const name of MODULE_NAMES) {
      const got = map.lookup(name).filter((c) => c.object === 'foo').sort((a, b) => a.pos - b.pos).map((c) => c.file);
      assert.deepEqual(got, oracle(root, 'drivers/foo/foo.ko', 'drivers/foo/foo.map', name, 'symtab', prefix), `foo ${name} (position order)`);
    }
    if (debug !== '') {
      // every unit DW_AT_name readelf prints is in the map's file tables
      const units = [...run('readelf', ['--debug-dump=info', join(root, 'vmlinux')]).matchAll(/DW_AT_name\s*:.*?([\w/.-]+\.c)\s*$/gm)].map((m) => m[1]!);
      const tables = readFileSync(path, 'latin1').split('\n').filter((l) => l.startsWith('@')).map((l) => l.slice(l.indexOf(' ') + 1));
      for (const u of units.filter((x) => x.includes('/'))) assert.ok(tables.includes(u), `unit ${u} in a file table`);
    }
  });
}

test('the ext.2 map does not depend on -j; -v says how many files got a path', { skip: skipAll }, () => {
  const root = tree('-gdwarf-5');
  assert.ok(readFileSync(mapOf(root, '1')).equals(readFileSync(mapOf(root, '2'))));
  const plain = tree('');
  assert.ok(readFileSync(mapOf(plain, '1')).equals(readFileSync(mapOf(plain, '2'))));
  const v = cli(['symbols', '--objtree', root, '--format', 'ext', '-v', '-o', join(root, 'v.klpx')]);
  assert.equal(v.status, 0, v.stderr);
  // 6 vmlinux files and 3 of foo.ko, every one with a path
  assert.match(v.stderr, /source files: 9 of 9 with a path/);
});

function convert(root: string, map: string, rules: string | undefined): { status: number; stdout: string; stderr: string; out: string } {
  const out = join(root, 'lp/lp.out.ko');
  rmSync(out, { force: true });
  const args = ['convert', '--symbols', map, join(root, 'lp/lp.ko'), '-o', out];
  if (rules !== undefined) {
    writeFileSync(join(root, 'lp.rules'), rules);
    args.splice(3, 0, '--resolve', join(root, 'lp.rules'));
  }
  return { ...cli(args), out };
}

/** klpNames reads the converted symbols' names with readelf. */
function klpNames(file: string): string[] {
  return run('readelf', ['-sW', file]).split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter((n) => n.startsWith('.klp.sym.'));
}

for (const [label, debug] of [['DWARF 5', '-gdwarf-5'], ['no DWARF (objects)', '']] as const) {
  test(`convert: file=<trailing part of a path> picks the kernel's position of that copy (${label})`, { skip: skipAll }, () => {
    const root = tree(debug);
    const map = mapOf(root);
    const r = convert(root, map, [
      'vmlinux c_start file=fs/proc/consoles.c',
      'vmlinux c_state file=crypto/proc.c',
      'vmlinux tbl_val file=./lib/tbl.c',
      'foo util_state file=a/util.c',
      '',
    ].join('\n'));
    assert.equal(r.status, 0, r.stderr);
    const pos = (file: string, mapFile: string, name: string, order: 'address' | 'symtab', src: string): number =>
      oracle(root, file, mapFile, name, order).indexOf(src) + 1;
    const want = [
      `.klp.sym.vmlinux.c_start,${pos('vmlinux', 'vmlinux.map', 'c_start', 'address', 'fs/proc/consoles.c')}`,
      `.klp.sym.vmlinux.c_state,${pos('vmlinux', 'vmlinux.map', 'c_state', 'address', 'crypto/proc.c')}`,
      `.klp.sym.vmlinux.tbl_val,${pos('vmlinux', 'vmlinux.map', 'tbl_val', 'address', 'lib/tbl.c')}`,
      `.klp.sym.foo.util_state,${pos('drivers/foo/foo.ko', 'drivers/foo/foo.map', 'util_state', 'symtab', 'drivers/foo/a/util.c')}`,
    ];
    for (const w of want) assert.ok(!w.endsWith(',0'), `${w}: the oracle found the copy`);
    assert.deepEqual(klpNames(r.out).sort(), want.sort());
  });
}

test('convert: the ambiguity error prints paths and the shortest file= that picks each copy', { skip: skipAll }, () => {
  const root = tree('-gdwarf-5');
  const r = convert(root, mapOf(root), 'vmlinux c_state pos=1\nvmlinux tbl_val pos=1\nfoo util_state pos=1\n');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /symbol 'c_start' is ambiguous: 3 definitions in vmlinux/);
  for (const f of ['arch/x86/kernel/cpu/proc.c', 'crypto/proc.c', 'fs/proc/consoles.c']) assert.match(r.stderr, new RegExp(`vmlinux  pos \\d  \\(file ${f.replace(/\./g, '\\.')}, LOCAL`));
  // proc.c names two copies: cpu/proc.c is the shortest for the first, the whole dir for crypto
  for (const fix of ['vmlinux c_start file=cpu/proc.c', 'vmlinux c_start file=crypto/proc.c', 'vmlinux c_start file=consoles.c']) {
    assert.ok(r.stderr.split('\n').some((l) => l.trim() === fix), `suggestion '${fix}' in:\n${r.stderr}`);
  }
  assert.ok(!r.stderr.includes('file=proc.c'), 'proc.c is ambiguous and never suggested');
});

test('convert: file= that names several copies, or none, is refused with the candidates', { skip: skipAll }, () => {
  const root = tree('-gdwarf-5');
  const map = mapOf(root);
  const amb = convert(root, map, 'vmlinux c_start file=proc.c\n');
  assert.equal(amb.status, 1);
  assert.match(amb.stderr, /rule 'vmlinux c_start file=proc\.c' \(.*lp\.rules:1\) matches 2 symbols/);
  assert.match(amb.stderr, /file=cpu\/proc\.c/);
  const none = convert(root, map, 'vmlinux c_start file=c/proc.c\n');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /matches 0 symbols/, 'c/proc.c is not a trailing part of cpu/proc.c');
  assert.equal(convert(root, map, 'vmlinux c_start file=x86/kernel/cpu/proc.c\nvmlinux c_state pos=1\nvmlinux tbl_val pos=1\nfoo util_state pos=1\n').status, 0);
});

test('convert: an ext.1 map (basenames only) is still read; a path then matches by basename, with a warning', { skip: skipAll }, () => {
  const root = tree('-gdwarf-5');
  // the same map as the ext.1 generator wrote it: old header, STT_FILE basenames in the file tables
  const lines = readFileSync(mapOf(root), 'latin1').split('\n');
  const old: string[] = [];
  let ix = new Map<string, number>(), remap = new Map<number, number>();
  for (const l of lines) {
    if (l.startsWith('klp-convert-symbol-data-ext.2')) old.push('klp-convert-symbol-data-ext.1');
    else if (l.startsWith('*')) {
      ix = new Map();
      remap = new Map();
      old.push(l);
    } else if (l.startsWith('@')) {
      const [at, p] = [Number(l.slice(1, l.indexOf(' '))), l.slice(l.indexOf(' ') + 1)];
      const base = p.slice(p.lastIndexOf('/') + 1);
      if (!ix.has(base)) {
        ix.set(base, ix.size);
        old.push(`@${ix.get(base)} ${base}`);
      }
      remap.set(at, ix.get(base)!);
    } else {
      const m = /^(.* \S+) (\d+)$/.exec(l);
      old.push(m ? `${m[1]} ${remap.get(Number(m[2]))}` : l);
    }
  }
  const oldMap = join(root, 'old.klpx');
  writeFileSync(oldMap, old.join('\n'), 'latin1');
  const ok = convert(root, oldMap, 'vmlinux c_start file=fs/proc/consoles.c\nvmlinux c_state pos=1\nvmlinux tbl_val pos=1\nfoo util_state pos=1\n');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /warning: .*the map records only the file name 'consoles\.c' for this symbol, so its directory was not checked/);
  const pos = oracle(root, 'vmlinux', 'vmlinux.map', 'c_start', 'address').indexOf('fs/proc/consoles.c') + 1;
  assert.ok(klpNames(ok.out).includes(`.klp.sym.vmlinux.c_start,${pos}`));
  // crypto/proc.c: two proc.c copies in the old map, the directory cannot decide
  const amb = convert(root, oldMap, 'vmlinux c_start file=crypto/proc.c\nvmlinux c_state pos=1\nvmlinux tbl_val pos=1\nfoo util_state pos=1\n');
  assert.equal(amb.status, 1);
  assert.match(amb.stderr, /matches 2 symbols/);
});

// Slow tier, when a distribution debug vmlinux is at hand (fetch-distro-kernel.sh cloud, or
// KLP_VMLINUX=<path>): c_start is static in arch/x86/kernel/cpu/proc.c, fs/proc/consoles.c and
// crypto/proc.c of Debian's 6.12 kernels; every copy's path must be the one addr2line gives.
const DISTRO_VMLINUX = process.env['KLP_VMLINUX'] ?? join(homedir(), '.cache/klp-corpus/cloud/tree/vmlinux');
const distroSkip = skipAll || (!existsSync(DISTRO_VMLINUX) ? `no debug vmlinux at ${DISTRO_VMLINUX} (run fetch-distro-kernel.sh cloud, or set KLP_VMLINUX)` : !haveTool('addr2line') ? 'needs addr2line (binutils)' : false);
test('symbols --format ext on a distribution debug vmlinux: paths of duplicated statics equal addr2line', { skip: distroSkip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'klp-distro-paths-'));
  trees.set('distro', root);
  symlinkSync(DISTRO_VMLINUX, join(root, 'vmlinux'));
  writeFileSync(join(root, 'modules.order'), '');
  const map = loadSymbolMap(mapOf(root), new Set(['c_start', 'c_next', 'c_stop']));
  let checked = 0;
  for (const name of ['c_start', 'c_next', 'c_stop']) {
    const got = map.lookup(name).filter((c) => c.object === 'vmlinux').sort((a, b) => a.pos - b.pos);
    const addrs = run('nm', ['-n', DISTRO_VMLINUX]).split('\n').map((l) => l.split(' ')).filter((f) => f[2] === name).map((f) => '0x' + f[0]);
    assert.equal(got.length, addrs.length, `${name}: one map line per nm line`);
    const files = run('addr2line', ['-e', DISTRO_VMLINUX, ...addrs]).trim().split('\n').map((l) => l.replace(/:[\d?]+( \(discriminator \d+\))?$/, ''));
    got.forEach((c, i) => {
      assert.ok(c.file !== undefined && files[i]!.endsWith('/' + c.file), `${name} pos ${c.pos}: map '${c.file}', addr2line '${files[i]}'`);
      checked++;
    });
  }
  assert.ok(checked >= 3, `checked ${checked} copies`);
  // and a livepatch that names one copy by path gets that copy's kernel position
  writeFileSync(join(root, 'lp.c'), 'extern int c_start(void);\nint lp_use(void) { return c_start(); }\n' +
    'static const char i[] __attribute__((section(".modinfo"), used, aligned(1))) = "livepatch=Y";\n');
  run('gcc', ['-O2', '-fno-pic', '-c', join(root, 'lp.c'), '-o', join(root, 'lp.o')]);
  run('ld', ['-r', '-o', join(root, 'lp.ko'), join(root, 'lp.o')]);
  writeFileSync(join(root, 'lp.rules'), 'vmlinux c_start file=fs/proc/consoles.c\n');
  const out = join(root, 'lp.out.ko');
  const r = cli(['convert', '--symbols', join(root, 'symbols-j1.klpx'), '--resolve', join(root, 'lp.rules'), join(root, 'lp.ko'), '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const addrs = run('nm', ['-n', DISTRO_VMLINUX]).split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'c_start').map((f) => '0x' + f[0]);
  const files = run('addr2line', ['-e', DISTRO_VMLINUX, ...addrs]).trim().split('\n');
  const pos = files.findIndex((f) => /\/fs\/proc\/consoles\.c:/.test(f)) + 1;
  assert.ok(pos > 0, 'addr2line finds the fs/proc/consoles.c copy');
  assert.ok(klpNames(out).includes(`.klp.sym.vmlinux.c_start,${pos}`), klpNames(out).join(' '));
});
