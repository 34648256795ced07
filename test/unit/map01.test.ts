// emitModule01 (src/klp/map01.ts): the 0.1 map's module reader without ElfFile gives the same
// lines as emitModuleElf (the ElfFile path), or, when it does not take a file, leaves it to that
// path, which gives the reader's error. Held to it on every fixture object and on seeded random
// mutations of them (header, section headers, section names, .modinfo, .symtab, .strtab, length).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitModule, emitModuleElf, mapContext, Sink, type ModuleEntry } from '../../src/klp/generate-map.js';
import { emitModule01 } from '../../src/klp/map01.js';
import { NameSort } from '../../src/klp/namesort.js';
import { modinfoHasLivepatch } from '../../src/klp/modinfo.js';
import { ElfFile } from '../../src/elf/index.js';
import { repoRoot } from '../helpers/elf-fixtures.js';

const bin = path.join(repoRoot, 'test', 'fixtures', 'bin');

function fixtures(): string[] {
  const out: string[] = [];
  for (const arch of fs.readdirSync(bin).sort()) {
    for (const f of fs.readdirSync(path.join(bin, arch)).sort()) if (/\.(ko|o)$/.test(f)) out.push(path.join(bin, arch, f));
  }
  return out;
}

type Outcome = { kept: boolean; lines: number; bytes: string } | { error: string };

function run(f: (ctx: ReturnType<typeof mapContext>, m: ModuleEntry, out: Sink) => boolean, file: string): Outcome {
  const ctx = mapContext(path.dirname(file), '0.1');
  const base = path.basename(file).replace(/\.(ko|o)$/, '');
  const m: ModuleEntry = { entry: base + '.o', stem: base, file, base, kname: base };
  const out = new Sink(64);
  try {
    const kept = f(ctx, m, out);
    return { kept, lines: out.lines, bytes: Buffer.from(out.result()).toString('latin1') };
  } catch (e) {
    return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

test('emitModule01 takes every ELF64 little-endian fixture and writes what the ElfFile path writes', () => {
  let taken = 0;
  for (const file of fixtures()) {
    const want = run(emitModuleElf, file);
    assert.deepEqual(run(emitModule, file), want, file);
    const elf = ElfFile.open(file);
    const plain = elf.header.bits === 64 && elf.header.littleEndian;
    elf.close();
    if (!plain) continue;
    const out = new Sink(64);
    const kept = emitModule01(file, 'x', out);
    assert.notEqual(kept, undefined, `${file}: not taken`);
    taken++;
  }
  assert.ok(taken > 50, `${taken} fixtures taken`);
});

test('emitModule01 on mutated modules: the same lines as the ElfFile path, or its error', () => {
  let seed = 20261202;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'map01-'));
  const files = fixtures().filter((f) => {
    const elf = ElfFile.open(f);
    const ok = elf.header.bits === 64 && elf.header.littleEndian;
    elf.close();
    return ok;
  });
  let errors = 0, taken = 0, n = 0;
  try {
    for (const file of files.filter((_, i) => i % 3 === 0)) {
      const orig = fs.readFileSync(file);
      const elf = ElfFile.parse(orig, file);
      const secs = elf.sections;
      const shoff = elf.header.e_shoff;
      const targets = secs.filter((s) => ['.symtab', '.strtab', '.modinfo', '.shstrtab'].includes(s.name));
      for (let round = 0; round < 60; round++) {
        let b = Buffer.from(orig);
        const kind = rnd(6);
        const flips = 1 + rnd(3);
        for (let f = 0; f < flips; f++) {
          let at: number;
          if (kind === 0) at = rnd(64); // ELF header
          else if (kind === 1 && secs.length > 0) at = shoff + rnd(secs.length * 64); // section headers
          else if (kind === 2 && targets.length > 0) {
            const s = targets[rnd(targets.length)]!; // a field of an interesting section's header
            at = s.headerOffset + rnd(64);
          } else if (kind === 3 && targets.length > 0) {
            const s = targets[rnd(targets.length)]!; // its contents
            at = s.sh_offset + rnd(Math.max(1, s.sh_size));
          } else at = rnd(b.length);
          if (at < b.length) b[at] = rnd(4) === 0 ? 0 : rnd(4) === 0 ? 0xff : rnd(256);
        }
        if (kind === 5) b = b.subarray(0, rnd(b.length)); // truncated
        const p = path.join(dir, `m${n++}.ko`);
        fs.writeFileSync(p, b);
        const want = run(emitModuleElf, p);
        assert.deepEqual(run(emitModule, p), want, `${file}, round ${round}`);
        if ('error' in want) errors++;
        if (emitModule01(p, 'x', new Sink(64)) !== undefined) taken++;
        fs.rmSync(p);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // both kinds were seen: mutations the reader rejects, and mutated files emitModule01 took
  assert.ok(errors > 20 && taken > 20, `${errors} errors, ${taken} taken of ${n}`);
});

test('ns_livepatch (NameSort.livepatch) agrees with modinfoHasLivepatch', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const ns = new NameSort(16, 1 << 16);
  const parts = ['livepatch=Y', 'livepatch=', 'livepatch', 'xlivepatch=Y', 'license=GPL', 'alias=pci:v00008086d*', '', 'a=livepatch=Y'];
  let yes = 0;
  for (let round = 0; round < 3000; round++) {
    const strs: string[] = [];
    for (let i = rnd(40); i > 0; i--) strs.push(parts[rnd(parts.length)]!);
    let b = Buffer.from(strs.join('\0') + (rnd(2) === 0 ? '\0' : ''), 'latin1');
    if (rnd(4) === 0) b = b.subarray(0, rnd(b.length + 1)); // cut anywhere
    const at = rnd(64);
    ns.region.fill(rnd(2) === 0 ? 0 : 0x6c, at, at + b.length + 32); // what follows must not count
    b.copy(ns.region, at);
    const want = modinfoHasLivepatch(b);
    assert.equal(ns.livepatch(at, b.length), want, JSON.stringify(b.toString('latin1')));
    if (want) yes++;
  }
  assert.ok(yes > 300 && yes < 2700, `${yes} of 3000 with the key`);
});
