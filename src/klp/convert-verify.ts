/**
 * Stage 5 of the converter: verify. The output is parsed again and checked by validate.ts (the
 * code of `klp-convert check`), which is written against the kernel's rules, not against the
 * converter's bookkeeping. Failure means no output.
 */
import { ElfFile } from '../elf/index.js';
import { KlpError } from './errors.js';
import { symbolNameLimit } from './kernel-rules.js';
import type { SymbolMap } from './symbol-map.js';
import { validateKlpModule } from './validate.js';

export interface VerifyOptions {
  map?: SymbolMap | undefined;
  symvers?: ReadonlyMap<string, string> | undefined;
  kernelVersion?: string | undefined;
  /** the input had no livepatch modinfo tag and the user accepted that */
  allowUntagged?: boolean | undefined;
}

/** verifyConverted throws KlpError OUTPUT_INVALID when the converted bytes fail the checker. */
export function verifyConverted(bytes: Uint8Array, name: string, opts: VerifyOptions): void {
  const out = ElfFile.parse(bytes, name);
  const check = validateKlpModule(out, { map: opts.map, symvers: opts.symvers, symMax: symbolNameLimit(opts.kernelVersion) });
  const errors = check.findings.filter((x) => x.severity === 'error' && (opts.allowUntagged ? x.code !== 'NOT_LIVEPATCH' : true));
  if (errors.length > 0) {
    throw new KlpError('OUTPUT_INVALID', `the converted module fails verification: ${errors[0]!.message}`,
      errors.slice(1).map((x) => `klp-convert: error: ${x.message}`).join('\n') || undefined, errors.map((x) => x.code));
  }
}
