/**
 * Names the converter writes: `.klp.rela.<obj>.<sec>` and `.klp.sym.<obj>.<name>,<pos>` (how the
 * kernel parses them, and its limits, live in kernel-rules.ts), and the minimal scheme's
 * `.klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>` (or `.` before the position, v3).
 */
import { KLP_MINIMAL_PREFIX, KLP_RELA_PREFIX, KLP_SYM_PREFIX } from './constants.js';

/** klpRelaName joins object and base section with the base's own leading dot as separator. */
export function klpRelaName(object: string, baseSection: string): string {
  return KLP_RELA_PREFIX + object + (baseSection.startsWith('.') ? baseSection : '.' + baseSection);
}

export function klpSymName(object: string, name: string, pos: number): string {
  return `${KLP_SYM_PREFIX}${object}.${name},${pos}`;
}

export interface MinimalName {
  lpObject: string;
  symObject: string;
  name: string;
  pos: number;
}

/**
 * parseMinimalName reads `.klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>` (v1/v2) or
 * `...<sym>.<pos>` (v3). With `.`, the text after the last dot is the position, so symbol names
 * with dots (foo.isra.0) need the `,` form.
 */
export function parseMinimalName(full: string): MinimalName | undefined {
  if (!full.startsWith(KLP_MINIMAL_PREFIX)) return undefined;
  const rest = full.slice(KLP_MINIMAL_PREFIX.length);
  const m = /^([^.]+)\.([^.]+)\.(.+)$/.exec(rest);
  if (!m) return undefined;
  const [, lpObject, symObject, tail] = m as unknown as [string, string, string, string];
  let name: string;
  let posText: string;
  const comma = tail.lastIndexOf(',');
  if (comma >= 0) {
    name = tail.slice(0, comma);
    posText = tail.slice(comma + 1);
  } else {
    const dot = tail.lastIndexOf('.');
    if (dot < 0) return undefined;
    name = tail.slice(0, dot);
    posText = tail.slice(dot + 1);
  }
  if (name === '' || name.includes(',') || !/^[0-9]+$/.test(posText)) return undefined;
  return { lpObject, symObject, name, pos: Number(posText) };
}
