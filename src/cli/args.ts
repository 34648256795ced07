/**
 * parseCommandArgs runs node:util parseArgs and turns its errors (unknown option, missing value)
 * into a UsageError that ends with the command's usage line, so every subcommand reports bad
 * arguments the same way (exit 64).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export function parseCommandArgs<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage.split('\n')[0]}`);
  }
}
