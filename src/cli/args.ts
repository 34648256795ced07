/**
 * parseCommandArgs runs node:util parseArgs and turns its errors (unknown option, missing value)
 * into a UsageError that ends with the command's usage line, so every subcommand reports bad
 * arguments the same way (exit 64). It also refuses what parseArgs lets through silently and a
 * script gets wrong without noticing:
 *  - an option given twice that is not a list (`--symbols a --symbols b`: parseArgs keeps the last);
 *  - an empty value or an empty positional (`--symbols "$MAP"` with MAP unset would mean "no map"
 *    and convert without one): every value and positional of ours names a file or a version.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export function parseCommandArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  const fail = (msg: string): never => {
    throw new UsageError(`${msg}\n${usage.split('\n')[0]}`);
  };
  let parsed: ReturnType<typeof parseArgs<T & { tokens: true }>>;
  try {
    parsed = parseArgs({ ...config, tokens: true });
  } catch (e) {
    return fail((e as Error).message);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind === 'positional' && t.value === '') fail('an empty argument where a file name belongs');
    if (t.kind !== 'option') continue;
    const spec = config.options?.[t.name];
    if (spec?.multiple !== true && seen.has(t.name)) fail(`${t.rawName} given twice; give it once`);
    seen.add(t.name);
    if (spec?.type === 'string' && t.value === '') fail(`${t.rawName}: empty value`);
  }
  return parsed as unknown as ReturnType<typeof parseArgs<T>>;
}
