/**
 * The one place that turns an error into a message on stderr and an exit code.
 * Message shape (GNU/objtool style): "klp-convert: error: <file>: <where>: <what>; <what to do>".
 */
import { ElfEditError, ElfFormatError } from '../elf/index.js';
import { KlpError, SymbolMapError } from '../klp/errors.js';
import { EXIT, UsageError } from './errors.js';

export const PROG = 'klp-convert';

/** KlpError codes that mean "an input file is missing": exit 66 like a missing command-line file */
const MISSING_INPUT = new Set(['TREE_NO_VMLINUX', 'TREE_NO_MODULES_ORDER', 'TREE_MODULE_MISSING', 'TARGET_MISSING']);
/** KlpError codes that mean "an input is not what it must be": exit 65 like a malformed file */
const BAD_INPUT = new Set(['TARGET_UNKNOWN', 'TARGET_BAD_KALLSYMS', 'TARGET_MAP_01', 'TARGET_AMBIGUOUS']);

export function warn(msg: string): void {
  process.stderr.write(`${PROG}: warning: ${msg}\n`);
}

export function reportError(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`${PROG}: error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof ElfFormatError) {
    process.stderr.write(`${PROG}: error: ${e.where()}: ${e.message}; the file is not a valid ELF object (rebuild it)\n`);
    return EXIT.DATAERR;
  }
  if (e instanceof SymbolMapError) {
    process.stderr.write(`${PROG}: error: ${e.file}:${e.line}: ${e.message}\n`);
    return EXIT.DATAERR;
  }
  if (e instanceof KlpError) {
    process.stderr.write(`${PROG}: error: ${e.message}\n`);
    if (e.detail) process.stderr.write(e.detail.endsWith('\n') ? e.detail : e.detail + '\n');
    return MISSING_INPUT.has(e.code) ? EXIT.NOINPUT : BAD_INPUT.has(e.code) ? EXIT.DATAERR : EXIT.FAIL;
  }
  if (e instanceof ElfEditError) {
    process.stderr.write(`${PROG}: internal error: ${e.message} (${e.code})\n${e.stack ?? ''}\n`);
    return EXIT.SOFTWARE;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && typeof err.syscall === 'string') {
    const p = err.path ?? '';
    process.stderr.write(`${PROG}: error: ${p}: ${err.syscall}: ${err.message}\n`);
    if (err.code === 'ENOENT' && (err.syscall === 'open' || err.syscall === 'stat' || err.syscall === 'scandir')) return EXIT.NOINPUT;
    if (err.syscall === 'rename' || err.syscall === 'mkdir' || (err.syscall === 'open' && (err.code === 'EACCES' || err.code === 'EROFS'))) return EXIT.CANTCREAT;
    return EXIT.IOERR;
  }
  process.stderr.write(`${PROG}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.SOFTWARE;
}
