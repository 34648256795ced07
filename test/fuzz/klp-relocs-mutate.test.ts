// Seeded mutation test of the klp-build input form (convert-klp-build.ts, klp-relocs.ts): a
// gcc-built pre-post-link module (test/helpers/klp-build.ts) with random byte changes in what the
// reader trusts (the __klp_relocs tables, their relocation sections, the symbol and string
// tables, the section headers). Every case must convert, or refuse with an ElfFormatError or a
// KlpError; a successful output must parse and pass through the verifier without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ElfFile, ElfFormatError } from '../../src/elf/index.js';
import { convertModule } from '../../src/klp/convert.js';
import { KlpError } from '../../src/klp/errors.js';
import { validateKlpModule } from '../../src/klp/validate.js';
import { buildPrePostLink } from '../helpers/klp-build.js';
import { tmp } from '../helpers/klp-world.js';
import { mulberry32 } from '../helpers/prng.js';

const SEED = Number(process.env['KLP_FUZZ_SEED'] ?? 0x6b6c7062);
const CASES = Number(process.env['KLP_CONVERT_FUZZ_CASES'] ?? 1500);
const gcc = spawnSync('gcc', ['-dumpmachine'], { encoding: 'utf8' });
const skip = gcc.status === 0 && gcc.stdout.startsWith('x86_64') ? false : 'needs an x86_64 gcc (apt-get install gcc)';

test(`convert survives ${CASES} seeded mutations of a klp-build pre-post-link module`, { skip }, () => {
  const bytes = new Uint8Array(readFileSync(buildPrePostLink(tmp('klpt-kbfuzz-'), 'lpkb')));
  const elf = ElfFile.parse(bytes, 'lpkb.ko.orig');
  const targets: [number, number][] = [[elf.header.e_shoff, elf.header.shnum * elf.header.e_shentsize]];
  for (const s of elf.sections) {
    if (s.sh_size > 0 && (s.sh_type === 2 || s.sh_type === 3 || s.sh_type === 4 || s.name.startsWith('__klp_relocs'))) targets.push([s.sh_offset, s.sh_size]);
  }
  const rnd = mulberry32(SEED);
  const tally = new Map<string, number>();
  for (let c = 0; c < CASES; c++) {
    const b = bytes.slice();
    const flips = 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < flips; k++) {
      const [off, len] = targets[Math.floor(rnd() * targets.length)]!;
      const at = off + Math.floor(rnd() * Math.max(1, len));
      if (at >= b.length) continue;
      b[at] = rnd() < 0.5 ? b[at]! ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
    }
    let result: string;
    try {
      const res = convertModule(ElfFile.parse(b, 'lpkb.ko.orig'), { file: 'lpkb.ko.orig' });
      validateKlpModule(ElfFile.parse(res.bytes, 'out.ko'));
      result = `ok:${res.form}`;
    } catch (e) {
      if (e instanceof ElfFormatError) result = `elf:${e.code}`;
      else if (e instanceof KlpError) result = `klp:${e.code}`;
      else assert.fail(`case ${c} (seed 0x${SEED.toString(16)}): unexpected ${(e as Error)?.stack ?? String(e)}`);
    }
    tally.set(result, (tally.get(result) ?? 0) + 1);
  }
  const top = [...tally.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(`# klp-build fuzz seed 0x${SEED.toString(16)}: ${CASES} cases; ${top}\n`);
  assert.ok((tally.get('ok:klp-build') ?? 0) > 0, 'some mutated inputs still convert');
  assert.ok([...tally.keys()].some((k) => k.startsWith('klp:KLP_RELOCS_')), 'some mutations hit the table checks');
});
