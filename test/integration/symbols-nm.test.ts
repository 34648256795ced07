// The 0.1 names of every committed fixture (8 architectures, .o and .ko) against GNU nm:
// `LC_ALL=C nm -f posix FILE | cut -d' ' -f1`. This is where nm's hidden symbols were learned
// (STT_SECTION/STT_FILE everywhere; AArch64 `$x`/`$d` mapping symbols; RISC-V `$x...`/`$d` and
// `.L*` local labels), see targetSpecial() in src/klp/generate-map.ts. One nm run with -A covers
// all files (one spawn per file took ~25 s on a loaded 2-CPU machine). A fixture that cannot be a
// vmlinux symbol source (no .symtab, no executable section or no defined STT_FUNC, by one readelf
// run over all files) must be refused instead (src/klp/vmlinux-symbols.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { elfFixtures } from '../helpers/elf-fixtures.js';
import { haveTool, run } from '../helpers/symbols-tree.js';
import { bfdSkip, fixtureArch } from '../helpers/bfd.js';
import { generateSymbolMap } from '../../src/klp/generate-map.js';
import { KlpError } from '../../src/klp/errors.js';

/** symbolSources runs readelf -W -S -s over all files and returns those with .symtab, code and a defined function */
function symbolSources(files: string[]): Set<string> {
  const out = run('readelf', ['-W', '-S', '-s', ...files]);
  const ok = new Set<string>();
  // with several files readelf heads each one's output with "File: <path>"
  for (const part of out.split(/^File: /m).slice(1)) {
    const file = part.slice(0, part.indexOf('\n'));
    const code = /^\s*\[\s*\d+\]\s+\S+\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[A-Za-z]*X/m.test(part);
    const symtab = part.split(/^Symbol table '/m).find((t) => t.startsWith('.symtab'));
    const func = symtab?.split('\n').some((l) => { const f = l.trim().split(/\s+/); return f[3] === 'FUNC' && f[6] !== 'UND'; }) ?? false;
    if (code && func) ok.add(file);
  }
  return ok;
}

const skip = haveTool('nm') ? false : 'needs GNU nm: apt-get install binutils';

// nm without a real backend for an architecture falls back to generic ELF and prints symbols the
// backend would hide (AArch64 $x/$d): such fixtures are compared only where binutils has the
// target (binutils-multiarch), one skipped test per architecture otherwise.
const fixtures = elfFixtures();
const arches = [...new Set(fixtures.map((f) => fixtureArch(f.name)))].sort();

for (const arch of arches) {
  const fx = fixtures.filter((f) => fixtureArch(f.name) === arch);
  test(`symbols 0.1 names equal nm -f posix for every ${arch} fixture`, { skip: skip || bfdSkip(arch, 'nm') }, () => {
    // nm -A -f posix: "<file>: <name> <type> <value> <size>"
    const want = new Map<string, string[]>(fx.map((f) => [f.path, []]));
    const out = run('nm', ['-A', '-f', 'posix', ...fx.map((f) => f.path)], { env: { ...process.env, LC_ALL: 'C' } });
    for (const l of out.split('\n')) {
      if (!l) continue;
      const f = fx.find((x) => l.startsWith(x.path + ': '));
      assert.ok(f, l);
      want.get(f.path)!.push(l.slice(f.path.length + 2).split(' ')[0]!);
    }
    const d = mkdtempSync(join(tmpdir(), 'klp-nm-'));
    try {
      writeFileSync(join(d, 'modules.order'), '');
      const sources = symbolSources(fx.map((f) => f.path));
      let refused = 0;
      for (const f of fx) {
        copyFileSync(f.path, join(d, 'vmlinux'));
        if (!sources.has(f.path)) {
          assert.throws(() => generateSymbolMap({ objtree: d, format: '0.1' }), (e) => e instanceof KlpError && e.code === 'VMLINUX_NO_SYMBOLS', f.name);
          refused++;
          continue;
        }
        const have = Buffer.from(generateSymbolMap({ objtree: d, format: '0.1' }).bytes).toString('latin1');
        const w = want.get(f.path)!;
        assert.equal(have, 'klp-convert-symbol-data.0.1\n*vmlinux\n' + w.map((n) => n + '\n').join(''), f.name);
      }
      assert.ok(fx.length > 20, `only ${fx.length} ${arch} fixtures`);
      assert.ok(refused < fx.length / 4, `${refused} of ${fx.length} ${arch} fixtures refused`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
}
