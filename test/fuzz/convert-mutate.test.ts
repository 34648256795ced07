// Seeded mutation test of the converter: livepatch fixtures of every architecture with random
// byte changes, concentrated on what the converter reads (symbol table, relocation sections,
// annotation sections, .modinfo, section headers). Every case must convert, or refuse with an
// ElfFormatError (malformed ELF) or a KlpError (valid ELF, impossible job); a successful output
// must be readable and pass through the verifier without throwing. Anything else (TypeError,
// RangeError, ElfEditError, a hang) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ElfFile, ElfFormatError } from '../../src/elf/index.js';
import { convertModule } from '../../src/klp/convert.js';
import { KlpError } from '../../src/klp/errors.js';
import { loadSymbolMap, type SymbolMap } from '../../src/klp/symbol-map.js';
import { validateKlpModule } from '../../src/klp/validate.js';
import { fixture } from '../helpers/klp-world.js';
import { mulberry32 } from '../helpers/prng.js';

const SEED = Number(process.env['KLP_FUZZ_SEED'] ?? 0x636f6e76);
const CASES = Number(process.env['KLP_CONVERT_FUZZ_CASES'] ?? 4000);
const ARCHES = ['x86_64', 'x32', 'aarch64', 's390x', 'ppc64le', 'ppc32', 'i386', 'riscv64'];
const FILES = ['lp_main.ko', 'lp_minimal.ko', 'lp_fsections.ko', 'lp_special.ko', 'lp_edge.ko', 'lp_err_badpos.ko'];


interface Input { name: string; bytes: Uint8Array; targets: [number, number][]; map: SymbolMap }

function inputs(): Input[] {
  const out: Input[] = [];
  for (const arch of ARCHES) {
    const map = loadSymbolMap(fixture(arch, 'symbols.klp'));
    for (const f of FILES) {
      const bytes = new Uint8Array(readFileSync(fixture(arch, f)));
      const elf = ElfFile.parse(bytes, f);
      const targets: [number, number][] = [[elf.header.e_shoff, elf.header.shnum * elf.header.e_shentsize]];
      for (const s of elf.sections) {
        if (s.sh_size > 0 && (s.sh_type === 2 || s.sh_type === 4 || s.sh_type === 9 || s.name.startsWith('.klp.') || s.name === '.modinfo')) {
          targets.push([s.sh_offset, s.sh_size]);
        }
      }
      out.push({ name: `${arch}/${f}`, bytes, targets, map });
    }
  }
  return out;
}

test(`convert survives ${CASES} seeded mutations of livepatch fixtures`, () => {
  const rnd = mulberry32(SEED);
  const all = inputs();
  const tally = new Map<string, number>();
  let slowest = 0;
  for (let c = 0; c < CASES; c++) {
    const inp = all[Math.floor(rnd() * all.length)]!;
    const b = inp.bytes.slice();
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) {
      const [off, len] = rnd() < 0.85 ? inp.targets[Math.floor(rnd() * inp.targets.length)]! : [0, b.length];
      const at = off + Math.floor(rnd() * Math.max(1, len));
      if (at >= b.length) continue;
      b[at] = rnd() < 0.5 ? b[at]! ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
    }
    const t0 = performance.now();
    let result: string;
    try {
      const elf = ElfFile.parse(b, inp.name);
      const res = convertModule(elf, { file: inp.name, map: inp.map });
      const out = ElfFile.parse(res.bytes, `${inp.name} (out)`);
      validateKlpModule(out, { map: inp.map });
      result = 'ok';
    } catch (e) {
      if (e instanceof ElfFormatError) result = `elf:${e.code}`;
      else if (e instanceof KlpError) result = `klp:${e.code}`;
      else assert.fail(`case ${c} (${inp.name}, seed 0x${SEED.toString(16)}): unexpected ${(e as Error)?.stack ?? String(e)}`);
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < 2000, `case ${c} (${inp.name}) took ${ms.toFixed(0)} ms`);
    const key = result.split(':').slice(0, 2).join(':');
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  const top = [...tally.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(`# convert fuzz seed 0x${SEED.toString(16)}: ${CASES} cases, slowest ${slowest.toFixed(0)} ms; ${top}\n`);
  assert.ok((tally.get('ok') ?? 0) > 0, 'some mutated inputs still convert');
});
