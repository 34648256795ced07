// `klp-convert dump`: the livepatch names it decodes, its selectors and JSON, its laziness,
// and its exit codes (65 with file and byte offset for a malformed file, 64 for usage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ElfEditor, ElfFile, SHN_UNDEF, STB_GLOBAL, STT_NOTYPE, stInfo, relocTypeName, EM_X86_64, EM_AARCH64, type ByteSource,
} from '../../src/elf/index.js';
import { SHF_RELA_LIVEPATCH, SHN_LIVEPATCH } from '../../src/klp/constants.js';
import { buildDump, formatJson, formatText, ndxName, sectionFlagNames } from '../../src/cli/commands/dump.js';
import { elfFixtures, repoRoot } from '../helpers/elf-fixtures.js';

const main = join(repoRoot, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'klp-dump-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'dump', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const fixtures = elfFixtures();
const CORPUS_VMLINUX = process.env['KLP_VMLINUX'] ?? '/root/.cache/klp-corpus/cloud/tree/vmlinux';
const x86 = fixtures.find((f) => f.name === 'x86_64/lp_basic.o') ?? fixtures.find((f) => f.name.endsWith('.o'))!;

test('sectionFlagNames decodes SHF_RELA_LIVEPATCH by name and leftovers in hex', () => {
  assert.equal(sectionFlagNames(0x00100042n), 'SHF_ALLOC+SHF_INFO_LINK+SHF_RELA_LIVEPATCH');
  assert.equal(sectionFlagNames(0x6n), 'SHF_ALLOC+SHF_EXECINSTR');
  assert.equal(sectionFlagNames(0x80000002n), 'SHF_ALLOC+0x80000000');
  assert.equal(sectionFlagNames(0n), '0');
});

test('ndxName prints SHN_LIVEPATCH, the usual readelf abbreviations and other reserved ranges', () => {
  assert.equal(ndxName(SHN_LIVEPATCH, -1), 'SHN_LIVEPATCH');
  assert.equal(ndxName(0, -1), 'UND');
  assert.equal(ndxName(0xfff1, -1), 'ABS');
  assert.equal(ndxName(0xfff2, -1), 'COM');
  assert.equal(ndxName(0xff21, -1), 'SHN_LOOS+0x1');
  assert.equal(ndxName(0xff01, -1), 'SHN_LOPROC+0x1');
  assert.equal(ndxName(7, 7), '7');
  assert.equal(ndxName(0xffff, 70000), '70000');
});

test('relocTypeName prints unknown numbers in hex', () => {
  assert.equal(relocTypeName(EM_X86_64, 2), 'R_X86_64_PC32');
  assert.equal(relocTypeName(EM_X86_64, 0x7f), 'R_X86_64_0x7f');
  assert.equal(relocTypeName(EM_AARCH64, 283), 'R_AARCH64_CALL26');
  assert.equal(relocTypeName(9999, 1), 'R_9999_0x1');
});

test('dump shows a converted-looking module with SHF_RELA_LIVEPATCH and SHN_LIVEPATCH', () => {
  const elf = ElfFile.parse(x86.bytes(), x86.name);
  const ed = new ElfEditor(elf);
  const sym = ed.addSymbol({ name: '.klp.sym.vmlinux.saved_command_line,0', info: stInfo(STB_GLOBAL, STT_NOTYPE), shndx: SHN_UNDEF });
  ed.setSymbolShndx(sym, SHN_LIVEPATCH);
  const text = elf.sections.find((s) => s.name === '.text')!.index;
  const k = ed.createRelaSection('.klp.rela.vmlinux..text', text, BigInt(SHF_RELA_LIVEPATCH | 0x2));
  ed.relocations(k).push({ offset: 4n, sym, type: 2, addend: -4n });
  const p = join(tmp, 'klp.o');
  writeFileSync(p, ed.write());
  const r = cli(p);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\.klp\.rela\.vmlinux\.\.text +SHT_RELA .* SHF_ALLOC\+SHF_INFO_LINK\+SHF_RELA_LIVEPATCH/);
  assert.match(r.stdout, /GLOBAL DEFAULT +SHN_LIVEPATCH \.klp\.sym\.vmlinux\.saved_command_line,0/);
  assert.match(r.stdout, /Relocation section '\.klp\.rela\.vmlinux\.\.text' \(section \d+, SHF_RELA_LIVEPATCH\)/);
  assert.match(r.stdout, /R_X86_64_PC32 +0+ +\.klp\.sym\.vmlinux\.saved_command_line,0 - 4/);
  const j = JSON.parse(cli('--json', p).stdout);
  const doc = j.files[0];
  const sec = doc.sections.find((s: { name: string }) => s.name === '.klp.rela.vmlinux..text');
  assert.equal(sec.flags, '0x100042');
  assert.equal(sec.flagNames, 'SHF_ALLOC+SHF_INFO_LINK+SHF_RELA_LIVEPATCH');
  const s = doc.symtabs[0].symbols.at(-1);
  assert.equal(s.shndx, 0xff20);
  assert.equal(s.ndx, 'SHN_LIVEPATCH');
  const rel = doc.relocations.find((x: { name: string }) => x.name === '.klp.rela.vmlinux..text');
  assert.equal(rel.livepatch, true);
  assert.deepEqual(rel.relocs[0], { offset: '0x4', info: `0x${((BigInt(sym) << 32n) | 2n).toString(16)}`, type: 2, typeName: 'R_X86_64_PC32', sym, symValue: '0x0', symName: '.klp.sym.vmlinux.saved_command_line,0', addend: '-0x4' });
});

test('dump selectors -S, -s, -r list only what they name; --json is one document for all files', () => {
  const r = cli('-S', x86.path);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Sections:/m);
  assert.doesNotMatch(r.stdout, /Symbol table|Relocation section/);
  const s = cli('--symbols', '-r', x86.path);
  assert.doesNotMatch(s.stdout, /^Sections:/m);
  assert.match(s.stdout, /Symbol table/);
  assert.match(s.stdout, /Relocation section/);
  const j = JSON.parse(cli('--json', '-Ss', x86.path, x86.path).stdout);
  assert.equal(j.files.length, 2);
  assert.ok(Array.isArray(j.files[0].sections) && Array.isArray(j.files[0].symtabs));
  assert.equal(j.files[0].relocations, undefined);
});

test('dump exits 65 with file and byte offset on a malformed file, and goes on with the next', () => {
  const bytes = x86.bytes();
  const p = join(tmp, 'trunc.o');
  writeFileSync(p, bytes.subarray(0, bytes.length - 10));
  const r = cli(p, x86.path);
  assert.equal(r.status, 65);
  assert.match(r.stderr, new RegExp(`klp-convert: error: ${p.replace(/[.]/g, '\\.')}: at byte 0x[0-9a-f]+: section header table`));
  assert.match(r.stdout, new RegExp(`File: ${x86.path.replace(/[.]/g, '\\.')}`));
  const j = JSON.parse(cli('--json', p).stdout);
  assert.equal(j.files[0].error.code, 'ELF_SHDR_PAST_EOF');
  assert.equal(typeof j.files[0].error.offset, 'number');
});

test('dump usage errors exit 64, a missing file 66', () => {
  assert.equal(cli().status, 64);
  assert.equal(cli('--bogus', x86.path).status, 64);
  assert.equal(cli('-Z', x86.path).status, 64);
  assert.equal(cli(join(tmp, 'missing.o')).status, 66);
});

class CountingSource implements ByteSource {
  readonly size: number;
  bytesRead = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    this.bytesRead += length;
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

test('dump -S reads only the headers and the section name table', () => {
  const f = fixtures.find((x) => x.name.endsWith('/vmlinux')) ?? x86;
  const bytes = f.bytes();
  const src = new CountingSource(bytes);
  const elf = ElfFile.fromSource(src, f.name);
  formatText(buildDump(elf, { sections: true, symbols: false, relocs: false }));
  const h = elf.header;
  // + up to 4 KiB read just before the section header table, in the same read: where linkers put
  // the section name table (read.ts, NEARBY)
  const budget = 16 + (h.bits === 64 ? 64 : 52) + h.shnum * h.e_shentsize + elf.section(h.shstrndx).sh_size + (h.e_shnum === 0 ? h.e_shentsize : 0) + 4096;
  assert.ok(src.bytesRead <= budget, `read ${src.bytesRead} bytes, budget ${budget} (file ${bytes.length})`);
  // symbols read .symtab and .strtab, not the other sections
  const src2 = new CountingSource(bytes);
  const elf2 = ElfFile.fromSource(src2, f.name);
  formatJson([buildDump(elf2, { sections: false, symbols: true, relocs: false })]);
  const st = elf2.section(elf2.symtabIndex()!);
  assert.ok(src2.bytesRead <= budget + st.sh_size + elf2.section(st.sh_link).sh_size);
});

test('dump on a large debug vmlinux stays lazy (when the corpus is present)', { skip: existsSync(CORPUS_VMLINUX) ? false : 'no corpus vmlinux' }, () => {
  const t0 = Date.now();
  const r = cli('-S', CORPUS_VMLINUX);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /\.symtab/);
  assert.ok(Date.now() - t0 < 5000);
});
