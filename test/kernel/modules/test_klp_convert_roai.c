// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "roai": a pointer in .data..ro_after_init to a static of the target
 * module (test_klp_convert_mod_c.c).  Its klp relocation,
 * .klp.rela.test_klp_convert_mod..data..ro_after_init, is applied when the patch
 * is enabled (target already loaded) or when the target loads later; by then
 * the patch module's .data..ro_after_init is read-only, so the kernel must write
 * it through its text-poke helper (x86 text_poke, arm64 aarch64_insn_copy,
 * s390 s390_kernel_write) or fail.  The roai and roai-late cases record what
 * each architecture's kernel does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/livepatch.h>
#include "test_klp_convert.h"

static int *p_roai_static_small __ro_after_init = &data_static_small;
static int *p_roai_global_large __ro_after_init = data_global_large;

static void print_values(void)
{
	const int *s = READ_ONCE(p_roai_static_small), *l = READ_ONCE(p_roai_global_large);

	pr_info("ro_after_init data_static_small: %x\n", *s);
	pr_info("ro_after_init data_global_large[0..3]: %x %x %x %x\n", l[0], l[1], l[2], l[3]);
}
KLPT_PRINT_DEBUG_PARAM(print_values);

static struct klp_func no_funcs[] = { {} };

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = no_funcs },		/* vmlinux */
	{ .name = "test_klp_convert_mod", .funcs = no_funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_convert_roai_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_roai_exit(void)
{
}

module_init(test_klp_convert_roai_init);
module_exit(test_klp_convert_roai_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: module references from .data..ro_after_init");
