/**
 * Module.symvers: `<crc>\t<symbol>\t<module>\t<export type>[\t<namespace>]` per line (kbuild,
 * scripts/mod/modpost.c). The converter only needs the set of exported names.
 */
import { readInputFile } from '../elf/index.js';
import { SymbolMapError } from './errors.js';

export function loadSymvers(file: string): Map<string, string> {
  const text = readInputFile(file).toString('latin1');
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const f = l.split('\t');
    if (f.length < 4 || !/^0x[0-9a-fA-F]+$/.test(f[0]!)) {
      throw new SymbolMapError('SYMVERS_SYNTAX', file, i + 1, `expected "<crc>\\t<symbol>\\t<module>\\t<export type>", got '${l.slice(0, 80)}'`);
    }
    out.set(f[1]!, f[2]!);
  }
  return out;
}
