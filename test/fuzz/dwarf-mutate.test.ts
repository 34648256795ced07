// Seeded mutation test of the DWARF reader (src/elf/dwarf.ts), the section inflater
// (src/elf/compress.ts) and the map's path recovery (src/klp/path-recovery.ts) that uses them.
//
// Inputs: the gcc -g builds of test/helpers/paths-tree.ts (a linked vmlinux and an ld -r module
// whose .debug_info needs .rela.debug_info), plain and with zlib-compressed debug sections.
// Each case flips random bytes inside the debug sections (.debug_info, .debug_abbrev, the string
// sections, .rela.debug_info, compression headers), or sets a unit length, abbreviation offset or
// form to an extreme value, then reads every unit, every unit's addresses and the path table.
// Every step must succeed or throw an ElfFormatError: a RangeError, TypeError or plain Error is
// a reader bug. The test's own timeout catches a hang.
//
// The PRNG is mulberry32 with a fixed seed; KLP_FUZZ_SEED / KLP_FUZZ_CASES explore further.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DwarfInfo, ElfFile, ElfFormatError } from '../../src/elf/index.js';
import { sourceFiles } from '../../src/klp/path-recovery.js';
import { buildPathsTree } from '../helpers/paths-tree.js';
import { haveTool } from '../helpers/symbols-tree.js';
import { mulberry32 } from '../helpers/prng.js';

const SEED = Number(process.env['KLP_FUZZ_SEED'] ?? 0x64776172);
const CASES = Number(process.env['KLP_FUZZ_CASES'] ?? 3000);
const missing = ['gcc', 'ld'].filter((t) => !haveTool(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (apt-get install gcc binutils)` : false;

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** readAll runs everything the map generator asks of the DWARF of one file. */
function readAll(bytes: Uint8Array, name: string): void {
  const elf = ElfFile.parse(bytes, name);
  const dw = DwarfInfo.open(elf);
  if (dw !== undefined) {
    for (const u of dw.units()) {
      dw.codeRanges(u);
      dw.definedAddresses(u);
    }
  }
  if (elf.symtabIndex() !== undefined) {
    const st = elf.symbols();
    sourceFiles(elf, st, (i) => st.name(i), undefined);
  }
}

interface Target {
  name: string;
  bytes: Uint8Array;
  /** [offset, size] of each debug-related section's contents */
  ranges: [number, number][];
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const debug of ['-gdwarf-5', 'zlib']) {
    const root = buildPathsTree(debug);
    roots.push(root);
    for (const f of ['vmlinux', 'drivers/foo/foo.ko']) {
      const bytes = new Uint8Array(readFileSync(join(root, f)));
      const elf = ElfFile.parse(bytes, f);
      const ranges = elf.sections.filter((s) => /^\.(rela\.)?debug_/.test(s.name) && s.sh_size > 0).map((s) => [s.sh_offset, s.sh_size] as [number, number]);
      readAll(bytes, f); // the unmutated file reads cleanly
      out.push({ name: `${debug} ${f}`, bytes, ranges });
    }
  }
  return out;
}

test('the DWARF reader and path recovery survive mutated debug sections with ElfFormatError only', { skip, timeout: 600_000 }, () => {
  const rnd = mulberry32(SEED);
  const ts = targets();
  const outcomes = new Map<string, number>();
  const extremes = [0, 1, 0x7f, 0x80, 0xff];
  for (let k = 0; k < CASES; k++) {
    const t = ts[k % ts.length]!;
    const b = t.bytes.slice();
    const [off, size] = t.ranges[Math.floor(rnd() * t.ranges.length)]!;
    const flips = 1 + Math.floor(rnd() * 4);
    for (let j = 0; j < flips; j++) {
      // half of the flips land in the first 64 bytes: unit headers, the unit DIE, Chdr
      const at = off + Math.floor(rnd() * (rnd() < 0.5 ? Math.min(64, size) : size));
      b[at] = rnd() < 0.5 ? extremes[Math.floor(rnd() * extremes.length)]! : Math.floor(rnd() * 256);
    }
    let outcome = 'ok';
    try {
      readAll(b, t.name);
    } catch (e) {
      if (!(e instanceof ElfFormatError)) {
        assert.fail(`case ${k} (${t.name}, seed 0x${SEED.toString(16)}): ${(e as Error).stack}`);
      }
      outcome = e.code;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const summary = [...outcomes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
  console.log(`# dwarf fuzz seed 0x${SEED.toString(16)}: ${CASES} cases; ${summary}`);
  // the mutations reached the reader's checks, not only its happy path
  assert.ok((outcomes.get('DWARF_MALFORMED') ?? 0) > 0, summary);
  assert.ok((outcomes.get('ok') ?? 0) > 0, summary);
});
