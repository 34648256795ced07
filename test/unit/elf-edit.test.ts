// Edit operations of ElfEditor, each checked four ways on its output: the structural validator
// (test/helpers/validate-elf.ts), GNU readelf (no warnings, and its listing agrees with our
// dump), our own reader re-reading it, and the property the edit promised (a name, an index,
// every relocation still naming the same symbol). On x86_64 the edited object is also linked
// into a program with gcc and run.
//
// Edit kinds: rename a symbol; st_shndx to SHN_LIVEPATCH (0xff20) and to SHN_ABS; append a
// global; append a LOCAL (the first global moves, .symtab sh_info and every r_info follow);
// create a RELA section for a base section and move relocations into it; set a relocation to
// the machine's NONE type; remove sections and symbols with renumbering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir, arch } from 'node:os';
import { join } from 'node:path';
import {
  ElfEditor, ElfFile, ET_REL, SHN_ABS, SHN_UNDEF, SHT_REL, SHT_RELA, STB_GLOBAL, STB_LOCAL, STT_FILE, STT_FUNC,
  STT_NOTYPE, STT_OBJECT, stInfo, relocNoneType,
} from '../../src/elf/index.js';
import { SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from '../../src/klp/constants.js';
import { buildDump } from '../../src/cli/commands/dump.js';
import { elfFixtures, repoRoot } from '../helpers/elf-fixtures.js';
import { haveReadelf, readelf, readelfWarnings } from '../helpers/readelf.js';
import { compareWithReadelf } from '../helpers/dump-vs-readelf.js';
import { validateElf } from '../helpers/validate-elf.js';

const tmp = mkdtempSync(join(tmpdir(), 'klp-elf-edit-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

/**
 * checkOutput runs the validator, readelf and our reader on edited bytes and returns the re-read
 * file. readelf costs a process per call, so the per-fixture edits ask it for a sample of the
 * fixtures (the first few of each architecture; KLP_FULL_ORACLE=1 for all of them).
 */
function checkOutput(bytes: Uint8Array, what: string, withReadelf = true): ElfFile {
  assert.deepEqual(validateElf(bytes, what), [], `${what}: validator`);
  const elf = ElfFile.parse(bytes, what);
  const doc = buildDump(elf, { sections: true, symbols: true, relocs: true });
  if (withReadelf && haveReadelf()) {
    const p = join(tmp, `out${seq++}.o`);
    writeFileSync(p, bytes);
    const re = readelf(p);
    const complaints = [...re.stderr.split('\n').filter((l) => l.trim() !== ''), ...(re.status !== 0 ? [`exit ${re.status}`] : [])];
    assert.deepEqual(complaints, [], `${what}: readelf complained`);
    compareWithReadelf(doc, re, what);
    rmSync(p);
  }
  return elf;
}

/** relocNames lists every relocation as "section+offset type -> symbol name" (section by name). */
function relocNames(elf: ElfFile): string[] {
  const out: string[] = [];
  for (const s of elf.sections) {
    if (s.sh_type !== SHT_REL && s.sh_type !== SHT_RELA) continue;
    const r = elf.relocations(s.index);
    const t = elf.symbols(s.sh_link);
    for (let i = 0; i < r.count; i++) {
      out.push(`${elf.sections[s.sh_info]?.name}+0x${r.offset(i).toString(16)} ${r.type(i)} ${r.sym(i) === 0 ? '' : t.name(r.sym(i))}+${r.addend(i)}`);
    }
  }
  return out.sort();
}

function firstWhere(elf: ElfFile, pred: (i: number) => boolean): number | undefined {
  const t = elf.symbols();
  for (let i = 1; i < t.count; i++) if (pred(i)) return i;
  return undefined;
}

const editable = elfFixtures().filter((f) => {
  const e = ElfFile.parse(f.bytes(), f.name);
  return e.header.e_type === ET_REL && e.symtabIndex() !== undefined;
});

const sampled = new Map<string, number>();
for (const f of editable) {
  const arch = f.name.split('/').slice(-2, -1)[0] ?? '';
  sampled.set(arch, (sampled.get(arch) ?? 0) + 1);
  const oracle = process.env['KLP_FULL_ORACLE'] === '1' || sampled.get(arch)! <= 6;
  test(`edits of ${f.name}${oracle ? ' (with readelf)' : ''}`, async (t) => {
    const check = (b: Uint8Array, what: string) => checkOutput(b, what, oracle);
    const bytes = f.bytes();
    const orig = ElfFile.parse(bytes, f.name);
    const symtab = orig.symbols();
    const before = relocNames(orig);

    await t.test('rename a defined global symbol', () => {
      const i = firstWhere(orig, (k) => symtab.bind(k) !== STB_LOCAL && !symtab.isUndef(k)) ?? firstWhere(orig, (k) => symtab.bind(k) !== STB_LOCAL);
      if (i === undefined) return;
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      const name = `${symtab.name(i)}.renamed_by_test`;
      ed.renameSymbol(i, name);
      const out = check(ed.write(), `${f.name} rename`);
      assert.equal(out.symbols().name(i), name);
      assert.equal(out.symbols().count, symtab.count);
    });

    await t.test('set st_shndx to SHN_LIVEPATCH and to SHN_ABS', () => {
      const i = firstWhere(orig, (k) => symtab.isUndef(k) && symtab.bind(k) !== STB_LOCAL) ?? firstWhere(orig, (k) => symtab.bind(k) !== STB_LOCAL);
      if (i === undefined) return;
      for (const v of [SHN_LIVEPATCH, SHN_ABS]) {
        const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
        ed.setSymbolShndx(i, v);
        const out = check(ed.write(), `${f.name} st_shndx 0x${v.toString(16)}`);
        assert.equal(out.symbols().shndx[i], v);
        assert.equal(out.symbols().name(i), symtab.name(i));
        const doc = buildDump(out, { sections: false, symbols: true, relocs: false });
        assert.equal(doc.symtabs![0]!.symbols[i]!.ndx, v === SHN_ABS ? 'ABS' : 'SHN_LIVEPATCH');
      }
    });

    await t.test('append a global symbol', () => {
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      const i = ed.addSymbol({ name: 'appended_global', info: stInfo(STB_GLOBAL, STT_NOTYPE), shndx: SHN_UNDEF });
      assert.equal(i, symtab.count);
      const out = check(ed.write(), `${f.name} append global`);
      assert.equal(out.symbols().name(i), 'appended_global');
      assert.deepEqual(relocNames(out), before);
    });

    await t.test('append a LOCAL symbol: sh_info moves, relocations keep their symbols', () => {
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      const i = ed.addSymbol({ name: 'appended_local', info: stInfo(STB_LOCAL, STT_OBJECT), shndx: SHN_ABS, value: 0x1234n });
      const out = check(ed.write(), `${f.name} append local`);
      const st = out.section(out.symtabIndex()!);
      assert.equal(st.sh_info, orig.section(orig.symtabIndex()!).sh_info + 1);
      assert.equal(i, st.sh_info - 1);
      assert.equal(out.symbols().name(i), 'appended_local');
      assert.equal(out.symbols().value(i), 0x1234n);
      assert.deepEqual(relocNames(out), before);
    });

    await t.test('create a RELA section and move relocations into it', () => {
      const rs = orig.sections.find((s) => (s.sh_type === SHT_RELA || s.sh_type === SHT_REL) && s.sh_size >= 2 * s.sh_entsize && s.sh_info !== 0);
      if (rs === undefined) return;
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      const k = ed.createRelaSection(`.klp.rela.test.${orig.sections[rs.sh_info]!.name.replace(/^\./, '')}`, rs.sh_info, BigInt(SHF_RELA_LIVEPATCH));
      const from = ed.relocations(rs.index);
      const moved = from.splice(Math.floor(from.length / 2));
      ed.relocations(k).push(...moved);
      const out = check(ed.write(), `${f.name} move relocations`);
      assert.equal(out.relocations(k).count, moved.length);
      assert.equal(out.section(k).sh_info, rs.sh_info);
      assert.ok((out.section(k).sh_flags & BigInt(SHF_RELA_LIVEPATCH)) !== 0n);
      assert.equal(out.relocations(rs.index).count + moved.length, orig.relocations(rs.index).count);
      if (rs.sh_type === SHT_RELA) assert.deepEqual(relocNames(out), before);
    });

    await t.test("set a relocation to the machine's NONE type", () => {
      const rs = orig.sections.find((s) => (s.sh_type === SHT_RELA || s.sh_type === SHT_REL) && s.sh_size > 0);
      if (rs === undefined) return;
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      ed.setRelocNone(rs.index, 0);
      const out = check(ed.write(), `${f.name} NONE`);
      const r = out.relocations(rs.index);
      assert.equal(r.type(0), relocNoneType(orig.header.e_machine));
      assert.equal(r.sym(0), 0);
      assert.equal(r.count, orig.relocations(rs.index).count);
    });

    await t.test('remove sections and symbols with renumbering', () => {
      const ed = new ElfEditor(ElfFile.parse(bytes, f.name));
      const gone = ['.comment', '.note.GNU-stack'].map((n) => orig.findSection(n)?.index).filter((x): x is number => x !== undefined);
      const fileSym = firstWhere(orig, (k) => symtab.type(k) === STT_FILE);
      if (fileSym !== undefined) ed.removeSymbols([fileSym]);
      ed.removeSections(gone);
      const out = check(ed.write(), `${f.name} remove`);
      assert.equal(out.sections.length, orig.sections.length - gone.length);
      let secSyms = 0; // STT_SECTION symbols of removed sections go with them
      for (let k = 1; k < symtab.count; k++) if (symtab.type(k) === 3 && gone.includes(symtab.sectionIndex(k))) secSyms++;
      assert.equal(out.symbols().count, symtab.count - (fileSym === undefined ? 0 : 1) - secSyms);
      for (const n of ['.comment', '.note.GNU-stack']) assert.equal(out.findSection(n), undefined);
      assert.deepEqual(relocNames(out), before);
      // every remaining section kept its name and contents
      for (const s of out.sections) {
        const o = orig.findSection(s.name);
        assert.ok(o !== undefined, s.name);
        if (s.sh_type !== SHT_RELA && s.sh_type !== SHT_REL && s.index !== out.symtabIndex() && s.name !== '.strtab' && s.name !== '.shstrtab' && s.name !== '.group') {
          assert.ok(Buffer.compare(out.data(s.index), orig.data(o.index)) === 0, `contents of ${s.name}`);
        }
      }
    });
  });
}

// ---- extended section numbering ---------------------------------------------------------------

function haveTool(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
}

test('extended numbering: > 65,280 sections parse, round-trip and edit', { skip: haveTool('gcc') ? false : 'gcc not found' }, () => {
  const dir = join(tmp, 'many');
  const script = join(repoRoot, 'test/fixtures/gen-many-sections.sh');
  let obj: string;
  if (existsSync(script)) {
    const r = spawnSync('bash', [script, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    obj = r.stdout.trim().split('\n').at(-1)!;
  } else {
    // fallback: the same shape written here (one section per function, a few references)
    const lines = ['\t.text'];
    for (let i = 0; i < 66000; i++) lines.push(`\t.section .text.f${i},"ax",@progbits`, `\t.globl f${i}`, `f${i}:`, i >= 65990 ? '\tcall ext_fn' : '\tret');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'many.s'), lines.join('\n') + '\n');
    obj = join(dir, 'many.o');
    const r = spawnSync('gcc', ['-c', join(dir, 'many.s'), '-o', obj], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  const bytes = new Uint8Array(readFileSync(obj));
  const elf = ElfFile.parse(bytes, obj);
  assert.equal(elf.header.e_shnum, 0);
  assert.ok(elf.header.shnum > 65280, `shnum ${elf.header.shnum}`);
  assert.ok(elf.sections.some((s) => s.sh_type === 18), 'SHT_SYMTAB_SHNDX present');
  for (const opts of [{}, { reencodeAll: true }]) {
    assert.ok(Buffer.compare(new ElfEditor(ElfFile.parse(bytes, obj)).write(opts), bytes) === 0, `round trip ${JSON.stringify(opts)}`);
  }
  const before = relocNames(elf);
  const sym = elf.symbols();
  // a symbol in a section above SHN_LORESERVE
  let high = -1;
  for (let i = 1; i < sym.count; i++) if (sym.shndx[i] === 0xffff && sym.type(i) !== 3) { high = i; break; }
  assert.ok(high > 0, 'a symbol uses SHN_XINDEX');
  const rs = elf.sections.filter((s) => s.sh_type === SHT_RELA && s.sh_info >= 0xff00 && s.sh_size > 0).at(-1)!;
  assert.ok(rs !== undefined, 'a relocation section for a section above 0xff00');
  const ed = new ElfEditor(ElfFile.parse(bytes, obj));
  // remove a low section (and its function symbol): every section index above it, including
  // those past SHN_LORESERVE held in SHT_SYMTAB_SHNDX, moves down by one
  const f0Sec = elf.findSection('.text.f0')!.index;
  ed.removeSymbols([ed.symbols.findIndex((x) => x.name === 'f0')]);
  ed.removeSections([f0Sec]);
  const hi = ed.symbols.findIndex((x) => x.name === sym.name(high));
  ed.renameSymbol(hi, 'renamed_high');
  const loc = ed.addSymbol({ name: 'new_local', info: stInfo(STB_LOCAL, STT_FUNC), shndx: 0 });
  ed.setSymbolSection(loc, ed.symbolSection(hi + 1)); // the global moved up by one
  const k = ed.createRelaSection('.klp.rela.vmlinux.high', rs.sh_info - 1, BigInt(SHF_RELA_LIVEPATCH));
  ed.relocations(k).push(...ed.relocations(rs.index - 1).splice(0));
  const out = ed.write();
  assert.deepEqual(validateElf(out, 'many edited'), []);
  const re = ElfFile.parse(out, 'many edited');
  assert.equal(re.header.e_shnum, 0);
  assert.equal(re.sections.length, elf.sections.length);
  const t2 = re.symbols();
  let renamed = -1;
  for (let i = 1; i < t2.count; i++) if (t2.name(i) === 'renamed_high') renamed = i;
  assert.ok(renamed > 0);
  assert.equal(t2.sectionIndex(renamed), sym.sectionIndex(high) - 1);
  assert.equal(re.sections[t2.sectionIndex(renamed)]!.name, elf.sections[sym.sectionIndex(high)]!.name);
  assert.equal(t2.sectionIndex(loc), t2.sectionIndex(renamed));
  assert.equal(re.relocations(k).count, elf.relocations(rs.index).count);
  assert.deepEqual(relocNames(re).map((x) => x.replace('renamed_high', sym.name(high))), before);
  if (haveReadelf()) {
    const p = join(tmp, 'many-edited.o');
    writeFileSync(p, out);
    assert.equal(readelfWarnings(p, ['-S', '-s', '-r']), '');
  }
});


// ---- x86_64: link the edited object into a program and run it ------------------------------

const LIB_C = `
int helper_value(void) { return 42; }
int call_helper(void) { return helper_value() + 1; }
extern char abs_target[];
long get_abs(void) { return (long)abs_target; }
int unused_fn(void) { return helper_value() * 2; }
const char *greeting(void) { return "hello"; }
`;
const MAIN_C = `
#include <stdio.h>
extern int call_helper(void);
extern long get_abs(void);
extern const char *greeting(void);
int main(void) { printf("%d %s 0x%lx\\n", call_helper(), greeting(), get_abs()); return 0; }
`;

const canLink = arch() === 'x64' && haveTool('gcc');

function buildAndRun(libBytes: Uint8Array, what: string, extraLd: string[] = []): string {
  const d = mkdtempSync(join(tmp, 'link-'));
  writeFileSync(join(d, 'main.c'), MAIN_C);
  writeFileSync(join(d, 'lib.o'), libBytes);
  const cc = spawnSync('gcc', ['-no-pie', '-o', join(d, 'prog'), join(d, 'main.c'), join(d, 'lib.o'), ...extraLd], { encoding: 'utf8' });
  assert.equal(cc.status, 0, `${what}: link failed:\n${cc.stderr}`);
  const run = spawnSync(join(d, 'prog'), [], { encoding: 'utf8' });
  assert.equal(run.status, 0, `${what}: program failed: ${run.stderr}`);
  return run.stdout;
}

test('x86_64: edited objects link into a program that still runs', { skip: canLink ? false : 'needs gcc on x86_64' }, async (t) => {
  const d = mkdtempSync(join(tmp, 'lib-'));
  writeFileSync(join(d, 'lib.c'), LIB_C);
  // gcc -O0 -ffunction-sections -fno-asynchronous-unwind-tables -fno-pic -c lib.c
  const cc = spawnSync('gcc', ['-O0', '-ffunction-sections', '-fno-asynchronous-unwind-tables', '-fno-pic', '-c', join(d, 'lib.c'), '-o', join(d, 'lib.o')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const lib = new Uint8Array(readFileSync(join(d, 'lib.o')));
  const abs = ['-Wl,--defsym=abs_target=0x4321'];
  const symIndex = (elf: ElfFile, name: string): number => {
    const s = elf.symbols();
    for (let i = 1; i < s.count; i++) if (s.name(i) === name) return i;
    throw new Error(`no symbol ${name}`);
  };
  const relocTo = (ed: ElfEditor, secName: string, sym: number) => {
    const idx = ed.findSection(secName)!;
    const list = ed.relocations(idx);
    const r = list.find((x) => x.sym === sym);
    assert.ok(r, `a relocation in ${secName} against symbol ${sym}`);
    return r;
  };

  await t.test('unedited', () => {
    assert.equal(buildAndRun(lib, 'unedited', abs), '43 hello 0x4321\n');
  });

  await t.test('rename a symbol that relocations still reach by index', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    ed.renameSymbol(symIndex(elf, 'helper_value'), 'helper_value_renamed');
    const out = ed.write();
    checkOutput(out, 'link rename');
    assert.equal(buildAndRun(out, 'rename', abs), '43 hello 0x4321\n');
  });

  await t.test('st_shndx to SHN_ABS defines an absolute symbol', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    const i = symIndex(elf, 'abs_target');
    ed.setSymbolShndx(i, SHN_ABS);
    ed.symbols[i]!.value = 0x1234n; // no setter for st_value; the model is mutable and the table is already dirty
    const out = ed.write();
    checkOutput(out, 'link abs');
    assert.equal(buildAndRun(out, 'abs'), '43 hello 0x1234\n');
  });

  await t.test('append a global and point a relocation at it', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    const hv = symIndex(elf, 'helper_value');
    const g = ed.addSymbol({ name: 'helper_alias', info: stInfo(STB_GLOBAL, STT_FUNC), shndx: ed.symbols[hv]!.shndx, value: ed.symbols[hv]!.value });
    relocTo(ed, '.rela.text.call_helper', hv).sym = g;
    const out = ed.write();
    checkOutput(out, 'link append global');
    assert.equal(buildAndRun(out, 'append global', abs), '43 hello 0x4321\n');
  });

  await t.test('append a LOCAL and point a relocation at it', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    const hv = symIndex(elf, 'helper_value');
    const l = ed.addSymbol({ name: 'helper_local', info: stInfo(STB_LOCAL, STT_FUNC), shndx: ed.symbols[hv]!.shndx, value: ed.symbols[hv]!.value });
    relocTo(ed, '.rela.text.call_helper', hv + 1).sym = l; // helper_value moved up by one
    const out = ed.write();
    const re = checkOutput(out, 'link append local');
    assert.equal(re.symbols().name(hv + 1), 'helper_value');
    assert.equal(buildAndRun(out, 'append local', abs), '43 hello 0x4321\n');
  });

  await t.test('move all relocations of a section into a new RELA section and drop the old one', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    const old = ed.findSection('.rela.text.call_helper')!;
    const base = ed.findSection('.text.call_helper')!;
    const k = ed.createRelaSection('.rela.moved.call_helper', base);
    ed.relocations(k).push(...ed.relocations(old).splice(0));
    ed.removeSections([old]);
    const out = ed.write();
    const re = checkOutput(out, 'link move');
    assert.equal(re.findSection('.rela.text.call_helper'), undefined);
    assert.equal(re.relocations(re.findSection('.rela.moved.call_helper')!.index).count, elf.relocations(old).count);
    assert.equal(buildAndRun(out, 'move', abs), '43 hello 0x4321\n');
  });

  await t.test('set a relocation in an unused function to R_X86_64_NONE', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    ed.setRelocNone(ed.findSection('.rela.text.unused_fn')!, 0);
    const out = ed.write();
    const re = checkOutput(out, 'link none');
    assert.equal(re.relocations(re.findSection('.rela.text.unused_fn')!.index).type(0), 0);
    assert.equal(buildAndRun(out, 'none', abs), '43 hello 0x4321\n');
  });

  await t.test('remove a function, its sections and symbol, with renumbering', () => {
    const elf = ElfFile.parse(lib);
    const ed = new ElfEditor(elf);
    ed.removeSymbols([symIndex(elf, 'unused_fn')]);
    ed.removeSections(['.text.unused_fn', '.rela.text.unused_fn', '.comment'].map((n) => ed.findSection(n)!));
    const out = ed.write();
    const re = checkOutput(out, 'link remove');
    assert.equal(re.findSection('.text.unused_fn'), undefined);
    assert.equal(re.sections.length, elf.sections.length - 3);
    assert.equal(buildAndRun(out, 'remove', abs), '43 hello 0x4321\n');
  });
});
