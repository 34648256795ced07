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
/**
 * klp-build (scripts/livepatch/klp-build, 6.19+; read in 7.2, tools/objtool/include/objtool/klp.h):
 * `objtool klp diff` leaves each klp relocation as an entry of `__klp_relocs.<obj>`, a table of
 * struct klp_reloc { void *offset; void *sym; u32 type; } that `objtool klp post-link` turns into
 * `.klp.rela.<obj>.<sec>` entries after the module link; the original relocation then names a
 * `.klp.tombstone.<name>` symbol (klp-diff.c: clone_reloc_klp).
 */
export const KLP_RELOCS_PREFIX = '__klp_relocs.';
export const KLP_TOMBSTONE_PREFIX = '.klp.tombstone.';
/** sizeof(struct klp_reloc) on x86_64: two 8-byte pointers, a u32 and 4 bytes of tail padding */
export const KLP_RELOC_SIZE = 24;
export const KLP_RELOC_OFFSET_FIELD = 0;
export const KLP_RELOC_SYM_FIELD = 8;
export const KLP_RELOC_TYPE_FIELD = 16;
