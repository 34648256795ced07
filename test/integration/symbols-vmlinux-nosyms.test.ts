// A vmlinux without symbols (issue 12 item 3). Debian's /lib/modules/<ver>/build/vmlinux is a
// BTF-only ELF (sections .BTF, .BTF_ids, .symtab, .strtab, .shstrtab; 799 symbols, no code, no
// STT_FUNC); a map made from it is silently useless. `symbols` must refuse it, and a stripped one,
// with exit 66 and a message naming the debug package; a vmlinux that keeps its symbols
// (`objcopy --only-keep-debug`) must still work and give the same map.
//
// Every vmlinux here is made at test time from the gcc-built tree of test/helpers/symbols-tree.ts:
//   strip -o vmlinux vmlinux.orig                                   (no .symtab)
//   objcopy --strip-all --keep-symbol=shared_counter ...            (.symtab and .text, no function)
//   gcc -c btf.c; ld -static -e 0; objcopy --remove-section=...     (Debian's BTF-only layout)
//   objcopy --only-keep-debug vmlinux.orig vmlinux                  (accepted: symbols kept)
// readelf is the oracle that each made file has the property it stands for. The real Debian files
// are tried too when cached: the headers' vmlinux of every cached linux-headers-<ver>-amd64 .deb
// (6.12.117+deb12 and 7.2.13+deb14 here) must be refused, the unpacked -dbg vmlinux accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSymbolsTree, haveTool, missingTools, run, type SymbolsTree } from '../helpers/symbols-tree.js';
import { repoRoot } from '../helpers/elf-fixtures.js';
import { loadSymbolMap } from '../../src/klp/symbol-map.js';
import { checkVmlinuxSections, checkVmlinuxSymbols, vmlinuxLooksSymbolless } from '../../src/klp/vmlinux-symbols.js';
import { ElfFile } from '../../src/elf/index.js';

const CLI = join(repoRoot, 'dist/src/cli/main.js');
const missing = [...missingTools(), ...['objcopy', 'strip'].filter((t) => !haveTool(t))];
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (apt-get install gcc binutils xz-utils zstd)` : false;

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'latin1' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** readelf facts about a file: section names with flags, and the defined STT_FUNC count */
function readelfFacts(file: string): { sections: { name: string; type: string; flags: string }[]; hasSymtab: boolean; functions: number } {
  const sections: { name: string; type: string; flags: string }[] = [];
  for (const l of run('readelf', ['-SW', file]).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+/.exec(l);
    if (m && m[1] !== '0') sections.push({ name: m[2]!, type: m[3]!, flags: m[4]! });
  }
  let functions = 0;
  for (const l of run('readelf', ['-sW', file]).split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length >= 8 && f[3] === 'FUNC' && f[6] !== 'UND') functions++;
  }
  return { sections, hasSymtab: sections.some((s) => s.type === 'SYMTAB'), functions };
}

let T: SymbolsTree;
let orig: string;
before(() => {
  if (skip) return;
  T = buildSymbolsTree();
  orig = join(T.root, 'vmlinux.orig');
  copyFileSync(join(T.tree, 'vmlinux'), orig);
});
after(() => T?.cleanup());

/** scratch copies the tree with `vmlinux` replaced by `vmlinux` (a path) */
function scratch(vmlinux: string): string {
  const d = mkdtempSync(join(tmpdir(), 'klp-nosyms-'));
  cpSync(T.tree, join(d, 't'), { recursive: true });
  copyFileSync(vmlinux, join(d, 't', 'vmlinux'));
  return join(d, 't');
}

/** refuses checks both thread layouts give the same refusal, exit 66, no output, no temporary file */
function refuses(tree: string, what: RegExp): string {
  const out = join(tree, 'out.klp');
  const r1 = cli(['symbols', '--objtree', tree, '-o', out, '-j', '1']);
  const r2 = cli(['symbols', '--objtree', tree, '-o', out, '-j', '2', '--format', 'ext']);
  for (const r of [r1, r2]) {
    assert.equal(r.status, 66, r.stderr);
    assert.match(r.stderr, new RegExp(`^klp-convert: error: ${tree.replace(/[.+]/g, '\\$&')}/vmlinux: `));
    assert.match(r.stderr, what);
    assert.match(r.stderr, /the map is made from the kernel's unstripped vmlinux, which its debug package holds\n/);
    assert.match(r.stderr, /^ {2}Debian: apt-get install linux-image-<version>-dbg, then$/m);
    assert.match(r.stderr, /klp-convert symbols --objtree \/usr\/lib\/debug\/lib\/modules\/<version>/);
    assert.match(r.stderr, /kernel-debuginfo/);
  }
  assert.equal(r2.stderr, r1.stderr);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(tree).filter((f) => f.endsWith('.tmp')), []);
  return r1.stderr;
}

test('a stripped vmlinux (strip) is refused: exit 66, names it and the debug package', { skip }, () => {
  const v = join(T.root, 'vmlinux.strip');
  run('strip', ['-o', v, orig]);
  assert.equal(readelfFacts(v).hasSymtab, false, 'strip removed .symtab');
  const t = scratch(v);
  try {
    refuses(t, /vmlinux: has no symbol table \(\.symtab\): a stripped vmlinux; /);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('a vmlinux whose table kept no function (objcopy --strip-all --keep-symbol) is refused by the symbol step', { skip }, () => {
  const v = join(T.root, 'vmlinux.keep');
  run('objcopy', ['--strip-all', '--keep-symbol=shared_counter', '--keep-symbol=ZZZ_last', orig, v]);
  const f = readelfFacts(v);
  assert.ok(f.hasSymtab && f.functions === 0 && f.sections.some((s) => s.flags.includes('X')), JSON.stringify(f));
  const t = scratch(v);
  try {
    refuses(t, /vmlinux: has \d+ symbols but not one function \(STT_FUNC\): a stripped or partial symbol table; /);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('a BTF-only vmlinux (gcc + ld + objcopy, Debian\'s layout) is refused, before modules.order is looked at', { skip }, () => {
  const d = join(T.root, 'btf');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'btf.c'), [
    '/* what a BTF-only vmlinux holds: type data and id tables, no code */',
    'const unsigned char btf_data[64] __attribute__((section(".BTF"), used)) = { 0x9f, 0xeb, 1 };',
    'const unsigned int __BTF_ID__func__example__1 __attribute__((section(".BTF_ids"), used)) = 1;',
    'const unsigned int __BTF_ID__struct__task_struct__2 __attribute__((section(".BTF_ids"), used)) = 2;',
    '',
  ].join('\n'));
  run('gcc', ['-c', '-O2', '-fno-asynchronous-unwind-tables', '-o', join(d, 'btf.o'), join(d, 'btf.c')]);
  run('ld', ['-static', '-e', '0', '-o', join(d, 'vmlinux.ld'), join(d, 'btf.o')]);
  const v = join(d, 'vmlinux');
  run('objcopy', ['--remove-section=.comment', '--remove-section=.note.gnu.property', join(d, 'vmlinux.ld'), v]);
  const f = readelfFacts(v);
  assert.deepEqual(f.sections.map((s) => s.name).sort(), ['.BTF', '.BTF_ids', '.shstrtab', '.strtab', '.symtab'], 'the Debian layout');
  assert.equal(f.functions, 0);
  const t = scratch(v);
  try {
    const msg = refuses(t, /vmlinux: has no code section \(its sections: [^)]*\.BTF[^)]*\): a BTF-only vmlinux, as linux-headers packages ship it for building modules; /);
    // a linux-headers tree has no modules.order: the vmlinux is still what gets reported
    rmSync(join(t, 'modules.order'));
    const r = cli(['symbols', '--objtree', t, '-o', join(t, 'out.klp')]);
    assert.equal(r.status, 66);
    assert.equal(r.stderr, msg);
    // the release is filled in when the tree says it (include/config/kernel.release, as in linux-headers)
    mkdirSync(join(t, 'include/config'), { recursive: true });
    writeFileSync(join(t, 'include/config/kernel.release'), '6.12.117+deb12-cloud-amd64\n');
    const r3 = cli(['symbols', '--objtree', t, '-o', join(t, 'out.klp')]);
    assert.match(r3.stderr, /^ {2}Debian: apt-get install linux-image-6\.12\.117\+deb12-cloud-amd64-dbg, then$/m);
    assert.match(r3.stderr, /--objtree \/usr\/lib\/debug\/lib\/modules\/6\.12\.117\+deb12-cloud-amd64\n/);
    assert.match(r3.stderr, /\(the vmlinux there, also \/usr\/lib\/debug\/boot\/vmlinux-6\.12\.117\+deb12-cloud-amd64\)/);
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

test('a vmlinux made with objcopy --only-keep-debug keeps its symbols: accepted, same maps as the original', { skip }, () => {
  const v = join(T.root, 'vmlinux.debug');
  run('objcopy', ['--only-keep-debug', orig, v]);
  const f = readelfFacts(v);
  assert.ok(f.sections.some((s) => s.name === '.text' && s.type === 'NOBITS'), '.text became NOBITS');
  assert.ok(f.functions > 0);
  const t = scratch(v);
  try {
    for (const format of ['0.1', 'ext']) {
      const a = join(t, `debug.${format}`), b = join(t, `orig.${format}`);
      let r = cli(['symbols', '--objtree', t, '-o', a, '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      r = cli(['symbols', '--objtree', T.tree, '-o', b, '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readFileSync(a), readFileSync(b), format);
    }
  } finally {
    rmSync(join(t, '..'), { recursive: true, force: true });
  }
});

/** the cached Debian linux-headers-<ver>-<flavour> packages (they hold the BTF-only vmlinux) */
function cachedHeadersDebs(): string[] {
  const base = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'klp-convert', 'distro');
  if (!existsSync(base)) return [];
  const debs: string[] = [];
  for (const v of readdirSync(base)) {
    const d = join(base, v, 'debs');
    if (existsSync(d)) for (const f of readdirSync(d)) if (/^linux-headers-.*-amd64_.*\.deb$/.test(f)) debs.push(join(d, f));
  }
  return debs.sort();
}

test('the real BTF-only vmlinux of each cached Debian linux-headers package is refused', async (t) => {
  const debs = cachedHeadersDebs();
  if (skip || debs.length === 0 || !haveTool('dpkg-deb')) {
    t.skip(skip || (debs.length === 0
      ? 'no cached linux-headers-<ver>-amd64 .deb under ~/.cache/klp-convert/distro/<ver>/debs (the distribution test downloads them)'
      : 'needs dpkg-deb'));
    return;
  }
  for (const deb of debs) await t.test(deb.slice(deb.lastIndexOf('/') + 1), () => refusesHeadersVmlinux(deb));
});

function refusesHeadersVmlinux(deb: string): void {
  const d = mkdtempSync(join(tmpdir(), 'klp-debhdr-'));
  try {
    const tar = spawnSync('bash', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards './usr/src/linux-headers-*/vmlinux' './usr/src/linux-headers-*/include/config/kernel.release'`, '_', deb, d]);
    assert.equal(tar.status, 0, String(tar.stderr));
    const hdr = readdirSync(join(d, 'usr/src')).find((n) => !n.endsWith('-common'))!;
    const tree = join(d, 'usr/src', hdr);
    const release = readFileSync(join(tree, 'include/config/kernel.release'), 'latin1').trim();
    const f = readelfFacts(join(tree, 'vmlinux'));
    assert.equal(f.functions, 0, 'the headers vmlinux has no function symbols');
    const r = cli(['symbols', '--objtree', tree, '-o', join(d, 'out.klp')]);
    assert.equal(r.status, 66, r.stderr);
    assert.match(r.stderr, /vmlinux: has no code section \(its sections: \.BTF, \.BTF_ids, \.symtab, \.strtab, \.shstrtab\): a BTF-only vmlinux/);
    assert.ok(r.stderr.includes(`  Debian: apt-get install linux-image-${release}-dbg, then\n`), r.stderr);
    assert.equal(existsSync(join(d, 'out.klp')), false);
    // a tree that only links to it (no include/config): the release comes from where it links
    const lt = join(d, 'linked');
    mkdirSync(lt);
    symlinkSync(join(tree, 'vmlinux'), join(lt, 'vmlinux'));
    writeFileSync(join(lt, 'modules.order'), '');
    const r2 = cli(['symbols', '--objtree', lt, '-o', join(d, 'out.klp')]);
    assert.equal(r2.status, 66, r2.stderr);
    assert.ok(r2.stderr.includes(`  Debian: apt-get install linux-image-${release}-dbg, then\n`), r2.stderr);
    // the map the 2022 shell recipe makes from it is recognised when it is used
    const recipeMap = join(d, 'recipe.klp');
    run('bash', [join(repoRoot, 'test/helpers/symbols-klp-recipe.sh'), lt, recipeMap]);
    assert.ok(readFileSync(recipeMap, 'latin1').split('\n').length > 700, 'the recipe copies its ~800 names');
    assert.match(vmlinuxLooksSymbolless(loadSymbolMap(recipeMap))!, /no __ksymtab_ name/);
    const c = cli(['convert', '--symbols', recipeMap, join(repoRoot, 'test/fixtures/bin/x86_64/lp_main.ko'), '-o', join(d, 'lp.ko')]);
    assert.equal(c.status, 1, c.stderr);
    assert.match(c.stderr, /is not exported and not in .*recipe\.klp; .*recipe\.klp was made from a vmlinux without symbols/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

test('a map made from a symbol-less vmlinux shows it (for the convert error): 0.1 without exports, ext without functions', { skip }, () => {
  // such maps come from older versions or from the 2022 shell recipe run on the headers' vmlinux
  const d = mkdtempSync(join(tmpdir(), 'klp-nosyms-map-'));
  try {
    const good01 = join(d, 'good.klp');
    assert.equal(cli(['symbols', '--objtree', T.tree, '-o', good01]).status, 0);
    const goodExt = join(d, 'good.klpx');
    assert.equal(cli(['symbols', '--objtree', T.tree, '-o', goodExt, '--format', 'ext']).status, 0);
    assert.equal(vmlinuxLooksSymbolless(loadSymbolMap(good01, new Set(['a_entry']))), undefined);
    assert.equal(vmlinuxLooksSymbolless(loadSymbolMap(goodExt, new Set(['a_entry']))), undefined);
    // the vmlinux block replaced by BTF-like names, the modules kept
    const btf01 = join(d, 'btf.klp');
    const g = readFileSync(good01, 'latin1');
    writeFileSync(btf01, g.replace(/\*vmlinux\n[^*]*/, '*vmlinux\n__BTF_ID__func__example__1\n__start_BTF\nbtf_data\n'));
    assert.match(vmlinuxLooksSymbolless(loadSymbolMap(btf01, new Set(['a_entry'])))!, /no __ksymtab_/);
    const btfExt = join(d, 'btf.klpx');
    const ge = readFileSync(goodExt, 'latin1');
    writeFileSync(btfExt, ge.replace(/\*vmlinux vmlinux\n[^*]*/, '*vmlinux vmlinux\n__BTF_ID__func__example__1 go\n__start_BTF gn\nbtf_data go\n'));
    assert.match(vmlinuxLooksSymbolless(loadSymbolMap(btfExt, new Set(['a_entry'])))!, /no function/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('convert and check say so when the map was made from a vmlinux without symbols, and only then', () => {
  // the committed x86_64 world: lp_main.ko references vmlinux's unexported vmlinux_unique_func
  const fx = (n: string): string => join(repoRoot, 'test/fixtures/bin/x86_64', n);
  const d = mkdtempSync(join(tmpdir(), 'klp-nosyms-conv-'));
  try {
    const good = readFileSync(fx('symbols.klp'), 'latin1');
    const btf = join(d, 'btf.klp');
    writeFileSync(btf, good.replace(/\*vmlinux\n[^*]*/, '*vmlinux\n__BTF_ID__func__example__1\n__start_BTF\nbtf_data\n'));
    const out = join(d, 'out.ko');
    let r = cli(['convert', '--symbols', btf, fx('lp_main.ko'), '-o', out]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`symbol 'vmlinux_unique_func' is not exported and not in ${btf.replace(/[.]/g, '\\.')}; ${btf.replace(/[.]/g, '\\.')} was made from a vmlinux without symbols \\(its vmlinux block has no __ksymtab_ name, so no exports \\(3 symbols\\): a stripped or BTF-only vmlinux\\); regenerate it with 'klp-convert symbols' from the kernel's unstripped vmlinux \\(Debian: the linux-image-<version>-dbg package; other distributions: the kernel debuginfo package\\)`));
    assert.equal(existsSync(out), false);
    r = cli(['check', '--symbols', btf, fx('lp_main.ko')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /symbol 'vmlinux_unique_func' is undefined and not exported; loading fails with "Unknown symbol vmlinux_unique_func"; .*btf\.klp was made from a vmlinux without symbols/);
    // a good map and a genuinely unknown name: the old advice, no talk of symbol-less vmlinux
    const typo = join(d, 'typo.klp');
    writeFileSync(typo, good.replace(/^vmlinux_unique_func$/m, 'vmlinux_unique_fnuc'));
    r = cli(['convert', '--symbols', typo, fx('lp_main.ko'), '-o', out]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /symbol 'vmlinux_unique_func' is not exported and not in .*typo\.klp; check the name, or regenerate the map/);
    assert.doesNotMatch(r.stderr, /without symbols/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the real debug vmlinux of each cached Debian -dbg package passes both steps (no false refusal)', (t) => {
  const cache = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  const found: string[] = [];
  for (const base of [join(cache, 'klp-corpus'), join(cache, 'klp-convert', 'distro')]) {
    if (!existsSync(base)) continue;
    for (const v of readdirSync(base)) {
      for (const root of [join(base, v), join(base, v, 'root')]) {
        const boot = join(root, 'usr/lib/debug/boot');
        if (existsSync(boot)) for (const f of readdirSync(boot)) if (f.startsWith('vmlinux-')) found.push(join(boot, f));
      }
    }
  }
  if (found.length === 0) {
    t.skip('no unpacked linux-image-<ver>-dbg under ~/.cache/klp-corpus or ~/.cache/klp-convert/distro (/work/shared/tools/fetch-distro-kernel.sh makes one)');
    return;
  }
  for (const v of found) {
    checkVmlinuxSections(v, join(v, '..'));
    const elf = ElfFile.open(v);
    try {
      const st = elf.symbols();
      assert.ok(st.count > 100_000, `${v}: ${st.count} symbols`);
      checkVmlinuxSymbols(elf, st, join(v, '..'));
    } finally {
      elf.close();
    }
  }
});
