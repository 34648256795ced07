/**
 * Livepatch numbers and names (include/uapi/linux/elf.h, kernel/livepatch/core.c,
 * include/linux/livepatch_external.h). The ELF layer carries these as ordinary flag bits and
 * reserved section indexes; only this layer gives them meaning.
 */
/** sh_flags bit that marks a klp relocation section (inside SHF_MASKOS) */
export const SHF_RELA_LIVEPATCH = 0x00100000;
/** st_shndx of a symbol that livepatch resolves (equal to SHN_LOOS) */
export const SHN_LIVEPATCH = 0xff20;
export const KLP_RELA_PREFIX = '.klp.rela.';
export const KLP_SYM_PREFIX = '.klp.sym.';
/** the 2023-2024 "minimal" annotation scheme's assembler-name prefix */
export const KLP_MINIMAL_PREFIX = '.klp.sym.rela.';
/** v4-v7 annotation sections: .klp.module_relocs.<obj> */
export const KLP_MODULE_RELOCS_PREFIX = '.klp.module_relocs.';
/** one packed struct klp_module_reloc: 8-byte symbol address field + u32 sympos */
export const KLP_MODULE_RELOC_SIZE = 12;
/** MODULE_NAME_LEN - 1 on 64-bit kernels (the %55 in the kernel's sscanf formats) */
export const KLP_OBJNAME_MAX = 55;
/** KSYM_NAME_LEN - 1: 511 since Linux 6.1, 127 before */
export const KLP_SYMNAME_MAX = 511;
export const KLP_SYMNAME_MAX_PRE_6_1 = 127;
export const SYMBOL_MAP_HEADER_V01 = 'klp-convert-symbol-data.0.1';
