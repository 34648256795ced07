// The published library entry: `import ... from 'klp-convert'` (package.json "exports") resolves
// and converts a fixture, and the ELF layer is reachable as the `elf` namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers/klp-world.js';

test("the package entry 'klp-convert' exports the converter, the map loader and the ELF layer", async () => {
  const api = await import('klp-convert' as string) as typeof import('../../src/index.js');
  assert.equal(typeof api.convertModule, 'function');
  assert.equal(api.SHN_LIVEPATCH, 0xff20);
  const file = fixture('x86_64', 'lp_main.ko');
  const elf = api.elf.ElfFile.parse(readFileSync(file), file);
  const res = api.convertModule(elf, { file, map: api.loadSymbolMap(fixture('x86_64', 'symbols.klp')) });
  assert.ok(res.converted.some((c) => c.klpName === '.klp.sym.vmlinux.saved_command_line,0'));
  assert.deepEqual(api.validateKlpModule(api.elf.ElfFile.parse(res.bytes, 'out')).findings.filter((f) => f.severity === 'error'), []);
});
