// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch 1: positions given by annotations (include/klp_convert.h).
 *
 *  vmlinux:              saved_command_line, 0
 *  test_klp_convert_mod: driver_name 0, test_klp_get_driver_name 0,
 *                        homonym_string 1, get_homonym_string 1 ("A"),
 *                        klp_string.67890 1 (unique, position 1 is legal);
 *                        klp_string.12345 is not annotated (unique name).
 * Patches no function; the klp_objects only make the kernel apply the
 * relocations.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "klp_convert.h"
#include "test_klp_convert.h"

KLP_MODULE_RELOC(vmlinux) test_klp_convert1_vmlinux_relocs[] = {
	KLP_SYMPOS(saved_command_line, 0),
};

KLP_MODULE_RELOC(test_klp_convert_mod) test_klp_convert1_mod_relocs[] = {
	KLP_SYMPOS(driver_name, 0),
	KLP_SYMPOS(test_klp_get_driver_name, 0),
	KLP_SYMPOS(homonym_string, 1),
	KLP_SYMPOS(get_homonym_string, 1),
	KLP_SYMPOS(klp_string_b, 1),
};

static void print_values(void)
{
	pr_info("saved_command_line, 0: %s\n", saved_command_line);
	pr_info("driver_name, 0: %s\n", driver_name);
	pr_info("test_klp_get_driver_name(), 0: %s\n", test_klp_get_driver_name());
	pr_info("homonym_string, 1: %s\n", homonym_string);
	pr_info("get_homonym_string(), 1: %s\n", get_homonym_string());
	pr_info("klp_string.12345 = %s\n", klp_string_a);
	pr_info("klp_string.67890 = %s\n", klp_string_b);
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

static int __init test_klp_convert1_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert1_exit(void)
{
}

module_init(test_klp_convert1_init);
module_exit(test_klp_convert1_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: annotated positions");
