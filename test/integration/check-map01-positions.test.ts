// `check --symbols` with a 0.1 map judges klp symbol positions as the converter does with that
// map, and as the kernel's klp_find_object_symbol() does: position 0 needs the name to be unique
// in its object, position N needs N of them. A 0.1 map has no order, but it has one line per
// symbol nm lists, so it can count (oracle: `nm` on the fixture vmlinux). Before, only the
// extended map was consulted: a module converted with a map listing get_homonym once passed a
// check against the full map that lists it three times. On the committed gcc-built fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { ElfEditor, ElfFile } from '../../src/elf/index.js';
import { cli, fixture, tmp } from '../helpers/klp-world.js';
import { haveTool } from '../helpers/symbols-tree.js';

const skip = haveTool('nm') ? false : 'needs GNU nm (apt-get install binutils)';
const map01 = fixture('x86_64', 'symbols.klp');

/** how many symbols named `name` nm lists in `file` */
function nmCount(file: string, name: string): number {
  const r = spawnSync('nm', [file], { encoding: 'latin1', env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.split(/\s+/)[2] === name).length;
}

/** a copy of the 0.1 map cut after its first get_homonym line: it lists the name once */
function cutMap(d: string): string {
  const text = readFileSync(map01, 'latin1');
  const at = text.indexOf('\nget_homonym\n');
  assert.ok(at > 0, 'the fixture map lists get_homonym');
  const out = join(d, 'cut.klp');
  writeFileSync(out, text.slice(0, at + '\nget_homonym\n'.length), 'latin1');
  return out;
}

/** lp_err_ambiguous.ko converted with the cut map: .klp.sym.vmlinux.get_homonym,0, renamed to `pos` */
function convertedAt(d: string, pos: number): string {
  const first = join(d, 'amb0.ko');
  const c = cli([cutMap(d), fixture('x86_64', 'lp_err_ambiguous.ko'), first]);
  assert.equal(c.status, 0, c.stderr);
  if (pos === 0) return first;
  const ed = new ElfEditor(ElfFile.parse(readFileSync(first), first));
  ed.renameSymbol(ed.symbols.findIndex((s) => s.name === '.klp.sym.vmlinux.get_homonym,0'), `.klp.sym.vmlinux.get_homonym,${pos}`);
  const out = join(d, `amb${pos}.ko`);
  writeFileSync(out, ed.write());
  return out;
}

test('check --symbols with a 0.1 map: position 0 of a name the map lists 3 times in vmlinux is the kernel\'s unresolvable ambiguity, as the converter says', { skip }, () => {
  const d = tmp('klpt-map01-');
  const n = nmCount(fixture('x86_64', 'vmlinux'), 'get_homonym');
  assert.equal(n, 3, 'the fixture vmlinux has three get_homonym');
  // the converter with the full 0.1 map refuses the name
  const conv = cli([map01, fixture('x86_64', 'lp_err_ambiguous.ko'), join(d, 'x.ko')]);
  assert.equal(conv.status, 1);
  assert.match(conv.stderr, /symbol 'get_homonym' is ambiguous: 3 entries in /);
  const amb = convertedAt(d, 0);
  const r = cli(['check', '--symbols', map01, amb]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`error: .*amb0\\.ko: symbol \\d+ '\\.klp\\.sym\\.vmlinux\\.get_homonym,0': position 0 but ${n} symbols named 'get_homonym' in 'vmlinux' \\(the count is the 0\\.1 map's: the lines of nm's names in its 'vmlinux' block\\); the kernel says "livepatch: unresolvable ambiguity for symbol 'get_homonym' in object '\\(null\\)'"`));
  const j = cli(['check', '--json', '--symbols', map01, amb]);
  assert.deepEqual((JSON.parse(j.stdout) as { findings: { code: string }[] }[])[0]!.findings.map((f) => f.code), ['KLP_SYM_AMBIGUOUS']);
  // the cut map lists it once: unique, as the converter took it
  assert.equal(cli(['check', '--werror', '--symbols', join(d, 'cut.klp'), amb]).status, 0);
});

test('check --symbols with a 0.1 map: a position past the map\'s count is refused, one within it passes', { skip }, () => {
  const d = tmp('klpt-map01-');
  const past = cli(['check', '--symbols', map01, convertedAt(d, 4)]);
  assert.equal(past.status, 1, past.stderr);
  assert.match(past.stderr, /'\.klp\.sym\.vmlinux\.get_homonym,4': position 4 but only 3 symbols named 'get_homonym' in 'vmlinux' \(the count is the 0\.1 map's[^)]*\); the kernel says "livepatch: symbol position 4 for symbol 'get_homonym' in object 'vmlinux' not found"/);
  for (const pos of [1, 3]) {
    const ok = cli(['check', '--werror', '--symbols', map01, convertedAt(d, pos)]);
    assert.equal(ok.status, 0, `position ${pos}: ${ok.stderr}`);
  }
  // the converter judges a given position with the same count: pos=4 refused, pos=3 taken
  const rules = join(d, 'rules');
  writeFileSync(rules, 'vmlinux get_homonym pos=4\n');
  const conv = cli(['convert', '--symbols', map01, '--resolve', rules, fixture('x86_64', 'lp_err_ambiguous.ko'), '-o', join(d, 'r4.ko')]);
  assert.equal(conv.status, 1);
  assert.match(conv.stderr, /position 4 for 'get_homonym' in 'vmlinux', but only 3 symbol\(s\) of that name exist/);
});
