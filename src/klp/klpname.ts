/**
 * Names the kernel parses: `.klp.rela.<obj>.<sec>` and `.klp.sym.<obj>.<name>,<pos>`
 * (kernel/livepatch/core.c: sscanf formats `.klp.rela.%55[^.]` and
 * `.klp.sym.%55[^.].%511[^,],%lu`), and the minimal scheme's
 * `.klp.sym.rela.<lp_obj>.<sym_obj>.<sym>,<pos>` (or `.` before the position, v3).
 */
import {
  KLP_MINIMAL_PREFIX, KLP_OBJNAME_MAX, KLP_RELA_PREFIX, KLP_SYM_PREFIX, KLP_SYMNAME_MAX, KLP_SYMNAME_MAX_PRE_6_1,
} from './constants.js';

/** klpRelaName joins object and base section with the base's own leading dot as separator. */
export function klpRelaName(object: string, baseSection: string): string {
  return KLP_RELA_PREFIX + object + (baseSection.startsWith('.') ? baseSection : '.' + baseSection);
}

export function klpSymName(object: string, name: string, pos: number): string {
  return `${KLP_SYM_PREFIX}${object}.${name},${pos}`;
}

export interface ParsedKlpSym {
  object: string;
  name: string;
  pos: number;
}

/** parseKlpSymName mimics the kernel's sscanf; undefined where the kernel would refuse. */
export function parseKlpSymName(full: string, symMax = KLP_SYMNAME_MAX): ParsedKlpSym | undefined {
  if (!full.startsWith(KLP_SYM_PREFIX)) return undefined;
  const rest = full.slice(KLP_SYM_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot > KLP_OBJNAME_MAX) return undefined;
  const object = rest.slice(0, dot);
  const tail = rest.slice(dot + 1);
  const comma = tail.indexOf(',');
  if (comma <= 0 || comma > symMax) return undefined;
  const name = tail.slice(0, comma);
  const posText = tail.slice(comma + 1);
  if (!/^[0-9]+$/.test(posText)) return undefined;
  return { object, name, pos: Number(posText) };
}

/** parseKlpRelaObject returns the object part of a .klp.rela name (what the kernel parses). */
export function parseKlpRelaObject(sec: string): string | undefined {
  if (!sec.startsWith(KLP_RELA_PREFIX)) return undefined;
  const rest = sec.slice(KLP_RELA_PREFIX.length);
  const m = /^[^.]+/.exec(rest);
  if (!m || m[0].length > KLP_OBJNAME_MAX) return undefined;
  return m[0];
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

/** symbolNameLimit returns the longest symbol name the target kernel accepts. */
export function symbolNameLimit(kernelVersion: string | undefined): number {
  if (kernelVersion === undefined) return KLP_SYMNAME_MAX;
  const m = /^(\d+)\.(\d+)/.exec(kernelVersion);
  if (!m) return KLP_SYMNAME_MAX;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 6 || (major === 6 && minor >= 1) ? KLP_SYMNAME_MAX : KLP_SYMNAME_MAX_PRE_6_1;
}
