/**
 * Errors the CLI layer knows how to report, and the exit codes (sysexits.h numbering):
 *   1  the job is impossible with valid input (KlpError: unresolved or ambiguous symbol, refused section)
 *   64 usage error, 65 malformed input (ELF or symbols.klp), 66 missing input,
 *   70 internal error (a bug), 73 cannot create output, 74 other I/O error.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'USAGE';
}

export const EXIT = {
  OK: 0,
  FAIL: 1,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  SOFTWARE: 70,
  CANTCREAT: 73,
  IOERR: 74,
} as const;

/** the program's name, as messages begin with it */
export const PROG = 'klp-convert';
