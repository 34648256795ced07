/**
 * loadBuiltin returns a Node built-in module, loaded the first time a caller asks, so that
 * start-up pays nothing for modules most runs never use (node:zlib and the stream modules it
 * pulls in, node:child_process: ~2-3 ms each). Node 20.16 and later have
 * process.getBuiltinModule; earlier Node 20 releases get the module from a require made by
 * node:module's createRequire (a built-in resolves without looking at the path).
 */
import { createRequire } from 'node:module';

export function loadBuiltin<T>(id: string): T {
  const p = process as { getBuiltinModule?: (id: string) => unknown };
  if (typeof p.getBuiltinModule === 'function') return p.getBuiltinModule(id) as T;
  return createRequire('/')(id) as T;
}
