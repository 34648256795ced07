/**
 * The data passed between the converter's stages (convert.ts): what the module asks for
 * (convert-requests.ts) -> resolution (convert-resolve.ts) -> placement (convert-place.ts) ->
 * edit (convert-edit.ts) -> verify (convert-verify.ts).
 */

/** How a symbol's object and position were decided. */
/** 'klp-build': given by a `__klp_relocs` entry of a klp-build module (convert-klp-build.ts) */
export type Resolution = 'minimal' | 'annotation' | 'rule-pos' | 'rule-file' | 'map-unique' | 'klp-build';

/** A resolved symbol: where the kernel will look it up, and which klp section gates it. */
export interface Target {
  symObject: string;
  /** object whose load gates the relocation: names the .klp.rela section */
  relaObject: string;
  name: string;
  pos: number;
  via: Resolution;
}

/** One error found by a stage; all are collected and reported together. */
export interface Problem {
  code: string;
  message: string;
  detail?: string;
}

/** A v7 KLP_SYMPOS annotation of one undefined symbol. */
export interface Annotation {
  object: string;
  pos: number;
  where: string;
  used: boolean;
}

export const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
