/**
 * Naming a symbol by its source file: how `file=<source>` (rules, docs/convert.md) is matched
 * against the files an extended map records, and the shortest name that picks one candidate,
 * for the converter's suggestions (`... -> symbols.klp -> convert`).
 *
 * The map records a tree path (`arch/x86/kernel/cpu/proc.c`, ext.2) where the generator could
 * recover one, else the STT_FILE basename (`proc.c`, always so in ext.1). What the user writes is
 * any trailing, component-aligned part of the path: `proc.c`, `cpu/proc.c`,
 * `arch/x86/kernel/cpu/proc.c` (or a longer path that ends with the recorded one, e.g. an
 * absolute path in the source tree). `c/proc.c` is not a trailing part of `.../cpu/proc.c`.
 *
 *  - strong match: the recorded path ends with what was written (or the reverse, for a
 *    recorded path that has a directory), at a `/` boundary;
 *  - weak match: the map recorded only a basename, the user wrote a path with that basename.
 *    The directory cannot be checked, so a weak match counts only when nothing matches strongly,
 *    and the converter then warns.
 */
import * as path from 'node:path';

export type FileMatch = 'strong' | 'weak' | undefined;

/** normalizeWanted cleans what the user wrote: `./`, `//` and `a/../` removed. */
export function normalizeWanted(file: string): string {
  let n = path.posix.normalize(file);
  while (n.startsWith('./')) n = n.slice(2);
  return n;
}

/** endsWithPath is true when `p` ends with `tail` at a component boundary. */
export function endsWithPath(p: string, tail: string): boolean {
  if (tail.length === 0 || tail.length > p.length || !p.endsWith(tail)) return false;
  return p.length === tail.length || p.charCodeAt(p.length - tail.length - 1) === 0x2f /* / */ || tail.charCodeAt(0) === 0x2f;
}

/** matchFile compares a recorded file (path or basename) with a user-written one. */
export function matchFile(recorded: string, wanted: string): FileMatch {
  const w = normalizeWanted(wanted);
  if (endsWithPath(recorded, w)) return 'strong';
  const recordedHasDir = recorded.includes('/');
  if (recordedHasDir && endsWithPath(w, recorded)) return 'strong';
  if (!recordedHasDir && w.includes('/') && path.posix.basename(w) === recorded) return 'weak';
  return undefined;
}

/**
 * pickByFile returns the candidates that `wanted` names: the strong matches, or, when there are
 * none, the weak ones (with `weak` set).
 */
export function pickByFile<T extends { file?: string | undefined }>(cands: readonly T[], wanted: string): { matches: T[]; weak: boolean } {
  const strong: T[] = [], weak: T[] = [];
  for (const c of cands) {
    if (c.file === undefined) continue;
    const m = matchFile(c.file, wanted);
    if (m === 'strong') strong.push(c);
    else if (m === 'weak') weak.push(c);
  }
  return strong.length > 0 ? { matches: strong, weak: false } : { matches: weak, weak: true };
}

/**
 * shortestFileName returns the shortest trailing part of `c.file` that pickByFile resolves to
 * `c` alone among `cands` (the same-named symbols of one object), or undefined when no file
 * name can tell `c` apart (two symbols of the name in one file).
 */
export function shortestFileName<T extends { file?: string | undefined }>(c: T, cands: readonly T[]): string | undefined {
  const f = c.file;
  if (f === undefined) return undefined;
  const parts = f.split('/');
  for (let k = parts.length - 1; k >= 0; k--) {
    const tail = parts.slice(k).join('/');
    if (tail === '') continue;
    const { matches } = pickByFile(cands, tail);
    if (matches.length === 1 && matches[0] === c) return tail;
  }
  return undefined;
}
