// The WebAssembly in src/klp/wasm/*.wasm.ts is generated from the C next to it by
// scripts/build-wasm.sh and committed (neither the build nor a user needs clang). This test runs
// the script into a temporary folder and holds the committed files to its output byte for byte:
// a C change without a rebuild, or a hand edit of the generated file, fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../../..');
const wasmDir = join(root, 'src/klp/wasm');

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

test('src/klp/wasm/*.wasm.ts are what scripts/build-wasm.sh makes of the C sources', (t) => {
  if (!has('clang') || !has('wasm-ld')) {
    t.skip('needs clang and wasm-ld to rebuild the WebAssembly (apt-get install clang lld)');
    return;
  }
  const version = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]!;
  const generated = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm.ts')).sort();
  const sources = readdirSync(wasmDir).filter((f) => f.endsWith('.c')).sort();
  assert.deepEqual(generated, sources.map((c) => c.replace(/\.c$/, '.wasm.ts')), 'one generated file per C source');
  const major = (line: string): string | undefined => /clang version (\d+)\./.exec(line)?.[1];
  for (const g of generated) {
    // line 2 of a generated file names the clang that made it; another major version may emit
    // other (equally valid) bytes
    const built = readFileSync(join(wasmDir, g), 'utf8').split('\n')[1]!.replace(/^\/\/ /, '');
    if (major(built) === undefined || major(built) !== major(version)) {
      t.skip(`${g} was made by "${built}", this machine has "${version}": bytes are compared only under the same major version`);
      return;
    }
  }
  const out = mkdtempSync(join(tmpdir(), 'klp-wasm-'));
  try {
    const r = spawnSync('bash', [join(root, 'scripts/build-wasm.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const g of generated) {
      assert.equal(readFileSync(join(out, g), 'utf8'), readFileSync(join(wasmDir, g), 'utf8'), `${g} is stale: run bash scripts/build-wasm.sh`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
