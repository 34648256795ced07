#!/usr/bin/env node
// craft.mjs IN OUT EDIT...: write a livepatch module that no converter would write, for the
// agreement test (agree.sh). Edits, applied in order with the project's own ELF editor:
//   section:OLD=NEW   rename a section
//   klp-object:OLD=NEW  rename every .klp.rela.OLD.<sec> to .klp.rela.NEW.<sec> (gcc may put the code in .text.unlikely)
//   symbol:OLD=NEW    rename a symbol (NEW may be 'long:<object>:<n>:<pos>': .klp.sym.<object>.<n x 'a'>,<pos>)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const { elf } = await import(join(repo, 'dist/src/index.js'));
const [input, output, ...edits] = process.argv.slice(2);
if (!input || !output || edits.length === 0) {
  console.error('usage: craft.mjs IN.ko OUT.ko section:OLD=NEW|symbol:OLD=NEW...');
  process.exit(64);
}
const ed = new elf.ElfEditor(elf.ElfFile.parse(readFileSync(input), input));
for (const e of edits) {
  const m = /^(section|symbol|klp-object):([^=]+)=(.+)$/.exec(e);
  if (!m) throw new Error(`bad edit '${e}'`);
  let [, kind, from, to] = m;
  const long = /^long:([^:]+):(\d+):(\d+)$/.exec(to);
  if (long) to = `.klp.sym.${long[1]}.${'a'.repeat(Number(long[2]))},${long[3]}`;
  if (kind === 'klp-object') {
    const pre = `.klp.rela.${from}.`;
    const hits = ed.sections.map((s, i) => [s, i]).filter(([s]) => s.name.startsWith(pre));
    if (hits.length === 0) throw new Error(`${input}: no section '${pre}*'`);
    for (const [s, i] of hits) ed.renameSection(i, `.klp.rela.${to}.${s.name.slice(pre.length)}`);
  } else if (kind === 'section') {
    const i = ed.sections.findIndex((s) => s.name === from);
    if (i < 0) throw new Error(`${input}: no section '${from}'`);
    ed.renameSection(i, to);
  } else {
    const i = ed.symbols.findIndex((s) => s.name === from);
    if (i < 0) throw new Error(`${input}: no symbol '${from}'`);
    ed.renameSymbol(i, to);
  }
}
writeFileSync(output, ed.write());
