// The bundled CLI (dist/klp-convert.cjs, the package's bin, written by scripts/bundle.mjs) against
// the ES module build it is made from: same exit status, stdout, stderr and output bytes for
// every command, on a gcc-built tree and the committed x86_64 fixtures, errors included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildSymbolsTree, missingTools, type SymbolsTree } from '../helpers/symbols-tree.js';
import { repoRoot } from '../helpers/elf-fixtures.js';
import { fixture } from '../helpers/klp-world.js';

const ESM = join(repoRoot, 'dist/src/cli/main.js');
const BUNDLE = join(repoRoot, 'dist/klp-convert.cjs');
const missing = missingTools();
const skip = missing.length > 0 ? `needs ${missing.join(', ')}` : !existsSync(BUNDLE) ? 'dist/klp-convert.cjs missing (npm run build)' : false;

let T: SymbolsTree;
let dir: string;
before(() => {
  if (skip) return;
  T = buildSymbolsTree();
  dir = mkdtempSync(join(tmpdir(), 'klp-bundle-'));
});
after(() => {
  T?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** both runs one command, writing to OUT (replaced by a path per entry point); returns what each printed and wrote */
function both(args: string[]): void {
  const res = [ESM, BUNDLE].map((entry, k) => {
    const out = join(dir, `out${k}`);
    rmSync(out, { force: true });
    const r = spawnSync(process.execPath, [entry, ...args.map((a) => (a === 'OUT' ? out : a))], { encoding: 'latin1' });
    return {
      status: r.status, stdout: r.stdout.replaceAll(out, 'OUT').replaceAll('out0', 'OUT').replaceAll('out1', 'OUT'),
      stderr: r.stderr.replaceAll(out, 'OUT'), bytes: existsSync(out) ? readFileSync(out).toString('latin1') : undefined,
    };
  });
  assert.deepEqual(res[1], res[0], `klp-convert ${args.join(' ')}`);
}

test('the bundled CLI prints, writes and fails exactly like the ES module build', { skip }, () => {
  both(['--version']);
  both(['--help']);
  both(['symbols', '--help']);
  for (const j of ['1', '2']) {
    both(['symbols', '--objtree', T.tree, '-o', 'OUT', '-j', j]);
    both(['symbols', '--objtree', T.tree, '--format', 'ext', '-o', 'OUT', '-j', j, '-v']);
  }
  both(['symbols', '--objtree', join(T.root, 'no-such-tree'), '-o', 'OUT']);
  both(['convert', '--symbols', fixture('x86_64', 'symbols.klp'), fixture('x86_64', 'lp_main.ko'), '-o', 'OUT', '--json']);
  both(['convert', '--symbols', fixture('x86_64', 'symbols.klp'), fixture('x86_64', 'lp_err_ambiguous.ko'), '-o', 'OUT']);
  both(['check', '--symbols', fixture('x86_64', 'symbols.klp'), fixture('x86_64', 'lp_main.ko')]);
  both(['dump', fixture('x86_64', 'lp_main.ko')]);
  both(['frobnicate']);
});
