/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * klp_convert.h - symbol position annotations for klp-convert
 *
 * A livepatch module refers to symbols of the object it patches (vmlinux or
 * a module) as if they were ordinary externs.  `klp-convert convert` turns
 * those references into livepatch relocations (.klp.rela.<obj>.<sec>
 * sections against .klp.sym.<obj>.<name>,<pos> symbols).  When a name is
 * not unique in its object, or the object cannot be inferred, the source
 * tells the converter which one it means with an annotation:
 *
 *	#include "klp_convert.h"
 *
 *	extern char *saved_command_line;
 *	extern char homonym_string[];
 *
 *	KLP_MODULE_RELOC(vmlinux) vmlinux_relocs[] = {
 *		KLP_SYMPOS(saved_command_line, 0),
 *	};
 *	KLP_MODULE_RELOC(my_target_mod) my_target_mod_relocs[] = {
 *		KLP_SYMPOS(homonym_string, 1),
 *	};
 *
 * Binary format (the layout of klp-convert v7, which the converter reads):
 *
 *  - Each KLP_MODULE_RELOC(obj) array lands in the section
 *    ".klp.module_relocs.<obj>", 4-byte aligned.  <obj> is "vmlinux" or the
 *    target module's name as the kernel knows it (dashes replaced by '_').
 *  - An entry is 12 bytes, packed:
 *	offset 0: 8 bytes, the address of the annotated symbol.  The field is
 *	          8 bytes wide on 32-bit targets too (a union with a u64).  In
 *	          the relocatable object it is zero and carries a relocation
 *	          against the symbol in ".rela.klp.module_relocs.<obj>".
 *	offset 8: 4 bytes, the symbol position (sympos) in the target's byte
 *	          order.  0 means "the name is unique in <obj>"; N >= 1 means
 *	          "the Nth symbol of that name" in the kernel's counting order
 *	          (kallsyms address order for vmlinux, .ko symtab order for
 *	          modules).
 *  - The converter consumes these sections and removes them (and their
 *    relocations) from its output; they never reach the kernel.
 *
 * Usable from kernel modules and from plain userspace C (for tests): only
 * GCC/Clang attributes are used, no kernel macros.
 */
#ifndef KLP_CONVERT_H
#define KLP_CONVERT_H

struct klp_module_reloc {
	union {
		void *sym;
		unsigned long long sym64;	/* keeps the field 8 bytes wide everywhere */
	};
	unsigned int sympos;
} __attribute__((packed));

#define KLP_MODULE_RELOC(obj)						\
	struct klp_module_reloc						\
	__attribute__((used, section(".klp.module_relocs." #obj), aligned(4)))

/*
 * The macro parameters are not called "sym"/"sympos": they would also
 * replace the designators .sym and .sympos.
 */
#define KLP_SYMPOS(symbol, position)					\
	{								\
		.sym = (void *)&(symbol),				\
		.sympos = (position),					\
	}

/* The entry size the converter relies on. */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct klp_module_reloc) == 12,
	       "struct klp_module_reloc must be 12 bytes");
#else
typedef char klp_module_reloc_size_check[(sizeof(struct klp_module_reloc) == 12) ? 1 : -1];
#endif

#endif /* KLP_CONVERT_H */
