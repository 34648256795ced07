// The bundled CLI (dist/klp-convert.cjs, the package's bin, written by scripts/bundle.mjs) against
// the ES module build it is made from: same exit status, stdout, stderr and output bytes for
// every command, on a gcc-built tree and the committed x86_64 fixtures, errors included; and the
// bin without its V8 code cache, or with a cache of another build, against the bin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
function both(args: string[], entries = [ESM, BUNDLE]): void {
  const res = entries.map((entry, k) => {
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

test('the bin runs the same without its code cache, and with a cache of another build (which it ignores)', { skip }, () => {
  const cache = readFileSync(join(repoRoot, 'dist/klp-convert.body.cache'));
  const copies = ['none', 'other'].map((name) => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const f of ['klp-convert.cjs', 'klp-convert.body.cjs']) copyFileSync(join(repoRoot, 'dist', f), join(d, f));
    // this build's V8 data under another build's hash: the bin must not use it (V8 alone would)
    if (name === 'other') writeFileSync(join(d, 'klp-convert.body.cache'), Buffer.concat([Buffer.from('0'.repeat(64)), cache.subarray(64)]));
    return join(d, 'klp-convert.cjs');
  });
  for (const entry of copies) {
    both(['--version'], [BUNDLE, entry]);
    both(['convert', '--symbols', fixture('x86_64', 'symbols.klp'), fixture('x86_64', 'lp_main.ko'), '-o', 'OUT', '--json'], [BUNDLE, entry]);
    both(['convert', '--symbols', fixture('x86_64', 'symbols.klp'), fixture('x86_64', 'lp_err_ambiguous.ko'), '-o', 'OUT'], [BUNDLE, entry]);
    both(['symbols', '--objtree', T.tree, '-o', 'OUT', '-j', '2'], [BUNDLE, entry]);
  }
});
