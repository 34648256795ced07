/**
 * klp-convert as a library: `import { convertModule, loadSymbolMap, ... } from 'klp-convert'`.
 *
 * The livepatch API (symbol maps, conversion, verification) is exported flat; the generic ELF
 * layer is exported as the `elf` namespace, since it knows nothing about livepatch.
 */
export * as elf from './elf/index.js';
export { convertModule, suggestions } from './klp/convert.js';
export type { ConvertOptions, ConvertResult, ConvertedSymbol, Resolution } from './klp/convert.js';
export { validateKlpModule } from './klp/validate.js';
export type { Finding, KlpRelocRow, ValidateOptions, ValidateResult } from './klp/validate.js';
export { loadSymbolMap } from './klp/symbol-map.js';
export type { SymbolCandidate, SymbolMap } from './klp/symbol-map.js';
export { VMLINUX_NO_SYMBOLS, checkVmlinuxSymbols, vmlinuxBlockSummary, vmlinuxLooksSymbolless } from './klp/vmlinux-symbols.js';
export type { VmlinuxSummary } from './klp/vmlinux-symbols.js';
export { generateSymbolMap, planTree } from './klp/generate-map.js';
export type { GenerateOptions, GenerateResult, MapFormat } from './klp/generate-map.js';
export { findKernelTree, moduleEntries, describeKernelTree } from './klp/kernel-tree.js';
export type { KernelTree, KernelTreeKind } from './klp/kernel-tree.js';
export { kernelModuleName, moduleNameProblem } from './klp/modname.js';
export { loadRules, parseRules } from './klp/rules.js';
export { matchFile, pickByFile, shortestFileName } from './klp/source-paths.js';
export { sourceFiles, cuSourcePath } from './klp/path-recovery.js';
export type { SourceFiles } from './klp/path-recovery.js';
export type { ResolveRule } from './klp/rules.js';
export { loadSymvers } from './klp/symvers.js';
export { klpRelaName, klpSymName, parseMinimalName } from './klp/klpname.js';
export {
  checkBaseSection, kernelLimits, kernelSays, parseKlpRelaObject, parseKlpSymName, positionOutcome, symbolNameLimit,
} from './klp/kernel-rules.js';
export type { KernelLimits, ParsedKlpSym, PositionOutcome } from './klp/kernel-rules.js';
export { wantedNames } from './klp/wanted.js';
export { RESOLUTION_STEPS, Resolver } from './klp/convert-resolve.js';
export type { ResolutionStep, ResolveRequest } from './klp/convert-resolve.js';
export { readPatchTables } from './klp/patch-tables.js';
export type { PatchTables, KlpObjectEntry, KlpFuncEntry } from './klp/patch-tables.js';
export { loadTarget } from './klp/target.js';
export type { KernelTarget } from './klp/target.js';
export { checkAgainstTarget, declaredObjectFindings, readPatchModule } from './klp/target-check.js';
export type { TargetFinding, TargetVerdict, LoadOutcome } from './klp/target-check.js';
export * from './klp/constants.js';
export { KlpError, SymbolMapError } from './klp/errors.js';
