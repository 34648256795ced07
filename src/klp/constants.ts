/**
 * Livepatch numbers and names (kernel include/uapi/linux/elf.h and
 * include/linux/livepatch_external.h). The generic ELF layer carries these as an ordinary
 * OS-specific flag bit and a reserved section index; only livepatch code (and the CLI's dump,
 * which decodes them by name) gives them meaning.
 */

/** SHF_RELA_LIVEPATCH marks a .klp.rela.* section (a bit inside SHF_MASKOS) */
export const SHF_RELA_LIVEPATCH = 0x00100000;
/** SHN_LIVEPATCH is the st_shndx of a .klp.sym.* symbol (equal to SHN_LOOS) */
export const SHN_LIVEPATCH = 0xff20;
/** KLP_RELA_PREFIX starts the name of a livepatch relocation section */
export const KLP_RELA_PREFIX = '.klp.rela.';
/** KLP_SYM_PREFIX starts the name of a livepatch symbol */
export const KLP_SYM_PREFIX = '.klp.sym.';
