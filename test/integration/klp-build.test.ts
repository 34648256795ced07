// klp-build interop on gcc-built objects (issue 11): `convert` finishes a pre-post-link module
// (klp-build's 5-kmod/<name>.ko.orig) as `objtool klp post-link` does, compared with the real
// objtool run on a copy of the same object, read by our dump AND by readelf; `check` and `dump`
// read post-link's finished modules (weak klp symbols, R_X86_64_NONE originals, tombstones, kept
// __klp_relocs tables, .init.klp_objects/.init.klp_funcs) and still catch real faults. The module
// names symbols of the fixture world (test/fixtures: vmlinux, target_mod), so check --target has
// a kernel to decide against. The real klp-build's modules are compared by test/klp-build/interop.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, fixtureTree, makeExtMap, tmp } from '../helpers/klp-world.js';
import { OBJTOOL_SKIP, buildPrePostLink, klpObjtool, viewByDump, viewByReadelf, type KlpBuildKnobs } from '../helpers/klp-build.js';
import { haveReadelf, readelf } from '../helpers/readelf.js';
import { compareWithReadelf } from '../helpers/dump-vs-readelf.js';
import { buildDump } from '../../src/cli/commands/dump.js';
import { ElfFile } from '../../src/elf/index.js';

const gcc = spawnSync('gcc', ['-dumpmachine'], { encoding: 'utf8' });
const haveGcc = gcc.status === 0 && gcc.stdout.startsWith('x86_64');
const skip = !haveGcc ? 'needs an x86_64 gcc (apt-get install gcc)' : !haveReadelf() ? 'needs readelf (apt-get install binutils)' : false;
const objtool = skip ? undefined : klpObjtool();
const skipOracle = skip || (objtool ? false : OBJTOOL_SKIP);

/** postLink runs the oracle on a copy of `pre` and returns the copy's path */
function postLink(pre: string, out: string): string {
  copyFileSync(pre, out);
  const r = spawnSync(objtool!, ['klp', 'post-link', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `objtool klp post-link: ${r.stderr}`);
  return out;
}


const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => /: error: /.test(l));

test('convert on a pre-post-link module writes the klp relocations and symbols objtool klp post-link writes (dump and readelf agree)', { skip: skipOracle }, () => {
  const d = tmp('klpt-kb-');
  const pre = buildPrePostLink(d, 'lpkb');
  const theirs = postLink(pre, join(d, 'theirs.ko'));
  const ours = join(d, 'ours.ko');
  const c = cli(['convert', '--json', pre, '-o', ours]);
  assert.equal(c.status, 0, c.stderr);
  const j = JSON.parse(c.stdout) as { form: string; converted: { klpName: string; via: string }[]; removedSections: string[] };
  assert.equal(j.form, 'klp-build');
  assert.deepEqual(j.converted.map((x) => x.via), Array(j.converted.length).fill('klp-build'));
  for (const n of ['__klp_relocs.vmlinux', '.rela__klp_relocs.vmlinux', '__klp_relocs.target_mod', '.rela__klp_relocs.target_mod', '.rela.text.lpkb_mod_fn', '.rela.data.lpkb_ptrs']) {
    assert.ok(j.removedSections.includes(n), `${n} removed: ${j.removedSections.join(', ')}`);
  }

  const oursDump = viewByDump(ours);
  const theirsDump = viewByDump(theirs);
  // each reader agrees with readelf on each file
  assert.deepEqual(viewByReadelf(ours), oursDump, 'ours: dump and readelf');
  assert.deepEqual(viewByReadelf(theirs), theirsDump, 'objtool: dump and readelf');
  // the same klp relocations (object, base section, offset, type, symbol, addend) as multisets
  assert.equal(oursDump.relocs.length, 6);
  assert.deepEqual(oursDump.relocs, theirsDump.relocs);
  // the same klp and tombstone symbols: SHN_LIVEPATCH, STB_WEAK, type kept
  assert.deepEqual(oursDump.symbols, theirsDump.symbols);
  for (const s of oursDump.symbols) assert.match(s, / WEAK (FUNC|OBJECT|NOTYPE) LIVEPATCH$/);
  // originals: objtool makes them R_X86_64_NONE, we remove them; the exported call stays in both
  assert.deepEqual(oursDump.ordinary.filter((o) => o.startsWith('.text')), ['.text.lpkb_fn 18 R_X86_64_PLT32 exported_func']);
  assert.equal(oursDump.ordinary.filter((o) => /\.klp\.(sym|tombstone)\./.test(o)).length, 0);
  assert.deepEqual(theirsDump.ordinary.filter((o) => !/ R_X86_64_NONE \.klp\.tombstone\./.test(o)), oursDump.ordinary);
  assert.equal(theirsDump.ordinary.filter((o) => / R_X86_64_NONE /.test(o)).length, 6);
  // section names: post-link writes .klp.rela.<obj>..<sec>, we write .klp.rela.<obj>.<sec>
  const names = (f: string): string[] => readelf(f).sections.map((s) => s.name).filter((n) => n.startsWith('.klp.rela.')).sort();
  assert.deepEqual(names(theirs), ['.klp.rela.target_mod..data.lpkb_ptrs', '.klp.rela.target_mod..text.lpkb_mod_fn', '.klp.rela.vmlinux..text.lpkb_fn']);
  assert.deepEqual(names(ours), ['.klp.rela.target_mod.data.lpkb_ptrs', '.klp.rela.target_mod.text.lpkb_mod_fn', '.klp.rela.vmlinux.text.lpkb_fn']);
  assert.equal(readelf(ours).sections.some((s) => s.name.startsWith('__klp_relocs')), false);

  // both pass check, and bind on the fixture kernel
  const tree = fixtureTree(d);
  for (const f of [ours, theirs]) {
    const k = cli(['check', '--symbols', makeExtMap('x86_64'), f]);
    assert.equal(k.status, 0, `${f}: ${k.stderr}`);
    assert.deepEqual(errorLines(k.stderr), []);
    const t = cli(['check', '--target', tree, f]);
    assert.equal(t.status, 0, `${f}: ${t.stdout}${t.stderr}`);
    assert.match(t.stdout, /loads and binds/);
  }
  // deterministic, and idempotent: converting our output, or objtool's, changes nothing
  const again = join(d, 'again.ko');
  assert.equal(cli(['convert', pre, '-o', again]).status, 0);
  assert.deepEqual(readFileSync(again), readFileSync(ours));
  for (const f of [ours, theirs]) {
    const o = join(d, 'idem.ko');
    const r = cli(['convert', f, '-o', o]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(o), readFileSync(f));
  }
  const fin = cli(['convert', theirs, '-o', join(d, 'fin.ko')]);
  assert.match(fin.stderr, /already finished by 'objtool klp post-link'/);
});

test('convert on a pre-post-link module: a map verifies klp-build\'s positions; --resolve is refused; not x86_64 is refused', { skip }, () => {
  const d = tmp('klpt-kb-');
  const ext = makeExtMap('x86_64');
  const good = buildPrePostLink(d, 'lpkb');
  const r = cli(['convert', '--symbols', ext, good, '-o', join(d, 'good.ko')]);
  assert.equal(r.status, 0, r.stderr);
  // homonym has 3 copies in the fixture vmlinux: position 4 is refused, and nothing is written
  mkdirSync(join(d, 'bad'));
  const bad = buildPrePostLink(join(d, 'bad'), 'lpkb', { homonymPos: 4 });
  const out = join(d, 'bad.ko');
  const b = cli(['convert', '--symbols', ext, bad, '-o', out]);
  assert.equal(b.status, 1, b.stderr);
  assert.match(b.stderr, /position 4 but only 3 symbols named 'homonym' in 'vmlinux'/);
  assert.equal(existsSync(out), false);
  // without the map the position cannot be checked: converted as klp-build wrote it
  assert.equal(cli(['convert', bad, '-o', out]).status, 0);
  const u = cli(['convert', '--resolve', '/dev/null', good, '-o', join(d, 'x.ko')]);
  assert.equal(u.status, 64);
  assert.match(u.stderr, /--resolve does not apply to a klp-build module/);
  // the same file claiming to be aarch64: klp-build and struct klp_reloc are x86_64 only
  const arm = readFileSync(good);
  arm.writeUInt16LE(183, 18);
  writeFileSync(join(d, 'arm.ko'), arm);
  const a = cli(['convert', join(d, 'arm.ko'), '-o', join(d, 'arm-out.ko')]);
  assert.equal(a.status, 1, a.stderr);
  assert.match(a.stderr, /klp-build modules are read for x86_64 only/);
  assert.equal(existsSync(join(d, 'arm-out.ko')), false);
});

test('convert on malformed __klp_relocs tables: a clear error naming the table entry, exit 65, no output', { skip }, () => {
  const cases: [string, KlpBuildKnobs, string, RegExp][] = [
    ['truncated', { tableTail: '\t.long 4' }, 'KLP_RELOCS_SIZE', /__klp_relocs\.vmlinux': size 100 is not a multiple of 24/],
    ['misaligned', { tableHead: '\t.long 0' }, 'KLP_RELOCS_', /__klp_relocs\.vmlinux(\+0x4|': size)/],
    ['not a klp symbol', { firstSymField: 'exported_func' }, 'KLP_RELOCS_NOT_KLP_SYM', /__klp_relocs\.vmlinux\+0x0 \(entry 0\): klp_reloc\.sym names 'exported_func'/],
    ['malformed klp name', { firstKlp: '.klp.sym.vmlinux.get_homonym' }, 'KLP_RELOCS_BAD_NAME', /__klp_relocs\.vmlinux\+0x0 \(entry 0\): klp symbol '\.klp\.sym\.vmlinux\.get_homonym' is not/],
    ['offset outside its section', { firstOffset: '.Ls1+0x1000' }, 'KLP_RELOCS_OFFSET', /__klp_relocs\.vmlinux\+0x0 \(entry 0\): the place \.text\.lpkb_fn\+0x1000 \(4 bytes\) is outside '\.text\.lpkb_fn'/],
    ['module symbol in the vmlinux table', { firstKlp: '.klp.sym.target_mod.get_homonym,1' }, 'KLP_RELOCS_OBJECT', /symbol '\.klp\.sym\.target_mod\.get_homonym,1' of 'target_mod' is in the table of 'vmlinux'/],
  ];
  for (const [what, knobs, , re] of cases) {
    const d = tmp('klpt-kb-bad-');
    const pre = buildPrePostLink(d, 'lpkb', knobs);
    const out = join(d, 'out.ko');
    const r = cli(['convert', pre, '-o', out]);
    assert.equal(r.status, 65, `${what}: ${r.stderr}`);
    assert.match(r.stderr, re, what);
    assert.match(r.stderr, /^klp-convert: error: \S+lpkb\.ko\.orig: /, what);
    assert.equal(existsSync(out), false, `${what}: no output`);
    assert.deepEqual(readdirSync(d).filter((f) => f.includes('out')), [], `${what}: no temporary file left`);
  }
});

test('check and dump on a module finished by objtool klp post-link: no false errors, real faults caught', { skip: skipOracle }, () => {
  const d = tmp('klpt-kb-');
  const ext = makeExtMap('x86_64');
  const tree = fixtureTree(d);
  const fin = postLink(buildPrePostLink(d, 'lpkb'), join(d, 'lpkb.ko'));
  // the pre-post-link module itself is refused as unfinished, with what to do
  const pre = cli(['check', '--symbols', ext, join(d, 'lpkb.ko.orig')]);
  assert.equal(pre.status, 1);
  assert.match(pre.stderr, /klp-build's module before 'objtool klp post-link' \(__klp_relocs tables; 5 klp symbols are still weak undefined\).*finish it with klp-convert convert/);
  // check reads the weak SHN_LIVEPATCH symbols, the NONE originals against tombstones and the
  // kept __klp_relocs tables without an error, and the .init.klp_objects tables as the patch's objects
  const k = cli(['check', '--symbols', ext, fin]);
  assert.equal(k.status, 0, k.stderr);
  assert.deepEqual(errorLines(k.stderr), []);
  assert.match(k.stdout, /6 klp relocations/);
  const t = cli(['check', '--target', tree, '--json', fin]);
  assert.equal(t.status, 0, t.stdout);
  const tj = JSON.parse(t.stdout) as { objects: { name: string; funcs: { old_name: string; old_sympos: string }[] }[] }[];
  assert.deepEqual(tj[0]!.objects, [
    { name: 'vmlinux', funcs: [{ old_name: 'get_homonym', old_sympos: '2' }] },
    { name: 'target_mod', funcs: [{ old_name: 'get_mod_homonym', old_sympos: '1' }] },
  ]);

  // dump agrees with readelf everywhere readelf is right; it names what binutils does not
  compareWithReadelf(buildDump(ElfFile.parse(readFileSync(fin), fin), { sections: true, symbols: true, relocs: true }), readelf(fin), 'post-link output');
  const txt = cli(['dump', '-s', fin]).stdout;
  assert.match(txt, /WEAK +DEFAULT +SHN_LIVEPATCH \.klp\.sym\.vmlinux\.homonym,3/);
  assert.match(readelf(fin).symtabs[0]!.symbols.find((s) => s.name === '.klp.sym.vmlinux.homonym,3')!.ndx, /^OS \[0xff20\]$/);
  const nm = spawnSync('nm', [fin], { encoding: 'utf8' });
  if (nm.status === 0) {
    // nm calls the undefined klp symbols defined weak ('W'/'V'), and objdump puts them in *ABS*
    assert.match(nm.stdout, /^0+ [WV] \.klp\.sym\.vmlinux\.homonym,3$/m);
    const od = spawnSync('objdump', ['-t', fin], { encoding: 'utf8' });
    if (od.status === 0) assert.match(od.stdout, /\*ABS\*\s+0+ \.klp\.sym\.vmlinux\.homonym,3/);
  }

  // real faults: a position past the count, an object the patch does not declare, a global
  // klp-build gives position 0 although the kernel has two symbols of that name
  const faults: [string, KlpBuildKnobs, (status: number, out: string) => void][] = [
    ['wrong position', { homonymPos: 4 }, (s, out) => {
      assert.equal(s, 1);
      assert.match(out, /livepatch: symbol position 4 for symbol 'homonym' in object 'vmlinux' not found/);
    }],
    ['undeclared object', { onlyVmlinuxObject: true }, (s, out) => {
      assert.equal(s, 1);
      assert.match(out, /KLP_SECTION_UNDECLARED_OBJECT|is for object 'target_mod', which is not one of the patch's klp_objects/);
    }],
    ['global position 0', { globalPos0: true }, (s, out) => {
      assert.equal(s, 1);
      assert.match(out, /livepatch: unresolvable ambiguity for symbol 'dup_global_local' in object '\(null\)'/);
    }],
    // klp-build's module positions count init-section copies (klp_find_sympos over the .o's
    // .symtab): target_mod's `setup` is 1 = .init.text, 2 = .text, and the kernel drops init
    // symbols once the module is live
    ['module position counting an init symbol', { modDataKlp: '.klp.sym.target_mod.setup,2' }, (s, out) => {
      assert.equal(s, 1, out);
      assert.match(out, /symbol position 2 for symbol 'setup' in object 'target_mod' not found/);
    }],
    // and a module global whose name a static shares gets 0 too
    ['module global position 0', { modDataKlp: '.klp.sym.target_mod.shared_name,0' }, (s, out) => {
      assert.equal(s, 1, out);
      assert.match(out, /unresolvable ambiguity for symbol 'shared_name' in object 'target_mod'/);
    }],
  ];
  for (const [what, knobs, expect] of faults) {
    const fd = join(d, what.replace(/ /g, '-'));
    mkdirSync(fd);
    const m = postLink(buildPrePostLink(fd, 'lpkb', knobs), join(fd, 'lpkb.ko'));
    const r = cli(['check', '--target', tree, m]);
    expect(r.status, `${r.stdout}${r.stderr}`);
  }
  // the position fault is found without a target too, with the extended map
  const fd = join(d, 'pos-map');
  mkdirSync(fd);
  const m = postLink(buildPrePostLink(fd, 'lpkb', { homonymPos: 4 }), join(fd, 'lpkb.ko'));
  const r = cli(['check', '--symbols', ext, m]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /position 4 but only 3 symbols named 'homonym'/);
});
