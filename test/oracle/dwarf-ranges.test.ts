// DwarfInfo.codeRanges() in a relocatable file (ld -r, as a kernel module): the code ranges of
// each compile unit, relocated to (section, offset), must hold every function objdump -t places
// in that unit's source and none of another's. Two same-named files each put a function in .text
// and one in .init.text, so their units say DW_AT_ranges (.debug_rnglists in DWARF 5,
// .debug_ranges in DWARF 4, both with relocations); a third has only .text (DW_AT_low_pc /
// DW_AT_high_pc).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DwarfInfo, ElfFile } from '../../src/elf/index.js';
import { haveTool } from '../helpers/symbols-tree.js';

const missing = ['gcc', 'ld', 'objdump'].filter((t) => !haveTool(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (apt-get install gcc binutils)` : false;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'latin1', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const SOURCES: Record<string, string> = {
  'a/u.c': `
__attribute__((noinline, used)) static long u_get(long x) { return x * 3 + 1; }
__attribute__((noinline, used, section(".init.text"))) static long u_init(long x) { return u_get(x) + 5; }
long a_entry(long x) { return u_get(x) + u_init(x); }
`,
  'b/u.c': `
__attribute__((noinline, used)) static long u_get(long x) { return x * 7 + 2; }
__attribute__((noinline, used, section(".init.text"))) static long u_init(long x) { return u_get(x) - 4; }
long b_entry(long x) { return u_get(x) * u_init(x); }
`,
  'c.c': `
__attribute__((noinline, used)) static long c_get(long x) { return x - 9; }
long c_entry(long x) { return c_get(x); }
`,
};

/**
 * functionsBySource lists where each source's functions are in the module (objdump -t): the
 * locals under each FILE entry, in link order, and the globals by their names (x_entry).
 */
function functionsBySource(file: string, cwd: string): Map<string, { section: string; value: bigint }[]> {
  const order = ['a/u.c', 'b/u.c', 'c.c'];
  const out = new Map<string, { section: string; value: bigint }[]>(order.map((o) => [o, []]));
  let group = -1;
  for (const l of run('objdump', ['-t', file], cwd).split('\n')) {
    const m = /^([0-9a-f]{8,16}) (.{7}) (\S+)\s+[0-9a-f]+\s+(\S+)$/.exec(l);
    if (!m) continue;
    const flags = m[2]!, name = m[4]!;
    if (flags[6] === 'f') group++;
    if (flags[6] !== 'F') continue;
    const src = flags[0] === 'l' ? order[group] : order[['a_entry', 'b_entry', 'c_entry'].indexOf(name)];
    assert.ok(src !== undefined, `${name}: which source`);
    out.get(src)!.push({ section: m[3]!, value: BigInt('0x' + m[1]) });
  }
  return out;
}

for (const [label, debug] of [['DWARF 5', '-gdwarf-5'], ['DWARF 4', '-gdwarf-4']] as const) {
  test(`DwarfInfo.codeRanges() of an ld -r module holds each unit's functions: ${label}`, { skip }, () => {
    const root = mkdtempSync(join(tmpdir(), 'klp-dwranges-'));
    roots.push(root);
    for (const [rel, text] of Object.entries(SOURCES)) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
      run('gcc', ['-O2', debug, '-fno-asynchronous-unwind-tables', '-c', '-o', rel.replace(/\.c$/, '.o'), rel], root);
    }
    run('ld', ['-r', '-o', 'm.ko', 'a/u.o', 'b/u.o', 'c.o'], root);
    const file = join(root, 'm.ko');
    const want = functionsBySource(file, root);
    assert.deepEqual([...want.values()].map((f) => f.length), [3, 3, 2], 'functions per source');
    const elf = ElfFile.open(file);
    try {
      const dw = DwarfInfo.open(elf);
      assert.ok(dw, 'has .debug_info');
      const units = dw.units().filter((u) => u.tag === 0x11);
      assert.deepEqual(units.map((u) => u.name), ['a/u.c', 'b/u.c', 'c.c']);
      const inRanges = (u: (typeof units)[number], f: { section: string; value: bigint }): boolean =>
        dw.codeRanges(u)!.some((r) => r.section >= 0 && elf.section(r.section).name === f.section && r.start <= f.value && f.value < r.end);
      for (const u of units) {
        const ranges = dw.codeRanges(u);
        assert.ok(ranges !== undefined && ranges.length > 0, `${u.name}: code ranges`);
        if (u.name !== 'c.c') assert.equal(new Set(ranges.map((r) => r.section)).size, 2, `${u.name}: ranges in two sections (DW_AT_ranges)`);
        for (const [src, fns] of want) {
          for (const f of fns) assert.equal(inRanges(u, f), src === u.name, `${src} ${f.section}+0x${f.value.toString(16)} in ${u.name}'s ranges`);
        }
      }
    } finally {
      elf.close();
    }
  });
}
