// convert on gcc-built fixtures for every architecture (test/fixtures/README.md describes the
// fake kernel world and what each livepatch fixture must turn into). Every output is checked
// three ways: our independent validator (src/klp/validate.ts), GNU readelf (it must parse the
// file without warnings and show each input relocation exactly once: either unchanged in its
// ordinary section or moved into one klp section), and the generic ELF validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ElfEditor, ElfFile, SHN_UNDEF } from '../../src/elf/index.js';
import { convertModule, type ConvertOptions } from '../../src/klp/convert.js';
import { KlpError } from '../../src/klp/errors.js';
import { loadSymbolMap } from '../../src/klp/symbol-map.js';
import { parseRules } from '../../src/klp/rules.js';
import { SymbolMapError } from '../../src/klp/errors.js';
import { validateKlpModule } from '../../src/klp/validate.js';
import { SHN_LIVEPATCH, SHF_RELA_LIVEPATCH } from '../../src/klp/constants.js';
import { haveReadelf, readelf, readelfWarnings } from '../helpers/readelf.js';
import { bfdSkip } from '../helpers/bfd.js';
import { validateElf } from '../helpers/validate-elf.js';
import { cli, fixture, makeExtMap, tmp } from '../helpers/klp-world.js';

const ARCHES = ['x86_64', 'x32', 'aarch64', 's390x', 'ppc64le', 'ppc32'];

function convert(arch: string, name: string, opts: Partial<ConvertOptions> = {}) {
  const file = fixture(arch, name);
  const elf = ElfFile.parse(readFileSync(file), file);
  return convertModule(elf, { file, ...opts });
}

function map01(arch: string) {
  return loadSymbolMap(fixture(arch, 'symbols.klp'));
}

function klpSymbols(bytes: Uint8Array): string[] {
  const elf = ElfFile.parse(bytes);
  const t = elf.symbols();
  const out: string[] = [];
  for (let i = 1; i < t.count; i++) if (t.shndx[i] === SHN_LIVEPATCH) out.push(t.name(i));
  return out.sort();
}

function undefinedNames(bytes: Uint8Array): string[] {
  const t = ElfFile.parse(bytes).symbols();
  const out: string[] = [];
  for (let i = 1; i < t.count; i++) if (t.shndx[i] === SHN_UNDEF && t.name(i) !== '') out.push(t.name(i));
  return out.sort();
}

function expectKlpError(f: () => unknown, code: string): KlpError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof KlpError, `expected KlpError, got ${(e as Error)?.stack}`);
    assert.ok(e.codes.includes(code), `expected code ${code}, got ${e.codes.join(', ')}: ${e.message}\n${e.detail ?? ''}`);
    return e;
  }
  assert.fail(`expected KlpError ${code}, but conversion succeeded`);
}

/**
 * readelfOracle: every relocation of the input appears exactly once in the output, either in an
 * ordinary section with its original symbol or in a klp section against the renamed symbol.
 */
function readelfOracle(inFile: string, outBytes: Uint8Array, renamed: Map<string, string>, dropped: Set<string>): void {
  if (!haveReadelf()) return;
  const d = tmp();
  const outFile = join(d, 'out.ko');
  writeFileSync(outFile, outBytes);
  assert.equal(readelfWarnings(outFile), '', 'readelf warns about the output');
  const a = readelf(inFile);
  const b = readelf(outFile);
  const secByOff = (r: ReturnType<typeof readelf>, off: number) => r.sections.find((s) => s.offset === off);
  const key = (base: string, rel: { offset: bigint; type: string; addend: bigint }, sym: string) => `${base}|${rel.offset}|${rel.type}|${sym}|${rel.addend}`;
  const want = new Map<string, number>();
  for (const rs of a.relocs) {
    const sec = secByOff(a, rs.offset)!;
    const base = a.sections[sec.info]!.name;
    if (dropped.has(rs.name)) continue;
    for (const r of rs.relocs) {
      const sym = renamed.get(r.symName) ?? r.symName;
      const k = key(base, r, sym);
      want.set(k, (want.get(k) ?? 0) + 1);
    }
  }
  const have = new Map<string, number>();
  for (const rs of b.relocs) {
    const sec = secByOff(b, rs.offset)!;
    const base = b.sections[sec.info]!.name;
    if (rs.name.startsWith('.klp.rela.')) assert.match(sec.flags, /A/, `${rs.name} must be SHF_ALLOC`);
    for (const r of rs.relocs) {
      const k = key(base, r, r.symName);
      have.set(k, (have.get(k) ?? 0) + 1);
    }
  }
  assert.deepEqual([...have.entries()].sort(), [...want.entries()].sort(), 'relocations before and after differ');
}

/** objdumpReads asserts that GNU objdump -r (a second, BFD-based reader) parses a converted module and shows its klp relocations. */
function objdumpReads(label: string, outBytes: Uint8Array): void {
  const d = tmp('klp-objdump-');
  const outFile = join(d, 'out.ko');
  writeFileSync(outFile, outBytes);
  const r = spawnSync('objdump', ['-r', outFile], { encoding: 'utf8' });
  assert.equal(r.error, undefined, `objdump: ${r.error?.message}`);
  assert.equal(r.status, 0, `objdump -r ${label} failed: ${r.stderr}`);
  // objdump files each RELA section's entries under the section it applies to (sh_info)
  assert.match(r.stdout, /\s\.klp\.sym\.[^\s]+,\d+/, `objdump -r ${label} shows no relocation against a klp symbol`);
}

function renamedMap(res: ReturnType<typeof convert>): Map<string, string> {
  return new Map(res.converted.map((c) => [c.name, c.klpName]));
}

function checkOutput(arch: string, name: string, res: ReturnType<typeof convert>, map = map01(arch)): void {
  const out = ElfFile.parse(res.bytes, `${arch}/${name} (converted)`);
  const v = validateKlpModule(out, { map });
  assert.deepEqual(v.findings.filter((f) => f.severity === 'error'), [], 'validator findings');
  assert.deepEqual(validateElf(res.bytes), [], 'ELF structure');
}

for (const arch of ARCHES) {
  test(`convert lp_main.ko (${arch}): unique, annotated and exported symbols, annotations removed`, () => {
    const res = convert(arch, 'lp_main.ko', { map: map01(arch) });
    assert.deepEqual(klpSymbols(res.bytes), [
      '.klp.sym.target_mod.driver_name,0', '.klp.sym.target_mod.get_mod_homonym,1', '.klp.sym.target_mod.klp_string.12345,0',
      '.klp.sym.target_mod.mod_homonym,2', '.klp.sym.target_mod.shared_name,2', '.klp.sym.target_mod.target_func,0',
      '.klp.sym.target_mod.target_var,0', '.klp.sym.vmlinux.dup_global_local,1', '.klp.sym.vmlinux.get_homonym,1',
      '.klp.sym.vmlinux.homonym,1', '.klp.sym.vmlinux.saved_command_line,0', '.klp.sym.vmlinux.vmlinux_unique_func,0',
    ]);
    const undef = undefinedNames(res.bytes).filter((n) => n !== '.TOC.');
    assert.deepEqual(undef, ['exported_func', 'exported_var']);
    const out = ElfFile.parse(res.bytes);
    assert.ok(!out.sections.some((s) => s.name.includes('klp.module_relocs')), 'annotation sections must be gone');
    const t = out.symbols();
    for (let i = 1; i < t.count; i++) assert.ok(!/^lp_(vmlinux|target_mod)_relocs$/.test(t.name(i)), `annotation array symbol ${t.name(i)} must be gone`);
    for (const s of out.sections.filter((x) => x.name.startsWith('.klp.rela.'))) {
      assert.equal(Number(s.sh_flags), 0x00100042, `${s.name} flags`);
      assert.ok(!s.name.includes('..') || s.name.includes('.data..'), `${s.name}: no double dot after the object`);
    }
    checkOutput(arch, 'lp_main.ko', res);
    readelfOracle(fixture(arch, 'lp_main.ko'), res.bytes, renamedMap(res), new Set(['.rela.klp.module_relocs.vmlinux', '.rela.klp.module_relocs.target_mod']));
  });

  test(`convert lp_fsections.ko (${arch}): one klp section per object and base section`, () => {
    const res = convert(arch, 'lp_fsections.ko', { map: map01(arch) });
    const out = ElfFile.parse(res.bytes);
    const klp = out.sections.filter((s) => s.name.startsWith('.klp.rela.'));
    const pairs = klp.map((s) => `${s.name.split('.')[3]}|${s.sh_info}`);
    assert.equal(new Set(pairs).size, pairs.length, 'duplicate (object, base) klp sections');
    for (const s of klp) assert.equal(s.name, `.klp.rela.${s.name.split('.')[3]}${out.sections[s.sh_info]!.name}`);
    assert.ok(klp.some((s) => s.name === '.klp.rela.vmlinux.text.lp_read_values'), klp.map((s) => s.name).join(' '));
    checkOutput(arch, 'lp_fsections.ko', res);
    readelfOracle(fixture(arch, 'lp_fsections.ko'), res.bytes, renamedMap(res), new Set(['.rela.klp.module_relocs.vmlinux', '.rela.klp.module_relocs.target_mod']));
  });

  test(`convert lp_minimal.ko (${arch}): minimal-form names without a map`, () => {
    const res = convert(arch, 'lp_minimal.ko');
    assert.deepEqual(klpSymbols(res.bytes), [
      '.klp.sym.target_mod.get_mod_homonym,1', '.klp.sym.target_mod.klp_string.12345,1', '.klp.sym.target_mod.klp_string.12345,1',
      '.klp.sym.target_mod.mod_homonym,2', '.klp.sym.target_mod.scale.constprop.0.isra.0,1', '.klp.sym.vmlinux.dup_global_local,2',
      '.klp.sym.vmlinux.homonym,3', '.klp.sym.vmlinux.saved_command_line,0',
    ]);
    assert.deepEqual(undefinedNames(res.bytes).filter((n) => n !== '.TOC.'), ['exported_func']);
    checkOutput(arch, 'lp_minimal.ko', res);
    readelfOracle(fixture(arch, 'lp_minimal.ko'), res.bytes, renamedMap(res), new Set());
  });

  test(`objdump -r reads converted lp_main.ko, lp_fsections.ko, lp_minimal.ko (${arch})`, { skip: bfdSkip(arch, 'objdump') }, () => {
    objdumpReads(`${arch}/lp_main.ko`, convert(arch, 'lp_main.ko', { map: map01(arch) }).bytes);
    objdumpReads(`${arch}/lp_fsections.ko`, convert(arch, 'lp_fsections.ko', { map: map01(arch) }).bytes);
    objdumpReads(`${arch}/lp_minimal.ko`, convert(arch, 'lp_minimal.ko').bytes);
  });

  test(`convert lp_minimal_bad.ko (${arch}): bad minimal names are refused or corrected`, () => {
    const e = expectKlpError(() => convert(arch, 'lp_minimal_bad.ko'), 'BAD_MINIMAL_NAME');
    assert.match(e.message + (e.detail ?? ''), /saved_command_line/);
  });

  test(`convert lp_special.ko (${arch}): special sections refused, vmlinux jump label allowed`, () => {
    const e = expectKlpError(() => convert(arch, 'lp_special.ko', { map: map01(arch) }), 'LOAD_TIME_SECTION');
    assert.ok(e.codes.includes('JUMP_TABLE_MODULE_KEY'), e.codes.join(','));
    const all = e.message + '\n' + (e.detail ?? '');
    for (const s of ['.static_call_sites', '__ex_table', '__bug_table', '.altinstructions', '.altinstr_replacement']) assert.ok(all.includes(s), `no error for ${s}:\n${all}`);
    assert.match(all, /static_key_enabled/);
    const ok = convert(arch, 'lp_jump_vmlinux.ko', { map: map01(arch) });
    const names = ElfFile.parse(ok.bytes).sections.map((s) => s.name);
    assert.ok(names.includes('.klp.rela.vmlinux.__jump_table'), names.join(' '));
    checkOutput(arch, 'lp_jump_vmlinux.ko', ok);
  });

  test(`convert lp_edge.ko (${arch}): ABS, COMMON, r_sym 0, weak undefined and non-alloc left alone`, () => {
    const res = convert(arch, 'lp_edge.ko', { map: map01(arch) });
    assert.deepEqual(klpSymbols(res.bytes), ['.klp.sym.target_mod.target_var,0']);
    assert.ok(res.warnings.some((w) => w.includes('weak_undef_sym')), res.warnings.join('\n'));
    const out = ElfFile.parse(res.bytes);
    const nonalloc = out.findSection('.rela.lp_nonalloc');
    assert.ok(nonalloc, 'the non-alloc relocation section stays');
    checkOutput(arch, 'lp_edge.ko', res);
  });

  test(`convert error fixtures (${arch}): each annotation and resolution error`, () => {
    const m = map01(arch);
    expectKlpError(() => convert(arch, 'lp_nomarker.ko', { map: m }), 'NOT_LIVEPATCH');
    const amb = expectKlpError(() => convert(arch, 'lp_err_ambiguous.ko', { map: makeExtMapLoaded(arch) }), 'AMBIGUOUS');
    // every candidate with its 1-based kernel position
    for (const p of ['pos 1', 'pos 2', 'pos 3']) assert.ok(amb.detail?.includes(p), amb.detail);
    assert.ok(!amb.detail?.includes('pos 0 '), 'positions count from 1 for repeated names');
    assert.match(amb.detail ?? '', /KLP_SYMPOS\(get_homonym, 1\)/);
    expectKlpError(() => convert(arch, 'lp_err_ambiguous.ko', { map: m }), 'AMBIGUOUS');
    expectKlpError(() => convert(arch, 'lp_err_missing.ko', { map: m }), 'SYMBOL_NOT_FOUND');
    expectKlpError(() => convert(arch, 'lp_err_conflict.ko', { map: m }), 'ANNOTATION_CONFLICT');
    expectKlpError(() => convert(arch, 'lp_err_unused_annot.ko', { map: m }), 'ANNOTATION_UNUSED');
    const bad = expectKlpError(() => convert(arch, 'lp_err_badpos.ko', { map: m }), 'POSITION_TOO_LARGE');
    assert.ok(bad.codes.includes('POSITION_ZERO_AMBIGUOUS'), bad.codes.join(','));
  });

  test(`convert with the extended map (${arch}): kernel order, rules by position and by source file`, () => {
    const ext = makeExtMapLoaded(arch);
    // homonym: 3 statics in vmlinux; by address, position 1 is kmod_vmlinux_c.c's copy
    const rules = parseRules([
      'vmlinux get_homonym file=kmod_vmlinux_a.c',
      'target_mod mod_homonym file=homonyms_b.c',
    ].join('\n'), 'test.rules');
    const res = convert(arch, 'lp_err_ambiguous.ko', { map: ext, rules });
    assert.deepEqual(klpSymbols(res.bytes), ['.klp.sym.vmlinux.get_homonym,2']);
    checkOutput(arch, 'lp_err_ambiguous.ko', res, ext);
    const main = convert(arch, 'lp_main.ko', { map: ext });
    // annotations validated against kernel-true counts; unique names resolve to position 0
    assert.ok(klpSymbols(main.bytes).includes('.klp.sym.vmlinux.saved_command_line,0'));
    checkOutput(arch, 'lp_main.ko', main, ext);
  });

  test(`convert is deterministic and idempotent (${arch})`, () => {
    const a = convert(arch, 'lp_main.ko', { map: map01(arch) });
    const b = convert(arch, 'lp_main.ko', { map: map01(arch) });
    assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
    const again = convertModule(ElfFile.parse(a.bytes, 'converted'), { file: 'converted', map: map01(arch) });
    assert.equal(again.changed, false);
    assert.deepEqual(Buffer.from(again.bytes), Buffer.from(a.bytes));
  });
}

const extLoaded = new Map<string, ReturnType<typeof loadSymbolMap>>();
function makeExtMapLoaded(arch: string) {
  let m = extLoaded.get(arch);
  if (!m) extLoaded.set(arch, (m = loadSymbolMap(makeExtMap(arch))));
  return m;
}

test('convert refuses REL (i386) and riscv relocations with an explanation', () => {
  const rel = expectKlpError(() => convert('i386', 'lp_main.ko', { map: map01('i386') }), 'REL_SECTION');
  assert.match(rel.message, /Elf_Rela/);
  const rv = expectKlpError(() => convert('riscv64', 'lp_main.ko', { map: map01('riscv64') }), 'RISCV_UNSUPPORTED');
  assert.match(rv.message, /PCREL_HI20/);
});

test('the ext map resolves homonym by source file in address order (not symtab order)', () => {
  const ext = makeExtMapLoaded('x86_64');
  const c = ext.lookup('homonym').filter((x) => x.object === 'vmlinux');
  const byFile = new Map(c.map((x) => [x.file, x.pos]));
  assert.equal(byFile.get('kmod_vmlinux_c.c'), 1);
  assert.equal(byFile.get('kmod_vmlinux_a.c'), 2);
  assert.equal(byFile.get('kmod_vmlinux_b.c'), 3);
});

test('CLI: drop-in form, in-place rewrite, JSON report, exit codes, no output on error', () => {
  const d = tmp();
  const arch = 'x86_64';
  const map = fixture(arch, 'symbols.klp');
  const out = join(d, 'lp_main.ko');
  let r = cli([map, fixture(arch, 'lp_main.ko'), out]);
  assert.equal(r.status, 0, r.stderr);
  const first = readFileSync(out);
  // in place: output = input, converting an already converted module changes nothing
  r = cli(['convert', '--symbols', map, out, '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).changed, false);
  assert.deepEqual(readFileSync(out), first);
  // the same with the extended map (the CLI loads only the names the module needs)
  const ext = makeExtMap(arch);
  const outx = join(d, 'lp_minimal.ko');
  r = cli(['convert', '--symbols', ext, fixture(arch, 'lp_minimal.ko'), '-o', outx]);
  assert.equal(r.status, 0, r.stderr);
  const firstx = readFileSync(outx);
  r = cli(['convert', '--symbols', ext, outx, '-o', outx]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(outx), firstx);
  // in place on an unconverted copy
  const inplace = join(d, 'copy.ko');
  copyFileSync(fixture(arch, 'lp_main.ko'), inplace);
  r = cli(['convert', '--symbols', map, inplace, '-o', inplace]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(inplace), first);
  // check lists and verifies
  r = cli(['check', '--symbols', map, out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\.klp\.rela\.vmlinux\.text/);
  r = cli(['check', fixture(arch, 'lp_main.ko'), '--symbols', map]);
  assert.equal(r.status, 1, 'the unconverted module must fail check');
  assert.match(r.stderr, /undefined and not exported/);
  // ambiguous: exit 1, message with file and place, nothing written
  const bad = join(d, 'bad.ko');
  r = cli(['convert', '--symbols', map, fixture(arch, 'lp_err_ambiguous.ko'), '-o', bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^klp-convert: error: .*lp_err_ambiguous\.ko: \.text\+0x[0-9a-f]+: symbol 'get_homonym' is ambiguous/m);
  assert.equal(existsSync(bad), false);
  assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
  // usage, missing input, malformed ELF, malformed map
  assert.equal(cli(['convert', fixture(arch, 'lp_main.ko')]).status, 64);
  assert.equal(cli(['convert', join(d, 'nope.ko'), '-o', bad]).status, 66);
  const junk = join(d, 'junk.ko');
  writeFileSync(junk, Buffer.concat([readFileSync(fixture(arch, 'lp_main.ko')).subarray(0, 100)]));
  r = cli(['convert', '--symbols', map, junk, '-o', bad]);
  assert.equal(r.status, 65, r.stderr);
  assert.match(r.stderr, /junk\.ko/);
  const badmap = join(d, 'bad.klp');
  writeFileSync(badmap, 'klp-convert-symbol-data.0.2\n*vmlinux\nfoo\n');
  r = cli(['convert', '--symbols', badmap, fixture(arch, 'lp_main.ko'), '-o', bad]);
  assert.equal(r.status, 65, r.stderr);
  assert.match(r.stderr, /bad\.klp:1/);
  assert.equal(existsSync(bad), false);
});

test('convert handles extended section numbering (> 65,280 sections)', (t) => {
  const d = tmp();
  const gen = spawnSync('bash', [join(fixture('x86_64', '..'), '..', 'gen-many-sections.sh'), d], { encoding: 'utf8' });
  if (gen.status !== 0) {
    t.skip(`gen-many-sections.sh failed: ${gen.stderr}`);
    return;
  }
  const obj = gen.stdout.trim().split('\n').at(-1)!;
  const elf = ElfFile.parse(readFileSync(obj), obj);
  assert.ok(elf.sections.length > 0xff00);
  const res = convertModule(elf, { file: obj, map: map01('x86_64') });
  const out = ElfFile.parse(res.bytes, 'many (converted)');
  const klp = out.sections.filter((s) => (Number(s.sh_flags) & SHF_RELA_LIVEPATCH) !== 0);
  assert.ok(klp.length > 0, 'klp sections were created');
  assert.ok(klp.some((s) => s.sh_info > 0xff00), 'a klp section targets a section above 0xff00');
  assert.deepEqual(validateKlpModule(out, { map: map01('x86_64') }).findings.filter((f) => f.severity === 'error'), []);
});

test('--kernel-version: names over 127 characters are refused before 6.1, accepted after', () => {
  // rename one minimal-form symbol of lp_minimal.ko to a 200-character symbol name
  const src = fixture('x86_64', 'lp_minimal.ko');
  const ed = new ElfEditor(ElfFile.parse(readFileSync(src), src));
  const i = ed.symbols.findIndex((s) => s.name === '.klp.sym.rela.vmlinux.vmlinux.saved_command_line,0');
  assert.ok(i > 0, 'fixture symbol present');
  const long = 'x'.repeat(200);
  ed.renameSymbol(i, `.klp.sym.rela.vmlinux.vmlinux.${long},0`);
  const bytes = ed.write();
  const old = expectKlpError(() => convertModule(ElfFile.parse(bytes, 'long.ko'), { file: 'long.ko', kernelVersion: '5.15' }), 'NAME_TOO_LONG');
  assert.match(old.message, /at most 127/);
  const res = convertModule(ElfFile.parse(bytes, 'long.ko'), { file: 'long.ko', kernelVersion: '6.12' });
  assert.ok(klpSymbols(res.bytes).includes(`.klp.sym.vmlinux.${long},0`));
});

test('init-section caveats are reported (target in init, or an init homonym counted before it)', (t) => {
  const d = tmp();
  const c = join(d, 'lp_init.c');
  writeFileSync(c, [
    'extern void setup(void);',
    'extern int setup_value;',
    'int lp_use(void) { setup(); return setup_value; }',
    '__attribute__((section(".modinfo"), used)) static const char tag[] = "livepatch=Y";',
  ].join('\n'));
  const o = join(d, 'lp_init.ko');
  const cc = spawnSync('gcc', ['-c', '-O2', '-fno-pic', '-mcmodel=kernel', '-o', o, c], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    t.skip(`gcc unavailable: ${cc.stderr ?? cc.error}`);
    return;
  }
  const ext = makeExtMapLoaded('x86_64');
  const elf = () => ElfFile.parse(readFileSync(o), o);
  // target_mod: setup 1 = a (.init.text), 2 = b (.text); setup_value 1 = a (.init.data), 2 = b (.data)
  const late = convertModule(elf(), { file: o, map: ext, rules: parseRules('target_mod setup pos=2\ntarget_mod setup_value file=homonyms_b.c\n', 'r') });
  assert.equal(late.warnings.filter((w) => /counts a same-named symbol in an init section/.test(w)).length, 2, late.warnings.join('\n'));
  const init = convertModule(elf(), { file: o, map: ext, rules: parseRules('target_mod setup pos=1\ntarget_mod setup_value pos=1\n', 'r') });
  assert.equal(init.warnings.filter((w) => /lives in an init section/.test(w)).length, 2, init.warnings.join('\n'));
});

test('an exported symbol stays an ordinary reference unless a rule or annotation asks for it', () => {
  const m = map01('x86_64');
  const plain = convert('x86_64', 'lp_main.ko', { map: m });
  assert.ok(undefinedNames(plain.bytes).includes('exported_func'));
  const ruled = convert('x86_64', 'lp_main.ko', { map: m, rules: parseRules('vmlinux exported_func pos=0\n', 'r') });
  assert.ok(!undefinedNames(ruled.bytes).includes('exported_func'));
  assert.ok(klpSymbols(ruled.bytes).includes('.klp.sym.vmlinux.exported_func,0'));
  checkOutput('x86_64', 'lp_main.ko', ruled);
});

test('a rules file position too large for any object is refused at its line (not later, at conversion)', () => {
  assert.throws(() => parseRules('vmlinux get_homonym pos=2\nvmlinux homonym pos=99999999999999999999\n', 'big.rules'),
    (e: unknown) => e instanceof SymbolMapError && e.file === 'big.rules' && e.line === 2 && /^pos=99999999999999999999: no object has that many symbols/.test(e.message));
  assert.equal(parseRules('vmlinux get_homonym pos=9007199254740991\n', 'ok.rules').length, 1);
});
