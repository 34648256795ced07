/**
 * ElfFormatError is the one error the ELF layer throws for malformed or unsupported input.
 * It carries the file, the byte offset where the problem was found, a stable code for tests,
 * and a lowercase message without a final period (GNU style).
 */
export class ElfFormatError extends Error {
  override name = 'ElfFormatError';
  readonly file: string;
  readonly offset: number | undefined;
  readonly code: string;

  constructor(file: string, code: string, message: string, offset?: number) {
    super(message);
    this.file = file;
    this.code = code;
    this.offset = offset;
  }

  /** where renders "file: at byte 0x1f3a" for messages. */
  where(): string {
    return this.offset === undefined ? this.file : `${this.file}: at byte 0x${this.offset.toString(16)}`;
  }
}

/** ElfEditError reports misuse of the editing API (a bug in the caller, not bad input). */
export class ElfEditError extends Error {
  override name = 'ElfEditError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * IoError: a file the caller named could not be read (`role: 'input'`) or created
 * (`role: 'output'`). `path` is the name as the caller gave it, never a temporary file made on
 * its behalf; `errno` is Node's code (ENOENT, EISDIR...); the message says what is wrong and what
 * to do. The original Node error is the `cause`.
 */
export class IoError extends Error {
  override name = 'IoError';
  readonly code = 'IO_ERROR';
  constructor(
    readonly path: string,
    readonly role: 'input' | 'output',
    readonly errno: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
