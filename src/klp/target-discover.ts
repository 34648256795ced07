/**
 * What a `check --target` argument is: a kernel build tree, a distribution debug-symbol package
 * (its root, or its usr/lib/debug/lib/modules/<version> directory), an extended symbol map
 * (`symbols --format ext`), or a captured /proc/kallsyms (a file, or a directory holding
 * `kallsyms` and optionally `modules`). Told apart by what is on disk, never by the name.
 *
 * Directories are found by kernel-tree.ts, as for `symbols --objtree`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openInput } from '../elf/index.js';
import { KlpError } from './errors.js';
import { findKernelTree, isDir, isFile, type KernelTree } from './kernel-tree.js';
import { HEADER_EXT, HEADER_EXT1 } from './symbol-map.js';

export type TargetKind = 'tree' | 'debug-dir' | 'ext-map' | 'kallsyms';

export interface TargetLocation {
  kind: TargetKind;
  /** what the user gave */
  arg: string;
  /** the directory with vmlinux (tree, debug-dir), or the file (ext-map, kallsyms) */
  path: string;
  /** /proc/modules next to a kallsyms capture */
  modules?: string;
  /** kernel release, when the target says (include/config/kernel.release, the debug dir's name) */
  release?: string;
  /** the tree's files (tree, debug-dir), as `symbols --objtree` finds them */
  tree?: KernelTree;
}


function firstLine(p: string): string {
  const fd = openInput(p);
  try {
    const b = Buffer.alloc(256);
    const n = fs.readSync(fd, b, 0, b.length, 0);
    const s = b.subarray(0, n).toString('latin1');
    const nl = s.indexOf('\n');
    return nl < 0 ? s : s.slice(0, nl);
  } finally {
    fs.closeSync(fd);
  }
}

/** a /proc/kallsyms line: address (any width, zeroed or not), type letter, name, optional [module] */
export const KALLSYMS_LINE = /^[0-9a-fA-F]+ [A-Za-z?] \S+(\t\[\S+\])?$/;

export function locateTarget(arg: string): TargetLocation {
  const st = fs.statSync(arg, { throwIfNoEntry: false });
  if (st === undefined) throw new KlpError('TARGET_MISSING', `${arg}: no such file or directory (--target wants a kernel build tree, a debug package, an extended map or a /proc/kallsyms capture)`);
  if (st.isFile()) return locateFile(arg);
  if (isFile(path.join(arg, 'kallsyms')) && !isFile(path.join(arg, 'vmlinux'))) {
    const k = locateFile(path.join(arg, 'kallsyms'));
    return { ...k, arg };
  }
  if (!isFile(path.join(arg, 'vmlinux')) && !['usr/lib/debug/lib/modules', 'lib/modules', 'kernel'].some((d) => isDir(path.join(arg, d)))) {
    throw new KlpError('TARGET_UNKNOWN', `${arg}: not a kernel target: no vmlinux, no usr/lib/debug/lib/modules/<version>/vmlinux, no kallsyms file; give a build tree, a debug package, an extended map or a /proc/kallsyms capture`);
  }
  // the same layouts `symbols --objtree` takes, with the same errors and fixes
  const tree = findKernelTree(arg);
  return { kind: tree.kind === 'build-tree' ? 'tree' : 'debug-dir', arg, path: tree.root, tree, ...(tree.release !== undefined ? { release: tree.release } : {}) };
}

function locateFile(p: string): TargetLocation {
  const line = firstLine(p);
  if (line === HEADER_EXT || line === HEADER_EXT1) return { kind: 'ext-map', arg: p, path: p };
  if (KALLSYMS_LINE.test(line)) {
    const modules = path.join(path.dirname(p), 'modules');
    return { kind: 'kallsyms', arg: p, path: p, ...(isFile(modules) && modules !== p ? { modules } : {}) };
  }
  if (line.startsWith('klp-convert-symbol-data.0.1')) {
    throw new KlpError('TARGET_MAP_01', `${p}: a 0.1 symbol map has no positions, so it cannot say what the kernel will resolve; write the extended map with 'klp-convert symbols --format ext'`);
  }
  throw new KlpError('TARGET_UNKNOWN', `${p}: neither an extended symbol map ('${HEADER_EXT}') nor a /proc/kallsyms capture ("<address> <type> <name>[\\t[module]]" lines)`);
}
