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

/**
 * problemsError turns the problems a converter stage collected into one KlpError: the first
 * problem's code and message, the others (and every detail) as extra lines.
 */
export function problemsError(problems: readonly { code: string; message: string; detail?: string }[]): KlpError {
  const [first, ...rest] = problems;
  const detail: string[] = [];
  if (first!.detail) detail.push(first!.detail);
  for (const p of rest) {
    detail.push(`klp-convert: error: ${p.message}`);
    if (p.detail) detail.push(p.detail);
  }
  if (problems.length > 1) detail.push(`klp-convert: ${problems.length} errors; no output written`);
  return new KlpError(first!.code, first!.message, detail.length ? detail.join('\n') : undefined, problems.map((p) => p.code));
}
