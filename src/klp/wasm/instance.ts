/**
 * Instances of the committed WebAssembly modules (wasm/*.wasm.ts, from the C beside them): each
 * module is compiled once per thread from its base64 bytes, each instance gets its own memory.
 * The C uses no globals or stack beyond wasm-ld's, so a caller lays its tables out from
 * LAYOUT_BASE on.
 */

/** where a caller's layout starts: above the module's own stack (wasm-ld puts __heap_base at 66,560) */
export const LAYOUT_BASE = 1 << 17;

/** pages is the number of 64 KiB WebAssembly pages that hold `bytes` */
export function pages(bytes: number): number {
  return Math.ceil(bytes / 65536);
}

const compiled = new Map<string, WebAssembly.Module>();

/** instantiate returns the exports of the module in `base64` over `memory` (imported as env.memory) */
export function instantiate(base64: string, memory: WebAssembly.Memory): WebAssembly.Exports {
  let m = compiled.get(base64);
  if (m === undefined) compiled.set(base64, (m = new WebAssembly.Module(Buffer.from(base64, 'base64'))));
  return new WebAssembly.Instance(m, { env: { memory } }).exports;
}
