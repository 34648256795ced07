/**
 * The livepatch modinfo tag. MODULE_INFO(livepatch, "Y") puts the string "livepatch=Y" in
 * `.modinfo`, a list of NUL-separated "key=value" strings; the kernel (check_modinfo_livepatch)
 * only tests that the key exists. The symbol-map generator uses it to leave livepatch modules
 * out, the converter to refuse untagged input, the verifier to report a module the kernel would
 * not enable.
 */
import type { ElfFile } from '../elf/index.js';

const LIVEPATCH_KEY = Buffer.from('livepatch=', 'latin1');

/**
 * modinfoHasLivepatch is true when `.modinfo` bytes hold "livepatch=" at the start of a string.
 * A plain loop (.modinfo is a few hundred bytes), not Buffer#indexOf with a Buffer needle: after
 * the map scan's byte needles, that made V8 deoptimise Node's one indexOf (~1 ms of a convert).
 */
export function modinfoHasLivepatch(modinfo: Uint8Array): boolean {
  const key = LIVEPATCH_KEY;
  for (let at = 0; at + key.length <= modinfo.length; at++) {
    if (at > 0 && modinfo[at - 1] !== 0) continue;
    let k = 0;
    while (k < key.length && modinfo[at + k] === key[k]) k++;
    if (k === key.length) return true;
  }
  return false;
}

/** hasLivepatchTag looks at every `.modinfo` section of a file (found by name: no section objects made). */
export function hasLivepatchTag(elf: ElfFile): boolean {
  return elf.findSectionsByName('.modinfo').some((i) => modinfoHasLivepatch(elf.data(i)));
}
