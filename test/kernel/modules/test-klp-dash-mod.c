// SPDX-License-Identifier: GPL-2.0-only
/*
 * Second target module for the klp-convert kernel tests.  Its file name has
 * dashes; the kernel knows the module as "test_klp_dash_mod", and klp
 * relocations must use that form (.klp.rela.test_klp_dash_mod.*).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>

static char dash_string[] __used = "dash module string";

static noinline __used const char *dash_get_string(void)
{
	return dash_string;
}

static int __init test_klp_dash_mod_init(void)
{
	pr_info("loaded: %s\n", dash_get_string());
	return 0;
}

static void __exit test_klp_dash_mod_exit(void)
{
}

module_init(test_klp_dash_mod_init);
module_exit(test_klp_dash_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klp-convert kernel test: target module with dashes in its file name");
