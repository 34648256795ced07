/**
 * The livepatch modinfo tag. MODULE_INFO(livepatch, "Y") puts the string "livepatch=Y" in
 * `.modinfo`, a list of NUL-separated "key=value" strings; the kernel (check_modinfo_livepatch)
 * only tests that the key exists. The symbol-map generator uses it to leave livepatch modules
 * out, the converter to refuse untagged input, the verifier to report a module the kernel would
 * not enable.
 */
import type { ElfFile } from '../elf/index.js';

const LIVEPATCH_KEY = Buffer.from('livepatch=', 'latin1');

/** modinfoHasLivepatch is true when `.modinfo` bytes hold "livepatch=" at the start of a string. */
export function modinfoHasLivepatch(modinfo: Uint8Array): boolean {
  const b = Buffer.from(modinfo.buffer, modinfo.byteOffset, modinfo.byteLength);
  for (let at = b.indexOf(LIVEPATCH_KEY); at >= 0; at = b.indexOf(LIVEPATCH_KEY, at + 1)) {
    if (at === 0 || b[at - 1] === 0) return true;
  }
  return false;
}

/** hasLivepatchTag looks at every `.modinfo` section of a file. */
export function hasLivepatchTag(elf: ElfFile): boolean {
  return elf.sections.some((s) => s.name === '.modinfo' && modinfoHasLivepatch(elf.data(s.index)));
}
