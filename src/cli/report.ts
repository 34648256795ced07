/**
 * The one place that turns an error into a message on stderr and an exit code.
 * Message shape (GNU/objtool style): "klp-convert: error: <file>: <where>: <what>; <what to do>".
 */
import { ElfEditError, ElfFormatError, IoError, inputError } from '../elf/index.js';
import { KlpError, SymbolMapError } from '../klp/errors.js';
import { EXIT, PROG, UsageError } from './errors.js';

export { PROG } from './errors.js';

/**
 * KlpError codes that mean "an input file is missing": exit 66 like a missing command-line file.
 * A vmlinux without symbols (stripped, BTF-only) counts as missing too: the file is well-formed,
 * so 65 ("malformed, rebuild it") would mislead; the fix is to supply another file.
 */
const MISSING_INPUT = new Set(['TREE_NO_DIR', 'TREE_NO_VMLINUX', 'TREE_NO_MODULES_ORDER', 'TREE_MODULE_MISSING', 'VMLINUX_NO_SYMBOLS', 'TARGET_MISSING']);

/** errno codes that mean "this file cannot be had" (input, 66) or "cannot be created" (output, 73); others are 74 */
const UNAVAILABLE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'ELOOP', 'ENAMETOOLONG',
  // not an errno: a path naming a device, a pipe or a socket where a file must be (src/elf/file-io.ts);
  // ESPIPE: a pipe given as an input read at positions
  'ENOTREG', 'ESPIPE']);

function ioExit(role: 'input' | 'output', errno: string): number {
  if (!UNAVAILABLE.has(errno)) return EXIT.IOERR;
  return role === 'input' ? EXIT.NOINPUT : EXIT.CANTCREAT;
}

/** KlpError codes that mean "an input is not what it must be": exit 65 like a malformed file */
const BAD_INPUT = new Set(['TARGET_UNKNOWN', 'TARGET_BAD_KALLSYMS', 'TARGET_MAP_01',
  // a klp-build module whose __klp_relocs tables are not what objtool klp diff writes (klp-relocs.ts)
  'KLP_RELOCS_BAD_OBJECT', 'KLP_RELOCS_SIZE', 'KLP_RELOCS_NO_RELA', 'KLP_RELOCS_MISALIGNED', 'KLP_RELOCS_FIELD', 'KLP_RELOCS_OFFSET',
  'KLP_RELOCS_TYPE', 'KLP_RELOCS_NOT_KLP_SYM', 'KLP_RELOCS_BAD_NAME', 'KLP_RELOCS_OBJECT', 'KLP_RELOCS_NO_SYMTAB', 'KLP_RELOCS_HALF_DONE',
  'KLP_RELOCS_DUPLICATE', 'KLP_RELOCS_ORIGINALS', 'KLP_RELOCS_ORIGINAL_DEFINED', 'KLP_RELOCS_NOT_ALLOC']);

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
  if (e instanceof IoError) {
    process.stderr.write(`${PROG}: error: ${e.message}\n`);
    return ioExit(e.role, e.errno);
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && typeof err.syscall === 'string') {
    // every output goes through writeFileAtomic (an IoError): a bare Node error is a failed read
    return reportError(inputError(err.path ?? '', err));
  }
  process.stderr.write(`${PROG}: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.SOFTWARE;
}
