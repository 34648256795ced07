// Modules whose headers were damaged the way a tester damaged them: each is refused by convert,
// check and dump with a message that says where, never converted into a module that loads wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElfFile } from '../../src/elf/index.js';
import { cli, fixture, tmp } from '../helpers/klp-world.js';

const symbols = fixture('x86_64', 'symbols.klp');
const lpMain = fixture('x86_64', 'lp_main.ko');

/** mutated writes lp_main.ko (or `from`) with `edit` applied to its bytes and returns the path */
function mutated(name: string, edit: (b: Buffer, elf: ElfFile) => void, from = lpMain): string {
  const b = Buffer.from(readFileSync(from));
  edit(b, ElfFile.parse(readFileSync(from), from));
  const out = join(tmp('klpmal-'), name);
  writeFileSync(out, b);
  return out;
}

/** the section header field at `off` (ELF64 layout) of the first section called `name` */
function shdr(elf: ElfFile, name: string, off: number): number {
  return elf.findSection(name)!.headerOffset + off;
}

test('a relocation section linked to itself is refused by convert, check and dump (exit 65), naming it and the symtab', () => {
  const f = mutated('rela4_linkself.ko', (b, e) => b.writeUInt32LE(4, shdr(e, '.rela.rodata', 40)));
  const st = ElfFile.parse(readFileSync(lpMain)).symtabIndex()!;
  const out = join(tmp('klpmal-'), 'r4.ko');
  for (const args of [['convert', '--symbols', symbols, f, '-o', out], ['check', '--symbols', symbols, f], ['dump', f]]) {
    const r = cli(args);
    assert.equal(r.status, 65, `${args[0]}: ${r.stderr}${r.stdout.slice(0, 300)}`);
    assert.match(r.stderr, new RegExp(`section 4 '\\.rela\\.rodata': sh_link 4 names section 4 '\\.rela\\.rodata', not the symbol table.*section ${st} '\\.symtab': set sh_link to ${st}`));
    assert.ok(r.stderr.includes(f), r.stderr);
  }
});

test('a relocation section whose sh_info names no section is refused (exit 65)', () => {
  const n = ElfFile.parse(readFileSync(lpMain)).sectionCount;
  const f = mutated('rela_info_oob.ko', (b, e) => b.writeUInt32LE(n + 3, shdr(e, '.rela.data', 44)));
  // convert's editor range-checked sh_info before; check and dump skipped the section
  for (const args of [['convert', '--symbols', symbols, f, '-o', join(tmp('klpmal-'), 'x.ko')], ['check', '--symbols', symbols, f], ['dump', '-r', f]]) {
    const r = cli(args);
    assert.equal(r.status, 65, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`section 8 '\\.rela\\.data': sh_info ${n + 3} is out of range \\(${n} sections\\)`));
  }
});

test('a second SHT_SYMTAB is refused (exit 65)', () => {
  const f = mutated('two_symtabs.ko', (b, e) => b.writeUInt32LE(2, shdr(e, '.comment', 4)));
  const r = cli(['check', '--symbols', symbols, f]);
  assert.equal(r.status, 65, r.stderr);
  assert.match(r.stderr, /is a second SHT_SYMTAB \(the first is section \d+ '\.comment'\)|section \d+ '\.symtab' is a second SHT_SYMTAB/);
});

test('an already converted module (klp sections link the symtab) still checks and dumps', () => {
  const out = join(tmp('klpmal-'), 'ok.ko');
  assert.equal(cli(['convert', '--symbols', symbols, lpMain, '-o', out]).status, 0);
  assert.equal(cli(['check', '--symbols', symbols, out]).status, 0);
  assert.equal(cli(['dump', '-r', out]).status, 0);
});

test('convert and check refuse e_machine EM_NONE: no relocation rules for it', () => {
  const f = mutated('em0.ko', (b) => b.writeUInt16LE(0, 18));
  const r = cli(['convert', '--symbols', symbols, f, '-o', join(tmp('klpmal-'), 'a.ko')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /em0\.ko: e_machine 0 \(EM_NONE, no machine\) is not a machine klp-convert has relocation rules for/);
  const out = join(tmp('klpmal-'), 'ok.ko');
  assert.equal(cli(['convert', '--symbols', symbols, lpMain, '-o', out]).status, 0);
  const c = cli(['check', '--symbols', symbols, mutated('ok_em0.ko', (b) => b.writeUInt16LE(0, 18), out)]);
  assert.equal(c.status, 1, c.stderr);
  assert.match(c.stderr, /e_machine 0 \(EM_NONE/);
});

test('an x86_64 module marked aarch64 is refused: its relocation types are ILP32 numbers, not ELF64 AArch64 ones', () => {
  const f = mutated('em183.ko', (b) => b.writeUInt16LE(183, 18));
  const r = cli(['convert', '--symbols', symbols, f, '-o', join(tmp('klpmal-'), 'b.ko')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /\.text\+0x2e: R_AARCH64_P32_ABS16 against 'saved_command_line' is not a relocation type of this machine for ELF64 \(e_machine 183\)/);
});
