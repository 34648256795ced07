// `check` without a map or Module.symvers (issue 12 item 7): it cannot tell an export from an
// unexported symbol, so instead of a silent "0 klp relocations" and exit 0 it warns, lists the
// undefined symbols it could not judge (oracle: `nm -u`, the U lines), and says what to pass.
// Exit status stays 0 (a warning), 1 with --werror. On the committed gcc-built fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { cli, fixture, makeExtMap, tmp } from '../helpers/klp-world.js';
import { haveTool } from '../helpers/symbols-tree.js';

const skip = haveTool('nm') ? false : 'needs GNU nm (apt-get install binutils)';

/** nmUndefined: the names `nm -u` prints with type U (strong undefined), sorted */
function nmUndefined(file: string): string[] {
  const r = spawnSync('nm', ['-u', file], { encoding: 'latin1', env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === 'U').map((f) => f[1]!).sort();
}

/** the names listed under the EXPORTS_UNKNOWN warning in check's text output */
function listedNames(stderr: string): string[] {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => / undefined symbols? not checked: /.test(l));
  assert.ok(at >= 0, stderr);
  const out: string[] = [];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith('  '); i++) out.push(...lines[i]!.trim().split(' '));
  return out.sort();
}

test('check without a map or Module.symvers warns, lists the undefined symbols nm -u shows, names --symbols/--symvers, exits 0', { skip }, () => {
  const ko = fixture('x86_64', 'lp_main.ko');
  const want = nmUndefined(ko);
  assert.ok(want.length > 5, 'the fixture references unexported symbols');
  const r = cli(['check', ko]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: 0 klp relocations\n/);
  assert.match(r.stderr, new RegExp(`^klp-convert: warning: .*lp_main\\.ko: ${want.length} undefined symbols not checked: without a map or Module\\.symvers there is no telling an export .* from an unexported symbol .*; pass --symbols symbols\\.klp or --symvers Module\\.symvers$`, 'm'));
  assert.deepEqual(listedNames(r.stderr), want);
  assert.doesNotMatch(r.stderr, /error:/);
});

test('check --werror makes the warning fail (exit 1); --json carries the names', { skip }, () => {
  const ko = fixture('x86_64', 'lp_main.ko');
  assert.equal(cli(['check', '--werror', ko]).status, 1);
  const j = JSON.parse(cli(['check', '--json', ko]).stdout) as { findings: { code: string; severity: string; names?: string[] }[] }[];
  const f = j[0]!.findings.find((x) => x.code === 'EXPORTS_UNKNOWN');
  assert.ok(f, JSON.stringify(j));
  assert.equal(f.severity, 'warning');
  assert.deepEqual([...f.names!].sort(), nmUndefined(ko));
});

test('with Module.symvers or a map every undefined symbol is judged: no EXPORTS_UNKNOWN warning', { skip }, () => {
  const ko = fixture('x86_64', 'lp_main.ko');
  const d = tmp('klp-chk-');
  const symvers = join(d, 'Module.symvers');
  // every name exported: check has nothing left to complain about
  writeFileSync(symvers, nmUndefined(ko).map((n) => `0x00000000\t${n}\tvmlinux\tEXPORT_SYMBOL\t\n`).join(''));
  let r = cli(['check', '--symvers', symvers, ko]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /not checked/);
  r = cli(['check', '--symbols', fixture('x86_64', 'symbols.klp'), ko]);
  assert.equal(r.status, 1, 'the unconverted module has unexported references');
  assert.doesNotMatch(r.stderr, /not checked/);
  assert.match(r.stderr, /undefined and not exported/);
});

test('a converted livepatch checked without a map lists only what is left undefined (the exports)', { skip }, () => {
  const d = tmp('klp-chk-');
  const out = join(d, 'lp.ko');
  const map = makeExtMap('x86_64');
  let r = cli(['convert', '--symbols', map, fixture('x86_64', 'lp_main.ko'), '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const left = nmUndefined(out);
  assert.ok(left.length > 0 && left.length < nmUndefined(fixture('x86_64', 'lp_main.ko')).length, left.join(' '));
  r = cli(['check', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: [1-9][0-9]* klp relocations?\n/);
  assert.deepEqual(listedNames(r.stderr), left);
  // with the map the same module passes without the warning
  r = cli(['check', '--symbols', map, out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});
