// Unit tests for the symbols.klp pieces that need no toolchain: module names, the kallsyms name
// rules, and the map loaders on hand-written maps (the byte-order sort: namesort.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { kernelModuleName, moduleNameProblem, checkModuleName } from '../../src/klp/modname.js';
import { ignoredByName, kallsymsVisible, mayBeLinkerProvided } from '../../src/klp/extlines.js';
import { loadSymbolMap } from '../../src/klp/symbol-map.js';
import { KlpError, SymbolMapError } from '../../src/klp/errors.js';

test('kernelModuleName strips directory and extension and turns - into _', () => {
  const cases: [string, string][] = [
    ['arch/x86/kvm/kvm-intel.ko', 'kvm_intel'],
    ['fs/nls/nls_iso8859-1.o', 'nls_iso8859_1'],
    ['lib/crc-itu-t.ko.zst', 'crc_itu_t'],
    ['drivers/foo/bar.ko.xz', 'bar'],
    ['snd-hda-intel.ko.gz', 'snd_hda_intel'],
    ['vmlinux', 'vmlinux'],
    ['kvm-intel', 'kvm_intel'],
    ['dir.with.dots/mod.ko', 'mod'],
  ];
  for (const [i, o] of cases) assert.equal(kernelModuleName(i), o, i);
});

test('moduleNameProblem enforces the 55-character limit and the no-dot rule', () => {
  assert.equal(moduleNameProblem('a'.repeat(55)), undefined);
  assert.match(moduleNameProblem('a'.repeat(56))!, /56 characters/);
  assert.match(moduleNameProblem('a.b')!, /dot/);
  assert.match(moduleNameProblem('')!, /empty/);
  assert.throws(() => checkModuleName('x'.repeat(60)), (e: unknown) => e instanceof KlpError && e.code === 'MODULE_NAME_INVALID');
});

test('kallsyms name rules drop what mksysmap and kallsyms.c drop', () => {
  for (const n of ['.LC0', '$x', '__crc_foo', '__kstrtab_foo', '__kstrtabns_foo', '__kcfi_typeid_foo', '__efistub_x', '__AArch64ADRPThunk_x',
    'foo_veneer', 'L0', '_SDA_BASE_', 'x.long_branch.y', '', 'a'.repeat(512)]) {
    assert.ok(ignoredByName(n), n);
  }
  for (const n of ['foo', '__ksymtab_foo', '__pfx_foo', 'foo.constprop.0', '__UNIQUE_ID_x1', 'L1', 'a'.repeat(511)]) assert.ok(!ignoredByName(n), n);
  const alloc = { flags: 2, type: 1 };
  assert.ok(kallsymsVisible('foo', 0x12, 1, alloc));
  assert.ok(!kallsymsVisible('foo', 0x12, 0, undefined), 'undefined');
  assert.ok(!kallsymsVisible('foo', 0x10, 0xfff1, undefined), 'absolute');
  assert.ok(kallsymsVisible('__gp', 0x10, 0xfff1, undefined), 'the absolute symbols kallsyms keeps');
  assert.ok(!kallsymsVisible('foo', 0x02, 1, { flags: 0, type: 1 }), 'non-alloc section (nm N/n)');
  assert.ok(kallsymsVisible('foo', 0x01, 1, { flags: 0, type: 8 }), 'non-alloc NOBITS is b');
  assert.ok(!kallsymsVisible('foo', 0xa1, 1, alloc), 'unique global (u)');
  assert.ok(!kallsymsVisible('x.c', 0x04, 0xfff1, undefined), 'STT_FILE');
  assert.ok(mayBeLinkerProvided('__start_foo') && mayBeLinkerProvided('__bss_end') && !mayBeLinkerProvided('__end') && !mayBeLinkerProvided('foo_start'));
});

test('kallsyms name rules: each kind of rule at its edges (prefix, suffix, exact, infix, thunk, length)', () => {
  for (const n of ['$', '.L', '__pi_$x', '__pi_.Lx', '__kvm_nvhe_$x', '__kvm_nvhe___kcfi_typeid_x', 'x_from_arm', 'x_from_thumb', '_veneer',
    '_SDA2_BASE_', 'a.plt_branch.b', '.long_branch.', '__Thunk_', '__ARMv7ABSLongThunk_x', 'a'.repeat(600)]) {
    assert.ok(ignoredByName(n), n);
  }
  for (const n of ['.', 'L', 'L00', '_SDA_BASE', 'x_veneerx', 'a.plt_branch', '__x_Thunk_', '_Thunk_x', '__Thunk', 'x$', '_', '__', 'x\xe9.y']) {
    assert.ok(!ignoredByName(n), n);
  }
  assert.ok(kallsymsVisible('__kernel_sigtramp', 0x20, 0xfff1, undefined), 'a weak absolute symbol kallsyms keeps');
  assert.ok(!kallsymsVisible('__gp', 0x00, 0xfff1, undefined), 'a local absolute symbol (a)');
  assert.ok(kallsymsVisible('foo', 0x11, 0xfff2, undefined), 'common');
  assert.ok(mayBeLinkerProvided('__start_') && !mayBeLinkerProvided('__stop_') && mayBeLinkerProvided('__stop_xy') && mayBeLinkerProvided('__x_start') && !mayBeLinkerProvided('__xstart'));
});

function withMap(text: string, fn: (p: string) => void): void {
  const d = mkdtempSync(join(tmpdir(), 'klp-map-'));
  try {
    const p = join(d, 'symbols.klp');
    writeFileSync(p, text, 'latin1');
    fn(p);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

test('loadSymbolMap rejects an unknown header and a name before the first object', () => {
  withMap('klp-convert-symbol-data.0.2\n*vmlinux\n', (p) =>
    assert.throws(() => loadSymbolMap(p), (e: unknown) => e instanceof SymbolMapError && e.code === 'MAP_BAD_HEADER' && e.line === 1));
  withMap('klp-convert-symbol-data.0.1\nfoo\n*vmlinux\n', (p) =>
    assert.throws(() => loadSymbolMap(p), (e: unknown) => e instanceof SymbolMapError && e.code === 'MAP_NAME_BEFORE_OBJECT' && e.line === 2));
  withMap('klp-convert-symbol-data-ext.1\nfoo gf\n', (p) =>
    assert.throws(() => loadSymbolMap(p), (e: unknown) => e instanceof SymbolMapError && e.line === 2));
  withMap('klp-convert-symbol-data-ext.1\n*vmlinux vmlinux\nfoo lf 3\n', (p) =>
    assert.throws(() => loadSymbolMap(p), (e: unknown) => e instanceof SymbolMapError && /file index 3/.test(e.message)));
});

test('loadSymbolMap 0.1 counts occurrences per object block and normalises module names', () => {
  withMap('klp-convert-symbol-data.0.1\n*vmlinux\na\nb\nb\n__ksymtab_b\n*snd-hda-intel\nb\n__export_symbol_c\nc\n', (p) => {
    const m = loadSymbolMap(p);
    assert.deepEqual(m.objects(), ['vmlinux', 'snd_hda_intel']);
    assert.deepEqual(m.lookup('b').map((c) => [c.object, c.pos, c.count]), [['vmlinux', 0, 2], ['vmlinux', 0, 2], ['snd_hda_intel', 0, 1]]);
    assert.ok(m.isExported('b') && m.isExported('c') && !m.isExported('a'));
    assert.deepEqual(m.referencedBy('b'), []);
  });
});

test('loadSymbolMap ext computes pos/count in file order and decodes flags and files', () => {
  const text = [
    'klp-convert-symbol-data-ext.1',
    '*vmlinux vmlinux', '@0 a.c', '@1 b.c', 'dup lf 0', 'glob gfx', 'dup lo 1', 'init_fn gfi',
    '*kvm_intel arch/x86/kvm/kvm-intel.o', '@0 vmx.c', 'dup lf 0', 'glob U', 'dup wn',
  ].join('\n') + '\n';
  withMap(text, (p) => {
    const m = loadSymbolMap(p);
    assert.deepEqual(m.objects(), ['vmlinux', 'kvm_intel']);
    assert.deepEqual(m.lookup('dup').map((c) => [c.object, c.pos, c.count, c.bind, c.type, c.file]), [
      ['vmlinux', 1, 2, 0, 2, 'a.c'], ['vmlinux', 2, 2, 0, 1, 'b.c'], ['kvm_intel', 1, 2, 0, 2, 'vmx.c'], ['kvm_intel', 2, 2, 2, 0, undefined],
    ]);
    assert.equal(m.lookup('init_fn')[0]!.init, true);
    assert.ok(m.isExported('glob'));
    assert.deepEqual(m.lookup('glob').map((c) => c.object), ['vmlinux'], 'references are not candidates');
    assert.deepEqual(m.referencedBy('glob'), ['kvm_intel']);
    assert.equal(m.lookup('nothing').length, 0);
  });
});
