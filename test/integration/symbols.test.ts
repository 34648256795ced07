// symbols.klp from a fake gcc-built kernel tree: format 0.1 byte for byte against the 2022 recipe
// run with the real nm, the extended format's positions against an independent computation from
// `nm -n` / `readelf -sW`, the loaders, and the CLI's behaviour on errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync, truncateSync, statSync, renameSync, mkdtempSync, cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildSymbolsTree, dropBlocks, missingTools, nmNames, run, type SymbolsTree } from '../helpers/symbols-tree.js';
import { repoRoot } from '../helpers/elf-fixtures.js';
import { loadSymbolMap, type SymbolCandidate } from '../../src/klp/symbol-map.js';
import { ElfFile } from '../../src/elf/index.js';

const CLI = join(repoRoot, 'dist/src/cli/main.js');
const RECIPE = join(repoRoot, 'test/helpers/symbols-klp-recipe.sh');
const missing = missingTools();
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : false;

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

let T: SymbolsTree;
let ours01: string;
let oursExt: string;
before(() => {
  if (skip) return;
  T = buildSymbolsTree();
  ours01 = join(T.root, 'ours.klp');
  oursExt = join(T.root, 'ours.klpx');
  const a = cli(['symbols', '--objtree', T.tree, '-o', ours01]);
  assert.equal(a.status, 0, a.stderr);
  const b = cli(['symbols', '--objtree', T.tree, '--format', 'ext', '-o', oursExt]);
  assert.equal(b.status, 0, b.stderr);
});
after(() => T?.cleanup());

test('symbols 0.1 equals the 2022 recipe run with the real nm, byte for byte', { skip }, () => {
  const base = join(T.root, 'recipe.klp');
  run('bash', [RECIPE, T.tree, base], { env: { ...process.env, LC_ALL: '' } });
  const want = readFileSync(base, 'latin1');
  const have = readFileSync(ours01, 'latin1');
  // the recipe cannot read compressed modules, and knows only two of the three livepatch markers
  const drop = new Set([...T.compressed.map((c) => c.base), T.modinfoLivepatch]);
  assert.equal(dropBlocks(have, drop), dropBlocks(want, drop));
  assert.ok(want.includes(`*${T.modinfoLivepatch}\n`), 'the recipe keeps the modinfo-only livepatch module');
  assert.ok(!have.includes(`*${T.modinfoLivepatch}\n`), 'we leave it out');
  for (const lp of ['lp_listed', 'lp_marker']) assert.ok(!have.includes(`*${lp}\n`) && !want.includes(`*${lp}\n`));
  // module names keep their dashes in 0.1 (byte identity with the recipe)
  assert.ok(have.includes('*mod-dash\n'));
  assert.equal(have.split('\n').filter((l) => l === '*mod_a').length, 1, 'a duplicate modules.order line gives one block');
});

test('symbols 0.1 reads compressed modules (.ko.gz/.ko.xz/.ko.zst) like nm reads the decompressed file', { skip }, () => {
  const have = readFileSync(ours01, 'latin1');
  for (const c of T.compressed) {
    const start = have.indexOf(`*${c.base}\n`);
    assert.ok(start >= 0, c.base);
    const body = have.slice(start + c.base.length + 2);
    const next = body.indexOf('\n*');
    assert.equal(next < 0 ? body : body.slice(0, next + 1), nmNames(c.plain), c.file);
  }
});

test('symbols 0.1 block of vmlinux equals nm, including undefined and weak names', { skip }, () => {
  const have = readFileSync(ours01, 'latin1');
  const body = have.slice(have.indexOf('*vmlinux\n') + 9);
  assert.equal(body.slice(0, body.indexOf('\n*') + 1), nmNames(join(T.tree, 'vmlinux')));
});

interface RelfSym { num: number; value: bigint; type: string; bind: string; ndx: string; name: string }
function readelfSyms(file: string): RelfSym[] {
  const out: RelfSym[] = [];
  let inSymtab = false;
  for (const l of run('readelf', ['-sW', file]).split('\n')) {
    if (l.startsWith('Symbol table')) inSymtab = l.includes("'.symtab'");
    const m = /^\s*(\d+):\s+([0-9a-f]+)\s+\d+\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s?(.*)$/.exec(l);
    if (inSymtab && m) out.push({ num: Number(m[1]), value: BigInt('0x' + m[2]), type: m[3]!, bind: m[4]!, ndx: m[5]!, name: m[6]! });
  }
  return out;
}

/** positions groups names in the given order: name -> list of 1-based positions' payloads */
function byName<T>(items: { name: string; v: T }[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const l = m.get(it.name);
    if (l) l.push(it.v);
    else m.set(it.name, [it.v]);
  }
  return m;
}

test('symbols ext: vmlinux positions follow `nm -n` filtered like mksysmap + kallsyms.c', { skip }, () => {
  const vml = join(T.tree, 'vmlinux');
  // independent: nm -n order, drop the types and prefixes the kernel drops
  const lines = run('nm', ['-n', vml], { env: { ...process.env, LC_ALL: 'C' } }).split('\n').filter(Boolean);
  const kept: { name: string; v: bigint }[] = [];
  for (const l of lines) {
    const m = /^([0-9a-f]*)\s+(\S)\s+(.*)$/.exec(l);
    if (!m) continue;
    const [, addr, type, name] = m as unknown as [string, string, string, string];
    if ('aNUwunA'.includes(type)) continue;
    if (/^(\$|\.L|__crc_|__kstrtab_|__kstrtabns_|__kcfi_typeid_)/.test(name)) continue;
    kept.push({ name, v: BigInt('0x' + addr) });
  }
  // STT_FILE owner of each local, from readelf's table order
  const owner = new Map<string, string>();
  let file: string | undefined;
  for (const s of readelfSyms(vml)) {
    if (s.type === 'FILE') file = s.name;
    else if (s.bind === 'LOCAL' && file !== undefined) owner.set(`${s.name}@${s.value}`, file);
  }
  const want = byName(kept);
  const map = loadSymbolMap(oursExt);
  const have = new Map<string, SymbolCandidate[]>();
  for (const name of want.keys()) have.set(name, map.lookup(name).filter((c) => c.object === 'vmlinux'));
  for (const [name, addrs] of want) {
    const c = have.get(name)!;
    assert.equal(c.length, addrs.length, `count of ${name}`);
    c.forEach((x, i) => {
      assert.equal(x.pos, i + 1, `${name} pos`);
      assert.equal(x.count, addrs.length, `${name} count`);
      const f = owner.get(`${name}@${addrs[i]}`);
      if (x.bind === 0) assert.equal(x.file, f, `${name}#${i + 1} file`);
    });
  }
  // and nothing else is listed for vmlinux
  const listed = readFileSync(oursExt, 'latin1').split('\n*')[1]!.split('\n').slice(1).filter((l) => l && !l.startsWith('@'));
  assert.equal(listed.length, kept.length);
  const dup = map.lookup('dup_fn').filter((c) => c.object === 'vmlinux');
  assert.deepEqual(dup.map((c) => [c.pos, c.count, c.file]), [[1, 2, 'vm_a.c'], [2, 2, 'vm_b.c']]);
  assert.equal(map.lookup('early_setup')[0]?.init, true);
  assert.equal(map.lookup('a_entry')[0]?.init, false);
  assert.ok(map.isExported('shared_counter'));
  assert.ok(!map.isExported('a_entry'));
});

test('symbols ext: module positions follow .symtab order over defined symbols (readelf -sW)', { skip }, () => {
  const map = loadSymbolMap(oursExt);
  for (const [obj, file] of [['mod_a', 'drivers/a/mod_a.o'], ['mod_dash', 'fs/nls/mod-dash.o'], ['ko_only', 'misc/ko_only.ko'], ['comp_xz', '../src/comp_xz.ko']] as const) {
    const syms = readelfSyms(join(T.tree, file)).filter((s) => s.num > 0 && s.ndx !== 'UND' && s.type !== 'SECTION' && s.type !== 'FILE' && s.name !== '');
    const want = byName(syms.map((s) => ({ name: s.name, v: s })));
    for (const [name, list] of want) {
      const c = map.lookup(name).filter((x) => x.object === obj);
      assert.deepEqual(c.map((x) => [x.pos, x.count]), list.map((_, i) => [i + 1, list.length]), `${obj}: ${name}`);
    }
  }
  const helper = map.lookup('helper').filter((c) => c.object === 'mod_a');
  assert.deepEqual(helper.map((c) => [c.pos, c.count, c.file]), [[1, 2, 'mod_a1.c'], [2, 2, 'mod_a2.c']]);
  assert.equal(map.lookup('init_module').find((c) => c.object === 'mod_a')?.init, true);
  assert.ok(map.isExported('mod_a_api'), '__export_symbol_ in a module .o marks an export');
  assert.deepEqual(map.referencedBy('mod_a_api'), ['mod_dash']);
  assert.deepEqual(map.objects(), ['vmlinux', 'comp_gz', 'comp_xz', 'comp_zst', 'mod_a', 'mod_dash', 'ko_only']);
});

test('loadSymbolMap 0.1: counts per block, kernel-form objects, exports, and the wanted fast path', { skip }, () => {
  const full = loadSymbolMap(ours01);
  assert.equal(full.format, '0.1');
  assert.deepEqual(full.objects(), ['vmlinux', 'comp_gz', 'comp_xz', 'comp_zst', 'mod_a', 'mod_dash', 'ko_only']);
  const dup = full.lookup('dup_fn');
  assert.deepEqual(dup.map((c) => [c.object, c.pos, c.count]), [['vmlinux', 0, 2], ['vmlinux', 0, 2]]);
  assert.ok(full.isExported('shared_counter'));
  assert.ok(full.isExported('mod_a_api'));
  const few = loadSymbolMap(ours01, new Set(['dup_fn', 'helper', 'nope']));
  assert.deepEqual(few.lookup('dup_fn'), dup);
  assert.deepEqual(few.lookup('helper'), full.lookup('helper'));
  assert.deepEqual(few.lookup('a_entry'), []);
  assert.ok(few.isExported('shared_counter'), 'exports are kept whatever is wanted');
  const ext = loadSymbolMap(oursExt, new Set(['helper']));
  assert.deepEqual(ext.lookup('helper'), loadSymbolMap(oursExt).lookup('helper'));
});

test('symbols: output does not depend on -j; quiet line on stdout when not a terminal', { skip }, () => {
  const a = join(T.root, 'j1.klp'), b = join(T.root, 'j4.klp');
  const r1 = cli(['symbols', '--objtree', T.tree, '-o', a, '-j', '1']);
  const r4 = cli(['symbols', '--objtree', T.tree, '-o', b, '-j4']);
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(r4.status, 0, r4.stderr);
  assert.deepEqual(readFileSync(a), readFileSync(b));
  assert.equal(r1.stdout, '  KLP     j1.klp\n');
  assert.equal(r1.stderr, '');
  const d = cli(['symbols', '--objtree', T.tree]);
  assert.equal(d.status, 0, d.stderr);
  assert.ok(existsSync(join(T.tree, 'symbols.klp')), 'default output is <objtree>/symbols.klp');
  rmSync(join(T.tree, 'symbols.klp'));
});

test('symbols -o /dev/stdout writes the map to standard output, nothing else, and leaves /dev untouched (both formats)', { skip }, () => {
  const before = readdirSync('/dev').filter((f) => f.endsWith('.tmp'));
  for (const [args, file] of [[[], ours01], [['--format', 'ext'], oursExt]] as const) {
    for (const j of ['1', '2']) {
      const r = spawnSync(process.execPath, [CLI, 'symbols', '--objtree', T.tree, ...args, '-j', j, '-o', '/dev/stdout'], { maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.deepEqual(r.stdout, readFileSync(file), `${args.join(' ')} -j ${j}: the map alone, no KLP line`);
      assert.equal(r.stderr.toString(), '');
    }
  }
  assert.ok(lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still the link it was');
  assert.deepEqual(readdirSync('/dev').filter((f) => f.endsWith('.tmp')), before, 'no temporary file in /dev');
  const n = cli(['symbols', '--objtree', T.tree, '-o', '/dev/null']);
  assert.equal(n.status, 0, n.stderr);
  assert.equal(n.stdout, '');
  assert.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');
});

test('symbols: -j 1 and -j 2 give the same bytes (both formats) and the same error', { skip }, () => {
  for (const format of ['0.1', 'ext']) {
    const a = join(T.root, `j1.${format}`), b = join(T.root, `j2.${format}`);
    const r1 = cli(['symbols', '--objtree', T.tree, '--format', format, '-o', a, '-j', '1']);
    const r2 = cli(['symbols', '--objtree', T.tree, '--format', format, '-o', b, '-j', '2']);
    assert.equal(r1.status, 0, r1.stderr);
    assert.equal(r2.status, 0, r2.stderr);
    assert.deepEqual(readFileSync(a), readFileSync(b), format);
  }
  // vmlinux is read by the worker with -j 2: its error is the one a single thread reports
  const t = scratchTree();
  try {
    // more modules than one chunk (8): chunks taken by different threads join in order
    const order = readFileSync(join(t, 'modules.order'), 'latin1');
    let extra = '';
    for (let i = 0; i < 30; i++) {
      cpSync(join(t, i % 2 ? 'fs/nls/mod-dash.o' : 'comp/comp_xz.ko.xz'), join(t, i % 2 ? `many/m${i}.o` : `many/m${i}.ko.xz`));
      extra += `many/m${i}.o\n`;
    }
    writeFileSync(join(t, 'modules.order'), order + extra);
    const outs = ['1', '2', '4'].map((j) => {
      const o = join(t, `many.${j}.klp`);
      const r = cli(['symbols', '--objtree', t, '-o', o, '-j', j]);
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(o);
    });
    assert.deepEqual(outs[1], outs[0]);
    assert.deepEqual(outs[2], outs[0]);
    assert.match(outs[0]!.toString('latin1'), /\*m29\n/);
    writeFileSync(join(t, 'modules.order'), order);
    const victim = join(t, 'vmlinux');
    truncateSync(victim, Math.floor(statSync(victim).size / 3));
    const r1 = cli(['symbols', '--objtree', t, '-o', join(t, 'a.klp'), '-j', '1']);
    const r2 = cli(['symbols', '--objtree', t, '-o', join(t, 'b.klp'), '-j', '2']);
    assert.equal(r1.status, 65, r1.stderr);
    assert.equal(r2.status, r1.status);
    assert.equal(r2.stderr, r1.stderr);
    assert.match(r2.stderr, /vmlinux/);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

function scratchTree(): string {
  const d = mkdtempSync(join(tmpdir(), 'klp-symerr-'));
  cpSync(T.tree, join(d, 't'), { recursive: true });
  return join(d, 't');
}

function expectFailure(tree: string, want: RegExp, status: number | undefined): void {
  const out = join(tree, 'out.klp');
  const r = cli(['symbols', '--objtree', tree, '-o', out]);
  assert.notEqual(r.status, 0);
  if (status !== undefined) assert.equal(r.status, status, r.stderr);
  assert.match(r.stderr, want);
  assert.ok(!existsSync(out), 'no partial output');
  assert.deepEqual(readdirSync(tree).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
}

test('symbols: errors name the file, exit non-zero, leave no output', { skip }, () => {
  const t = scratchTree();
  try {
    renameSync(join(t, 'vmlinux'), join(t, 'vmlinux.x'));
    expectFailure(t, /vmlinux: no such file/, 66);
    renameSync(join(t, 'vmlinux.x'), join(t, 'vmlinux'));
    renameSync(join(t, 'modules.order'), join(t, 'modules.order.x'));
    expectFailure(t, /modules\.order: no such file/, 66);
    writeFileSync(join(t, 'modules.order'), readFileSync(join(t, 'modules.order.x'), 'latin1') + 'drivers/gone/gone.o\n');
    expectFailure(t, /drivers\/gone\/gone\.o: listed in modules\.order but/, 66);
    writeFileSync(join(t, 'modules.order'), readFileSync(join(t, 'modules.order.x')));
    const victim = join(t, 'fs/nls/mod-dash.o');
    truncateSync(victim, Math.floor(statSync(victim).size / 3));
    expectFailure(t, /mod-dash\.o/, 65);
    writeFileSync(victim, 'not an ELF file at all, just text');
    expectFailure(t, /mod-dash\.o.*not an ELF file/, 65);
    writeFileSync(join(t, 'comp/comp_xz.ko.xz'), 'garbage');
    rmSync(victim);
    cpSync(join(T.tree, 'fs/nls/mod-dash.o'), victim);
    expectFailure(t, /comp_xz\.ko\.xz: 'xz' failed/, 1);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('symbols: usage errors exit 64', { skip }, () => {
  assert.equal(cli(['symbols', '--format', '0.2']).status, 64);
  assert.equal(cli(['symbols', '-j', 'x']).status, 64);
  assert.equal(cli(['symbols', 'stray']).status, 64);
});

test('symbols 0.1: symlinked modules are read as the recipe reads them (a dangling <name>.o link falls back to <name>.ko)', { skip }, () => {
  // planTree takes a symlink from readdir without following it; opening follows it, and a link
  // that leads nowhere falls back to the next file as the recipe's `[ -e <name>.o ]` does
  const t = scratchTree();
  try {
    mkdirSync(join(t, 'links'));
    symlinkSync(join(t, 'drivers/a/mod_a.o'), join(t, 'links/l_good.o'));
    symlinkSync(join(t, 'links/nowhere.o'), join(t, 'links/l_dangling.o'));
    symlinkSync(join(t, 'misc/ko_only.ko'), join(t, 'links/l_dangling.ko'));
    const order = readFileSync(join(t, 'modules.order'), 'latin1');
    writeFileSync(join(t, 'modules.order'), order + 'links/l_good.o\nlinks/l_dangling.o\n');
    const base = join(t, '..', 'recipe.klp');
    run('bash', [RECIPE, t, base], { env: { ...process.env, LC_ALL: '' } });
    const drop = new Set([...T.compressed.map((c) => c.base), T.modinfoLivepatch]);
    for (const j of ['1', '2']) {
      const o = join(t, '..', `links.${j}.klp`);
      const r = cli(['symbols', '--objtree', t, '-o', o, '-j', j]);
      assert.equal(r.status, 0, r.stderr);
      const have = readFileSync(o, 'latin1');
      assert.equal(dropBlocks(have, drop), dropBlocks(readFileSync(base, 'latin1'), drop), `-j ${j}`);
      assert.ok(have.includes('*l_good\n') && have.includes('*l_dangling\nko_only_fn\n'), `-j ${j}`);
    }
    // a module whose only file is a dangling link is missing, as without links
    symlinkSync(join(t, 'links/nowhere.o'), join(t, 'links/l_none.o'));
    writeFileSync(join(t, 'modules.order'), order + 'links/l_none.o\n');
    expectFailure(t, /links\/l_none\.o: listed in modules\.order but neither links\/l_none\.o nor links\/l_none\.ko/, 66);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('symbols 0.1: a module symbol whose name lies outside .strtab, or runs past its end, is a format error naming the symbol (-j 1 and -j 2 alike)', { skip }, () => {
  const t = scratchTree();
  try {
    const victim = join(t, 'fs/nls/mod-dash.o');
    const good = readFileSync(victim);
    const elf = ElfFile.parse(new Uint8Array(good), victim);
    const symtab = elf.section(elf.symtabIndex()!);
    const strtab = elf.section(symtab.sh_link);
    const last = symtab.sh_size / 24 - 1;
    const bad = Buffer.from(good);
    bad.writeUInt32LE(strtab.sh_size + 5, symtab.sh_offset + last * 24); // st_name past the table
    writeFileSync(victim, bad);
    const want = new RegExp(`mod-dash\\.o: at byte 0x${(symtab.sh_offset + last * 24).toString(16)}.*symbol ${last}: st_name ${strtab.sh_size + 5} is past the end of the string table`);
    const r1 = cli(['symbols', '--objtree', t, '-o', join(t, 'a.klp'), '-j', '1']);
    const r2 = cli(['symbols', '--objtree', t, '-o', join(t, 'b.klp'), '-j', '2']);
    assert.equal(r1.status, 65, r1.stderr);
    assert.match(r1.stderr, want);
    assert.equal(r2.status, 65);
    assert.equal(r2.stderr, r1.stderr);
    // the table's last byte not a NUL: the name that runs into it is named
    const open = Buffer.from(good);
    open[strtab.sh_offset + strtab.sh_size - 1] = 0x41;
    writeFileSync(victim, open);
    expectFailure(t, /mod-dash\.o.*symbol \d+: name at st_name \d+ is not NUL-terminated/, 65);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('symbols: with many chunks, the first failing module in map order is the error whatever -j (and no output or temporary file is left)', { skip }, () => {
  const t = scratchTree();
  try {
    const order = readFileSync(join(t, 'modules.order'), 'latin1');
    let extra = '';
    for (let i = 0; i < 40; i++) {
      cpSync(join(t, 'fs/nls/mod-dash.o'), join(t, `many/m${String(i).padStart(2, '0')}.o`));
      extra += `many/m${String(i).padStart(2, '0')}.o\n`;
    }
    writeFileSync(join(t, 'modules.order'), order + extra);
    // two broken modules in different chunks of 8: the earlier one in map order is reported
    for (const i of ['17', '33']) writeFileSync(join(t, `many/m${i}.o`), `not an ELF file (${i})`);
    const runs = ['1', '2', '4'].map((j) => {
      const o = join(t, `bad.${j}.klp`);
      const r = cli(['symbols', '--objtree', t, '-o', o, '-j', j]);
      assert.ok(!existsSync(o), `-j ${j}: no output`);
      return r;
    });
    for (const r of runs) {
      assert.equal(r.status, 65, r.stderr);
      assert.equal(r.stderr, runs[0]!.stderr);
    }
    assert.match(runs[0]!.stderr, /many\/m17\.o: .*not an ELF file/);
    assert.deepEqual(readdirSync(t).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});
