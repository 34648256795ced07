/**
 * Resolution rules: how a user names the object and position of a symbol without a number in the
 * source. A rules file (`klp-convert convert --resolve FILE`) holds one rule per line:
 *
 *     # comment
 *     <object> <symbol> pos=<n>          the n-th same-named symbol in <object> (kernel order, 1-based; 0 = unique)
 *     <object> <symbol> file=<path>      the one symbol of that name defined in source file <path>
 *
 * <object> is `vmlinux` or a module name (dashes and underscores are equivalent, as in the kernel).
 * `file=` needs the extended map, which records the source file of every local symbol; <path> is
 * the file or any trailing part of its path (source-paths.ts: `fs/proc/consoles.c`,
 * `proc/consoles.c`, `consoles.c`).
 */
import { readInputFile } from '../elf/index.js';
import { SymbolMapError } from './errors.js';
import { kernelModuleName } from './modname.js';

export interface ResolveRule {
  object: string;
  name: string;
  pos?: number;
  file?: string;
  /** where the rule came from, for messages: "file:line" */
  origin: string;
}

export function parseRules(text: string, file: string): ResolveRule[] {
  const rules: ResolveRule[] = [];
  const seen = new Map<string, ResolveRule>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const parts = line.split(/\s+/);
    const origin = `${file}:${i + 1}`;
    if (parts.length !== 3) {
      throw new SymbolMapError('RULE_SYNTAX', file, i + 1, `expected "<object> <symbol> pos=<n>|file=<source>", got '${line}'`);
    }
    const [obj, name, what] = parts as [string, string, string];
    const rule: ResolveRule = { object: obj === 'vmlinux' ? obj : kernelModuleName(obj), name, origin };
    const pm = /^pos=(\d+)$/.exec(what);
    const fm = /^file=(.+)$/.exec(what);
    if (pm) {
      rule.pos = Number(pm[1]);
      // (the map says how many there are when the rule is applied; a number past 2^53 is not even one)
      if (!Number.isSafeInteger(rule.pos)) throw new SymbolMapError('RULE_SYNTAX', file, i + 1, `pos=${pm[1]}: no object has that many symbols; positions count from 1 in kernel order`);
    } else if (fm) rule.file = fm[1]!;
    else throw new SymbolMapError('RULE_SYNTAX', file, i + 1, `expected pos=<n> or file=<source>, got '${what}'`);
    const key = `${rule.object}\0${rule.name}`;
    const prev = seen.get(key);
    if (prev) throw new SymbolMapError('RULE_CONFLICT', file, i + 1, `a second rule for '${name}' in '${rule.object}' (first at ${prev.origin})`);
    seen.set(key, rule);
    rules.push(rule);
  });
  return rules;
}

export function loadRules(file: string): ResolveRule[] {
  return parseRules(readInputFile(file).toString('latin1'), file);
}
