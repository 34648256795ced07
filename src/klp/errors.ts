/**
 * KlpError: the input is valid but the job cannot be done (an unresolved or ambiguous symbol,
 * a refused section, a bad annotation). SymbolMapError: a malformed symbols.klp.
 * Both carry a stable `code` that tests compare instead of message text.
 */
export class KlpError extends Error {
  override name = 'KlpError';
  constructor(
    readonly code: string,
    message: string,
    /** extra lines printed after the message (candidate lists, ready-to-paste fixes) */
    readonly detail?: string,
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
