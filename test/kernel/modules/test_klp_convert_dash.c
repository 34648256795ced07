// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "dash": symbols of a target module whose file name has dashes
 * (test-klp-dash-mod.ko, kernel name test_klp_dash_mod).  The klp sections
 * and symbols must name the object test_klp_dash_mod, or the kernel never
 * applies them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "test_klp_convert.h"

extern char dash_string[];
extern const char *dash_get_string(void);

static void print_values(void)
{
	pr_info("dash_string: %s\n", dash_string);
	pr_info("dash_get_string(): %s\n", dash_get_string());
}
KLPT_PRINT_DEBUG_PARAM(print_values);

static struct klp_func no_funcs[] = { {} };

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = no_funcs },		/* vmlinux */
	{ .name = "test_klp_dash_mod", .funcs = no_funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_convert_dash_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_dash_exit(void)
{
}

module_init(test_klp_convert_dash_init);
module_exit(test_klp_convert_dash_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: target module with dashes in its file name");
