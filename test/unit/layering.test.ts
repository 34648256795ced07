// The layering rule: cli -> klp -> elf. src/elf must not import src/klp or src/cli, and src/klp
// must import the ELF layer only through src/elf/index.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../../..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

test('src/elf imports nothing from src/klp or src/cli', () => {
  for (const f of files(join(root, 'src/elf'))) {
    for (const i of imports(f)) {
      if (!i.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(f), i));
      assert.ok(target.startsWith('src/elf'), `${relative(root, f)} imports ${i}`);
    }
  }
});

test('src/klp reaches the ELF layer only through src/elf/index', () => {
  for (const f of files(join(root, 'src/klp'))) {
    for (const i of imports(f)) {
      if (!i.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(f), i)).replace(/\.js$/, '');
      assert.ok(!target.startsWith('src/cli'), `${relative(root, f)} imports the CLI (${i})`);
      if (target.startsWith('src/elf')) assert.equal(target, 'src/elf/index', `${relative(root, f)} imports ${i}`);
    }
  }
});

test('the layering check sees real imports (it can fail)', () => {
  const klpFiles = files(join(root, 'src/klp'));
  assert.ok(klpFiles.length > 0);
  const found = files(join(root, 'src')).flatMap(imports);
  assert.ok(found.some((i) => i.includes('elf/index')), 'expected at least one import of src/elf/index');
});
