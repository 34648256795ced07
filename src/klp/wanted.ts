/**
 * wantedNames lists the names a module can ask the symbol map about, so that the map loader
 * keeps only those (a converter needs a few dozen of ~1.3 M names): its undefined symbols, the
 * `__ksymtab_`/`__export_symbol_` lines that would mark them exported in a 0.1 map, the inner
 * names of minimal-form symbols, and the names of symbols already converted to `.klp.sym.*`
 * or named so by klp-build (the verifier checks their positions).
 */
import { ElfFile, SHN_UNDEF } from '../elf/index.js';
import { SHN_LIVEPATCH } from './constants.js';
import { parseKlpSymName } from './kernel-rules.js';
import { parseMinimalName } from './klpname.js';

export function wantedNames(elf: ElfFile): Set<string> {
  const want = new Set<string>();
  const st = elf.symtabIndex();
  if (st === undefined) return want;
  const t = elf.symbols(st);
  for (let i = 1; i < t.count; i++) {
    if (t.shndx[i] === SHN_LIVEPATCH) {
      const p = parseKlpSymName(t.name(i));
      if (p) want.add(p.name);
      continue;
    }
    if (t.shndx[i] !== SHN_UNDEF) continue;
    const n = t.name(i);
    want.add(n);
    want.add('__ksymtab_' + n);
    want.add('__export_symbol_' + n);
    const m = parseMinimalName(n);
    if (m) want.add(m.name);
    // klp-build's pre-post-link klp symbols are still undefined (STB_WEAK)
    const k = m ? undefined : parseKlpSymName(n);
    if (k) want.add(k.name);
  }
  return want;
}
