/**
 * KlpError: the input is valid but the job cannot be done (an unresolved or ambiguous symbol,
 * a refused section, a bad annotation). SymbolMapError: a malformed symbols.klp (or rules file,
 * or Module.symvers). Both carry a stable `code` that tests compare instead of message text.
 */
export class KlpError extends Error {
  override name = 'KlpError';
  constructor(
    readonly code: string,
    message: string,
    /** extra lines printed after the message (candidate lists, ready-to-paste fixes, further errors) */
    readonly detail?: string,
    /** the codes of every problem found, first one first */
    readonly codes: readonly string[] = [code],
  ) {
    super(message);
  }
}

export class SymbolMapError extends Error {
  override name = 'SymbolMapError';
  constructor(
    readonly code: string,
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}
