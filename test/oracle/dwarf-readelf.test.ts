// The DWARF reader (src/elf/dwarf.ts) against readelf --debug-dump=info on gcc -g builds
// (test/helpers/paths-tree.ts): every compile unit's version, DW_AT_name and DW_AT_comp_dir, in
// a linked file and in an ld -r module (whose fields need .rela.debug_info), for DWARF 4, 5 and
// zlib-compressed DWARF 5; and the same answers when the module's relocations are out of order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DwarfInfo, ElfFile, SHT_RELA } from '../../src/elf/index.js';
import { buildPathsTree } from '../helpers/paths-tree.js';
import { haveTool } from '../helpers/symbols-tree.js';

const missing = ['gcc', 'ld', 'readelf'].filter((t) => !haveTool(t));
const skip = missing.length > 0 ? `needs ${missing.join(', ')} (apt-get install gcc binutils)` : false;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** readelfUnits lists (version, name, comp_dir) of each compile unit as readelf prints them. */
function readelfUnits(file: string): string[] {
  const r = spawnSync('readelf', ['--debug-dump=info', file], { encoding: 'latin1', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  const out: string[] = [];
  let version = '', inCu = false, name = '', dir = '';
  const flush = (): void => {
    if (inCu) out.push(`${version} ${name} ${dir}`);
    inCu = false;
  };
  for (const l of r.stdout.split('\n')) {
    const v = /^\s+Version:\s+(\d+)/.exec(l);
    if (v) version = v[1]!;
    if (/Abbrev Number: \d+ \(DW_TAG_compile_unit\)/.test(l)) {
      flush();
      inCu = true;
      name = dir = '';
      continue;
    }
    if (inCu && /^ <1>/.test(l)) flush();
    const a = /DW_AT_(name|comp_dir)\s*:\s*(?:\([^)]*\):\s*)?(.*?)\s*$/.exec(l);
    if (inCu && a) {
      if (a[1] === 'name') name = a[2]!;
      else dir = a[2]!;
    }
  }
  flush();
  return out;
}

function ourUnits(elf: ElfFile): string[] {
  const dw = DwarfInfo.open(elf);
  assert.ok(dw, 'has .debug_info');
  return dw.units().filter((u) => u.tag === 0x11).map((u) => `${u.version} ${u.name} ${u.compDir}`);
}

for (const [label, debug] of [['DWARF 5', '-gdwarf-5'], ['DWARF 4', '-gdwarf-4'], ['zlib-compressed DWARF 5', 'zlib']] as const) {
  test(`DwarfInfo.units() equals readelf --debug-dump=info: ${label}`, { skip }, () => {
    const root = buildPathsTree(debug);
    roots.push(root);
    for (const f of ['vmlinux', 'drivers/foo/foo.ko']) {
      const want = readelfUnits(join(root, f));
      assert.ok(want.length >= 3, `${f}: readelf found units`);
      const elf = ElfFile.open(join(root, f));
      try {
        assert.deepEqual(ourUnits(elf), want, f);
      } finally {
        elf.close();
      }
    }
  });
}

// other byte orders and address sizes, where the cross compilers are installed
for (const [arch, prefix] of [['s390x (big-endian)', 's390x-linux-gnu-'], ['ppc32 (big-endian, 32-bit)', 'powerpc-linux-gnu-'], ['aarch64', 'aarch64-linux-gnu-']] as const) {
  const crossSkip = skip || (!haveTool(`${prefix}gcc`) || !haveTool(`${prefix}ld`) ? `needs ${prefix}gcc and ${prefix}ld (apt-get install gcc-${prefix.slice(0, -1).replace(/_/g, '-')})` : false);
  test(`DwarfInfo.units() equals readelf --debug-dump=info: ${arch} DWARF 5`, { skip: crossSkip }, () => {
    const root = buildPathsTree('-gdwarf-5', prefix);
    roots.push(root);
    for (const f of ['vmlinux', 'drivers/foo/foo.ko']) {
      const want = readelfUnits(join(root, f));
      assert.ok(want.length >= 3, `${f}: readelf found units`);
      const elf = ElfFile.open(join(root, f));
      try {
        assert.deepEqual(ourUnits(elf), want, f);
        // and every unit's addresses decode (relocated in the module)
        const dw = DwarfInfo.open(elf)!;
        assert.ok(dw.units().some((u) => dw.definedAddresses(u).length > 0), `${f}: addresses`);
      } finally {
        elf.close();
      }
    }
  });
}

test('DwarfInfo reads an ET_REL file whose .rela.debug_info is out of order the same way', { skip }, () => {
  const root = buildPathsTree('-gdwarf-5');
  roots.push(root);
  const file = join(root, 'drivers/foo/foo.ko');
  const bytes = new Uint8Array(readFileSync(file));
  const elf = ElfFile.parse(bytes, file);
  const rel = elf.sections.find((s) => s.sh_type === SHT_RELA && s.name === '.rela.debug_info');
  assert.ok(rel, 'the module has .rela.debug_info');
  // reverse the entries in place
  const e = rel.sh_entsize, n = rel.sh_size / e;
  const copy = bytes.slice();
  for (let i = 0; i < n; i++) copy.set(bytes.subarray(rel.sh_offset + i * e, rel.sh_offset + (i + 1) * e), rel.sh_offset + (n - 1 - i) * e);
  const summary = (b: Uint8Array): string => {
    const x = ElfFile.parse(b, file);
    const dw = DwarfInfo.open(x)!;
    return JSON.stringify(dw.units().map((u) => [u.name, u.compDir, dw.definedAddresses(u)]), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  };
  const a = summary(bytes), b = summary(copy);
  assert.ok(a.includes('drivers/foo/a/util.c'), a);
  assert.equal(b, a);
});
