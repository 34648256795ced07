// check --target on gcc-built livepatch modules against the fixture world (test/fixtures, x86_64):
// the target as an extended map, as a build tree, and as a /proc/kallsyms made from `nm -n`
// (an independent oracle for the kallsyms order). The livepatches are compiled here with the
// host gcc, with struct klp_patch/klp_object/klp_func laid out as include/linux/livepatch.h
// (6.12) has them, the kobject replaced by padding of a plausible size; the verdicts and the
// kernel messages they quote follow kernel/livepatch/core.c (docs/check.md). The real kernel's
// own verdicts are compared in test/kernel/agree.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ElfEditor, ElfFile } from '../../src/elf/index.js';
import { cli, fixture, fixtureTree, makeExtMap, tmp } from '../helpers/klp-world.js';

const gcc = spawnSync('gcc', ['-dumpmachine'], { encoding: 'utf8' });
const haveGcc = gcc.status === 0 && gcc.stdout.startsWith('x86_64');
const haveNm = spawnSync('nm', ['--version']).status === 0;
const skip = !haveGcc ? 'needs an x86_64 gcc (apt-get install gcc)' : !haveNm ? 'needs nm (apt-get install binutils)' : false;

const HEADER = `
struct kobject_pad { char pad[64]; };
struct list_head { void *next, *prev; };
struct klp_func {
  const char *old_name; void *new_func; unsigned long old_sympos; void *old_func;
  struct kobject_pad kobj; struct list_head node, stack_node; unsigned long old_size, new_size;
  _Bool nop, patched, transition;
};
struct klp_callbacks { void *pre_patch, *post_patch, *pre_unpatch, *post_unpatch; _Bool post_unpatch_enabled; };
struct klp_object {
  const char *name; struct klp_func *funcs; struct klp_callbacks callbacks;
  struct kobject_pad kobj; struct list_head func_list, node; void *mod; _Bool dynamic, patched;
};
struct module;
extern struct module __this_module;
struct klp_patch { struct module *mod; struct klp_object *objs; void *states; _Bool replace; struct list_head list; struct kobject_pad kobj; };
__attribute__((section(".modinfo"), used)) static const char lp_tag[] = "livepatch=Y";
`;

/** buildLivepatch compiles `body` into a module named NAME.ko (ld -r with a __this_module) and converts it without a map. */
function buildLivepatch(dir: string, name: string, body: string): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, `${HEADER}\n__attribute__((section(".modinfo"), used)) static const char lp_name[] = "name=${name}";\n${body}\n`);
  writeFileSync(join(dir, 'this_module.c'), '__attribute__((section(".gnu.linkonce.this_module"))) char __this_module[64];\n');
  for (const [c, o] of [[src, `${name}.o`], [join(dir, 'this_module.c'), 'this_module.o']] as const) {
    const r = spawnSync('gcc', ['-c', '-O2', '-fno-pic', '-mcmodel=kernel', '-ffreestanding', '-fno-common', '-o', join(dir, o), c], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  const raw = join(dir, `${name}.tmp.ko`);
  const l = spawnSync('ld', ['-r', '-o', raw, join(dir, `${name}.o`), join(dir, 'this_module.o')], { encoding: 'utf8' });
  assert.equal(l.status, 0, l.stderr);
  const out = join(dir, `${name}.ko`);
  const c = cli(['convert', raw, '-o', out]);
  assert.equal(c.status, 0, c.stderr);
  return out;
}

/** a 64-bit position: the converter refuses to write one (a JS number would round it), so edit a converted name */
function hugePosition(d: string): string {
  assert.throws(() => buildLivepatch(d, 'lp_huge', lpSource({ mod: M('target_mod', 'mod_homonym', '18446744073709551615'), modObj: 'target_mod' })), /POSITION_OUT_OF_RANGE|too large to be written exactly/);
  const good = buildLivepatch(d, 'lp_huge2', lpSource({ mod: M('target_mod', 'mod_homonym', '2'), modObj: 'target_mod' }));
  const ed = new ElfEditor(ElfFile.parse(readFileSync(good), good));
  ed.renameSymbol(ed.symbols.findIndex((s) => s.name === '.klp.sym.target_mod.mod_homonym,2'), '.klp.sym.target_mod.mod_homonym,18446744073709551615');
  const out = join(d, 'lp_huge.ko');
  writeFileSync(out, ed.write());
  return out;
}

const M = (obj: string, sym: string, pos: string): string => `\\".klp.sym.rela.${obj}.${obj}.${sym},${pos}\\"`;

/** a livepatch reading a vmlinux and a target_mod symbol, patching target_func (and a vmlinux function) */
function lpSource(o: { vm?: string; mod?: string; modObj?: string; modFunc?: string; modFuncPos?: number; vmFunc?: string }): string {
  const lines: string[] = [];
  if (o.vm) lines.push(`extern char vm_sym[] __asm__("${o.vm}");`);
  if (o.mod) lines.push(`extern char mod_sym[] __asm__("${o.mod}");`);
  lines.push(`void *use(int i) { return i ? ${o.vm ? 'vm_sym' : '0'} : ${o.mod ? 'mod_sym' : '0'}; }`);
  lines.push('static void new_func(void) {}');
  lines.push(`static struct klp_func vm_funcs[] = { ${o.vmFunc ? `{ .old_name = "${o.vmFunc}", .new_func = new_func },` : ''} {} };`);
  if (o.modObj) lines.push(`static struct klp_func mod_funcs[] = { { .old_name = "${o.modFunc ?? 'target_func'}", .new_func = new_func, .old_sympos = ${o.modFuncPos ?? 0} }, {} };`);
  lines.push(`static struct klp_object objs[] = { { .name = 0, .funcs = vm_funcs }, ${o.modObj ? `{ .name = "${o.modObj}", .funcs = mod_funcs },` : ''} {} };`);
  lines.push('struct klp_patch patch = { .mod = &__this_module, .objs = objs };');
  return lines.join('\n');
}


/** a /proc/kallsyms of the fixture world with target_mod loaded, from nm (address order for vmlinux, .symtab order for the module) */
function fixtureKallsyms(dir: string, zeroed = false): string {
  const out: string[] = [];
  const vm = spawnSync('nm', ['-n', fixture('x86_64', 'vmlinux')], { encoding: 'utf8' });
  for (const l of vm.stdout.split('\n')) {
    const m = /^([0-9a-f]+) ([A-Za-z]) (\S+)$/.exec(l);
    if (m && !/[aAUwN]/.test(m[2]!)) out.push(`${zeroed ? '0'.repeat(16) : m[1]} ${m[2]} ${m[3]}`);
  }
  const mod = spawnSync('nm', ['-p', fixture('x86_64', 'target_mod.ko')], { encoding: 'utf8' }); // -p: symbol-table order
  for (const l of mod.stdout.split('\n')) {
    const m = /^([0-9a-f]+) ([A-Za-z]) (\S+)$/.exec(l);
    if (m && !/[aAUw]/.test(m[2]!)) out.push(`${'0'.repeat(16)} ${m[2]} ${m[3]}\t[target_mod]`);
  }
  const d = join(dir, zeroed ? 'kallsyms0' : 'kallsyms');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'kallsyms'), out.join('\n') + '\n');
  writeFileSync(join(d, 'modules'), 'target_mod 16384 0 - Live 0x0000000000000000\n');
  return d;
}

interface Json { module: string; objects: { name: string; funcs: { old_name: string; old_sympos: string }[] }[]; findings: { code: string }[]; targets: { target: string; kind: string; ok: boolean; patchLoad: { loads: boolean; kernel?: string }; patchFirst?: { loads: boolean; kernel?: string }; lateLoads: { module: string; loads: boolean; kernel?: string }[]; findings: { code: string; severity: string; kernel?: string; candidates?: { object: string; pos: number; file?: string }[] }[] }[] }

function checkJson(targets: string[], modules: string[]): { status: number; json: Json[]; stderr: string } {
  const r = cli(['check', ...targets.flatMap((t) => ['--target', t]), '--json', ...modules]);
  return { status: r.status, json: JSON.parse(r.stdout) as Json[], stderr: r.stderr };
}

/**
 * sameAsFullParse checks `modules` against a copy of the ext map `map` without its last newline,
 * which the scanned load leaves to the full parser (symbol-map.ts), and expects what the scanned
 * load of `map` gave: same status, same JSON, the path aside.
 */
function sameAsFullParse(dir: string, map: string, modules: string[], scanned: { status: number; json: Json[] }): void {
  const d = join(dir, 'full-parse');
  mkdirSync(d, { recursive: true });
  const whole = join(d, basename(map));
  const bytes = readFileSync(map);
  assert.equal(bytes[bytes.length - 1], 10);
  writeFileSync(whole, bytes.subarray(0, bytes.length - 1));
  const f = checkJson([whole], modules);
  assert.equal(f.status, scanned.status, f.stderr);
  assert.equal(JSON.stringify(f.json).replaceAll(whole, map), JSON.stringify(scanned.json));
}

test('check --target: a good livepatch loads and binds on an ext map, a build tree and a kallsyms capture', { skip }, () => {
  const d = tmp('klpt-target-');
  const lp = buildLivepatch(d, 'lp_good', lpSource({ vm: M('vmlinux', 'saved_command_line', '0'), mod: M('target_mod', 'mod_homonym', '2'), modObj: 'target_mod' }));
  const targets = [makeExtMap('x86_64'), fixtureTree(d), fixtureKallsyms(d), fixtureKallsyms(d, true)];
  const r = checkJson(targets, [lp]);
  assert.equal(r.status, 0, JSON.stringify(r.json, null, 2));
  const m = r.json[0]!;
  assert.deepEqual(m.objects, [{ name: 'vmlinux', funcs: [] }, { name: 'target_mod', funcs: [{ old_name: 'target_func', old_sympos: '0' }] }]);
  assert.deepEqual(m.targets.map((t) => t.kind), ['ext-map', 'tree', 'kallsyms', 'kallsyms']);
  for (const t of m.targets) {
    assert.equal(t.ok, true, `${t.target}: ${JSON.stringify(t.findings)}`);
    assert.equal(t.patchLoad.loads, true);
  }
  // a map or a tree cannot know the load order: both are decided
  assert.equal(m.targets[0]!.patchFirst?.loads, true);
  assert.deepEqual(m.targets[0]!.lateLoads.map((l) => [l.module, l.loads]), [['target_mod', true]]);
  // which homonym position 2 binds, with its object
  const binds = m.targets[0]!.findings.find((f) => f.code === 'KLP_SYM_BINDS');
  assert.ok(binds, 'the binding of a homonym is reported');
  // the matrix: one row, four ✓
  const txt = cli(['check', ...targets.flatMap((t) => ['--target', t]), lp]);
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout.split('\n')[1]!, /lp_good\.ko\s+✓\s+✓\s+✓\s+✓/);
  sameAsFullParse(d, targets[0]!, [lp], { status: r.status, json: r.json.map((j) => ({ ...j, targets: [j.targets[0]!] })) });
});

test('check --target: wrong positions, ambiguity, missing symbols and functions, with the kernel\'s words', { skip }, () => {
  const d = tmp('klpt-target-');
  const ext = makeExtMap('x86_64');
  const cases: [string, Parameters<typeof lpSource>[0], (j: Json['targets'][number]) => void][] = [
    ['lp_pos3', { mod: M('target_mod', 'mod_homonym', '3'), modObj: 'target_mod' }, (t) => {
      assert.equal(t.patchLoad.loads, false);
      assert.equal(t.patchLoad.kernel, "livepatch: symbol position 3 for symbol 'mod_homonym' in object 'target_mod' not found");
      assert.equal(t.patchFirst?.loads, true, 'loaded first, the patch loads: the module section waits for the module');
      assert.equal(t.lateLoads[0]!.loads, false);
      const f = t.findings.find((x) => x.code === 'KLP_SYM_POSITION' && x.candidates);
      assert.deepEqual(f?.candidates?.filter((c) => c.object === 'target_mod').map((c) => c.pos), [1, 2]);
    }],
    ['lp_vm0', { vm: M('vmlinux', 'get_homonym', '0') }, (t) => {
      assert.equal(t.patchLoad.kernel, "livepatch: unresolvable ambiguity for symbol 'get_homonym' in object '(null)'");
      const f = t.findings.find((x) => x.code === 'KLP_SYM_AMBIGUOUS');
      assert.equal(f?.candidates?.length, 3);
      assert.deepEqual(f?.candidates?.map((c) => c.file).sort(), ['kmod_vmlinux_a.c', 'kmod_vmlinux_b.c', 'kmod_vmlinux_c.c']);
      assert.deepEqual(f?.candidates?.map((c) => c.pos), [1, 2, 3]);
    }],
    ['lp_huge', { mod: M('target_mod', 'mod_homonym', '18446744073709551615'), modObj: 'target_mod' }, () => undefined],
    ['lp_nosym', { vm: M('vmlinux', 'klpt_nowhere', '0') }, (t) => {
      assert.equal(t.patchLoad.kernel, "livepatch: symbol 'klpt_nowhere' not found in symbol table");
    }],
    ['lp_nofunc', { vmFunc: 'klpt_no_function' }, (t) => {
      assert.equal(t.patchLoad.kernel, "livepatch: symbol 'klpt_no_function' not found in symbol table");
      assert.ok(t.findings.some((x) => x.code === 'FUNC_NOT_FOUND'));
    }],
    // target_mod has two 'setup', one in .init.text: a live module counts only the other, a
    // loading one (late patching) counts both
    ['lp_funcpos', { modObj: 'target_mod', modFunc: 'setup', modFuncPos: 0 }, (t) => {
      assert.equal(t.patchLoad.loads, true, 'target_mod live: its init symbols are gone, setup is unique');
      assert.equal(t.lateLoads[0]!.loads, false);
      assert.equal(t.lateLoads[0]!.kernel, "livepatch: unresolvable ambiguity for symbol 'setup' in object 'target_mod'");
    }],
    ['lp_noobj', { modObj: 'no_such_mod' }, (t) => {
      assert.equal(t.patchLoad.loads, true, 'an object the kernel does not have: the patch loads');
      assert.equal(t.ok, false, 'but never binds');
      assert.ok(t.findings.some((x) => x.code === 'OBJECT_NOT_IN_TARGET'));
    }],
  ];
  const files = cases.map(([n, o]) => (n === 'lp_huge' ? hugePosition(d) : buildLivepatch(d, n, lpSource(o))));
  const r = checkJson([ext], files);
  assert.equal(r.status, 1);
  cases.forEach(([n, , expect], i) => {
    const t = r.json[i]!.targets[0]!;
    assert.equal(t.ok, false, `${n} must not pass`);
    expect(t);
  });
  // the full 64-bit position in the kernel's message
  assert.equal(r.json[2]!.targets[0]!.patchLoad.kernel, "livepatch: symbol position 18446744073709551615 for symbol 'mod_homonym' in object 'target_mod' not found");
  // the map target is loaded by a scan for the wanted names: the findings are the full parse's
  sameAsFullParse(d, ext, files, r);
});

test('check: a klp section for an object the patch does not declare is an error, with or without a target', { skip }, () => {
  const d = tmp('klpt-target-');
  // the converter refuses to write one: its own output fails the checker
  const src = join(d, 'lp_undecl.c');
  writeFileSync(src, `${HEADER}\n${lpSource({ mod: M('target_mod', 'mod_homonym', '1') })}\n`);
  assert.throws(() => buildLivepatch(d, 'lp_undecl', lpSource({ mod: M('target_mod', 'mod_homonym', '1') })), /is for object 'target_mod', which is not one of the patch's klp_objects \(vmlinux\): the kernel never applies it/);
  // so make one by hand: a declared object's section renamed for another module
  const good = buildLivepatch(d, 'lp_decl', lpSource({ mod: M('target_mod', 'mod_homonym', '1'), modObj: 'target_mod' }));
  const ed = new ElfEditor(ElfFile.parse(readFileSync(good), good));
  ed.renameSection(ed.sections.findIndex((s) => s.name === '.klp.rela.target_mod.text'), '.klp.rela.keys_mod.text');
  const lp = join(d, 'lp_undecl.ko');
  writeFileSync(lp, ed.write());
  const plain = cli(['check', lp]);
  assert.equal(plain.status, 1);
  assert.match(plain.stderr, /section '\.klp\.rela\.keys_mod\.text' is for object 'keys_mod', which is not one of the patch's klp_objects \(vmlinux, target_mod\): the kernel never applies it/);
  const r = checkJson([makeExtMap('x86_64')], [lp]);
  assert.equal(r.status, 1);
  assert.ok(r.json[0]!.findings.some((f) => f.code === 'KLP_SECTION_UNDECLARED_OBJECT'));
  assert.equal(r.json[0]!.targets[0]!.patchLoad.loads, true, 'the kernel loads it: nothing tells it about the section');
});

test('check --target: bad targets are refused with what to give instead', { skip }, () => {
  const d = tmp('klpt-target-');
  const lp = buildLivepatch(d, 'lp_t', lpSource({ vm: M('vmlinux', 'saved_command_line', '0') }));
  const missing = cli(['check', '--target', join(d, 'nowhere'), lp]);
  assert.equal(missing.status, 66);
  assert.match(missing.stderr, /no such file or directory \(--target wants/);
  writeFileSync(join(d, 'junk'), 'hello\n');
  const junk = cli(['check', '--target', join(d, 'junk'), lp]);
  assert.equal(junk.status, 65);
  assert.match(junk.stderr, /neither an extended symbol map .* nor a \/proc\/kallsyms capture/);
  const old = cli(['check', '--target', fixture('x86_64', 'symbols.klp'), lp]);
  assert.match(old.stderr, /a 0\.1 symbol map has no positions/);
  const both = cli(['check', '--target', makeExtMap('x86_64'), '--symbols', makeExtMap('x86_64'), lp]);
  assert.equal(both.status, 64);
});

test('check --target: a debug-symbol package, with and without modules.order, at its root or its version directory', { skip }, () => {
  const d = tmp('klpt-target-');
  const lp = buildLivepatch(d, 'lp_pkg', lpSource({ mod: M('target_mod', 'mod_homonym', '3'), modObj: 'target_mod' }));
  const roots: string[] = [];
  for (const withOrder of [true, false]) {
    const root = join(d, withOrder ? 'pkg612' : 'pkg72');
    const ver = join(root, 'usr/lib/debug/lib/modules', withOrder ? '6.12.0-test' : '7.2.0-test');
    mkdirSync(join(ver, 'kernel/drivers'), { recursive: true });
    copyFileSync(fixture('x86_64', 'vmlinux'), join(ver, 'vmlinux'));
    for (const f of ['target_mod.ko', 'keys-mod.ko']) copyFileSync(fixture('x86_64', f), join(ver, 'kernel/drivers', f));
    if (withOrder) writeFileSync(join(ver, 'modules.order'), 'kernel/drivers/target_mod.ko\nkernel/drivers/keys-mod.ko\n');
    roots.push(root, ver);
  }
  const r = checkJson(roots, [lp]);
  assert.equal(r.status, 1);
  const t = r.json[0]!.targets;
  assert.deepEqual(t.map((x) => [x.kind, x.target]), [['debug-dir', '6.12.0-test#1'], ['debug-dir', '6.12.0-test#2'], ['debug-dir', '7.2.0-test#3'], ['debug-dir', '7.2.0-test#4']]);
  for (const x of t) assert.equal(x.patchLoad.kernel, "livepatch: symbol position 3 for symbol 'mod_homonym' in object 'target_mod' not found");
});

test('check --target: the same position binding symbols of different files on two kernels is reported', { skip }, () => {
  const d = tmp('klpt-target-');
  const lp = buildLivepatch(d, 'lp_two', lpSource({ mod: M('target_mod', 'mod_homonym', '1'), modObj: 'target_mod' }));
  // two builds of target_mod whose homonyms come in the other order (extended maps, docs/symbols-format.md)
  const map = (first: string, second: string): string => {
    const p = join(d, `${first}.klpx`);
    writeFileSync(p, ['klp-convert-symbol-data-ext.1', '*vmlinux vmlinux', 'saved_command_line go', '*target_mod target_mod.ko',
      `@0 ${first}`, `@1 ${second}`, 'mod_homonym lo 0', 'mod_homonym lo 1', 'target_func gf', ''].join('\n'));
    return p;
  };
  const r = checkJson([map('a.c', 'b.c'), map('b.c', 'a.c')], [lp]);
  assert.equal(r.status, 0, 'both load and bind');
  const w = r.json[0]!.findings.find((f) => f.code === 'KLP_SYM_BINDS_DIFFERENTLY') as { message?: string } | undefined;
  assert.ok(w, JSON.stringify(r.json[0]!.findings));
  assert.match(w.message!, /'\.klp\.sym\.target_mod\.mod_homonym,1' binds a symbol of a\.c on a\.c\.klpx, b\.c on b\.c\.klpx/);
});

test('check --target: klp-build\'s .init.klp_objects/.init.klp_funcs tables are read', { skip }, () => {
  const d = tmp('klpt-target-');
  // struct klp_func_ext / klp_object_ext as include/linux/livepatch_external.h of 7.2 has them
  const body = `
struct klp_func_ext { const char *old_name; void *new_func; unsigned long sympos; };
struct klp_object_ext { const char *name; struct klp_func_ext *funcs; struct klp_callbacks callbacks; unsigned int nr_funcs; };
extern char vm_sym[] __asm__("${M('vmlinux', 'saved_command_line', '0')}");
void *use(void) { return vm_sym; }
static void new_func(void) {}
static struct klp_func_ext vm_f[] __attribute__((section(".init.klp_funcs"), used)) = { { "vmlinux_unique_func", new_func, 0 } };
static struct klp_func_ext mod_f[] __attribute__((section(".init.klp_funcs"), used)) = { { "target_func", new_func, 0 }, { "setup", new_func, 2 } };
static struct klp_object_ext objs[] __attribute__((section(".init.klp_objects"), used)) = {
  { 0, vm_f, { 0 }, 1 }, { "target_mod", mod_f, { 0 }, 2 },
};`;
  const lp = buildLivepatch(d, 'lp_kbuild', body);
  const r = checkJson([makeExtMap('x86_64')], [lp]);
  const m = r.json[0]!;
  assert.deepEqual(m.objects, [
    { name: 'vmlinux', funcs: [{ old_name: 'vmlinux_unique_func', old_sympos: '0' }] },
    { name: 'target_mod', funcs: [{ old_name: 'target_func', old_sympos: '0' }, { old_name: 'setup', old_sympos: '2' }] },
  ]);
  // target_mod live: one 'setup' besides the .init.text one, so position 2 does not exist;
  // loading: both count, position 2 is the core one
  const t = m.targets[0]!;
  assert.equal(t.patchLoad.kernel, "livepatch: symbol position 2 for symbol 'setup' in object 'target_mod' not found");
  assert.equal(t.lateLoads[0]!.loads, true);
  assert.equal(r.status, 1);
});

/** variants of a good livepatch the kernel refuses whatever the target, with the rule that says so */
function refusedEverywhere(d: string, good: string): [string, string][] {
  const bytes = readFileSync(good);
  const write = (name: string, b: Uint8Array): string => (writeFileSync(join(d, name), b), join(d, name));
  const untagged = Buffer.from(bytes);
  const tag = untagged.indexOf('livepatch=Y');
  assert.ok(tag > 0, 'the fixture livepatch has its modinfo tag');
  untagged.write('xivepatch=Y', tag, 'latin1');
  const c32 = Buffer.from(bytes);
  c32[4] = 1;
  const headerOnly = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(headerOnly);
  return [
    [write('lp_untagged.ko', untagged), 'NOT_LIVEPATCH'],
    [write('lp_c32.ko', c32), 'NO_SYMTAB'], // read as ELF32, the 64-bit section table holds no symbol table
    [write('lp_header.ko', headerOnly), 'NOT_RELOCATABLE'],
    [fixture('x86_64', 'vmlinux'), 'NOT_RELOCATABLE'],
    [fixture('x86_64', 'target_mod.ko'), 'NOT_LIVEPATCH'],
  ];
}

test('check --target: what plain check refuses on any kernel (no livepatch key, not ET_REL, no symtab) fails the verdict too', { skip }, () => {
  const d = tmp('klpt-target-');
  const good = buildLivepatch(d, 'lp_rules', lpSource({ vm: M('vmlinux', 'saved_command_line', '0'), mod: M('target_mod', 'mod_homonym', '2'), modObj: 'target_mod' }));
  const tree = fixtureTree(d);
  const ok = cli(['check', '--target', tree, good]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.doesNotMatch(ok.stderr, /not checked|EXPORTS_UNKNOWN/, 'the target knows the exports: no warning meant for the check without one');
  for (const [file, code] of refusedEverywhere(d, good)) {
    const plain = cli(['check', file]);
    assert.equal(plain.status, 1, `${file}: plain check: ${plain.stderr}`);
    const r = cli(['check', '--target', tree, file]);
    assert.equal(r.status, 1, `${file}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${file.replace(/[.]/g, '\\.')} on \\S+: refused on any kernel: ${code}`), r.stdout);
    assert.match(r.stderr, new RegExp(`error: ${file.replace(/[.]/g, '\\.')}: `));
    const j = checkJson([tree], [file]);
    assert.equal(j.status, 1);
    const t = j.json[0]!.targets[0]!;
    assert.equal(t.ok, false);
    assert.ok(t.findings.some((f) => f.code === code && f.severity === 'error'), `${file}: ${JSON.stringify(t.findings)}`);
  }
  // .symtab made SHT_NOBITS: its relocation sections then link no symbol table, a malformed file (exit 65) either way
  const nobits = Buffer.from(readFileSync(good));
  const elf = ElfFile.parse(nobits, good);
  nobits.writeUInt32LE(8, elf.header.e_shoff + 64 * elf.symtabIndex()! + 4);
  writeFileSync(join(d, 'lp_nobits.ko'), nobits);
  for (const args of [['check', join(d, 'lp_nobits.ko')], ['check', '--target', tree, join(d, 'lp_nobits.ko')]]) {
    const r = cli(args);
    assert.equal(r.status, 65, r.stderr);
    assert.match(r.stderr, /sh_link \d+ names section \d+ '\.symtab', not the symbol table; the file has no symbol table \(SHT_SYMTAB\)/);
  }
  // the untagged patch: the kernel's own line from klp_enable_patch()
  const u = cli(['check', '--target', tree, join(d, 'lp_untagged.ko')]);
  assert.match(u.stderr, /the kernel says: livepatch: module lp_rules is not marked as a livepatch module/);
  // the matrix cell says why
  const mx = cli(['check', '--target', tree, '--target', makeExtMap('x86_64'), good, join(d, 'lp_c32.ko')]);
  assert.equal(mx.status, 1);
  assert.match(mx.stdout, /lp_rules\.ko\s+✓\s+✓/);
  assert.match(mx.stdout, /lp_c32\.ko\s+✗ refused on any kernel: NO_SYMTAB\s+✗ refused on any kernel: NO_SYMTAB/);
});
