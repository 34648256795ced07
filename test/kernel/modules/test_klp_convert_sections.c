// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "sections": the same symbols referenced from several sections.
 *
 * saved_command_line is read 1, 2 and 3 times from functions placed in
 * three different .text.* sections, so the converter must build one
 * .klp.rela.vmlinux.<section> per section, all against one klp symbol.
 * Function pointers in .data refer to target-module functions that .text
 * also calls directly.  Only get_homonym_string is annotated (position 1).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "klp_convert.h"
#include "test_klp_convert.h"

KLP_MODULE_RELOC(test_klp_convert_mod) test_klp_convert_sections_relocs[] = {
	KLP_SYMPOS(get_homonym_string, 1),
};

static noinline __section(".text.print_saved_command_line")
void print_saved_command_line(void)
{
	pr_info("saved_command_line (1): %s\n", saved_command_line);
}

static noinline __section(".text.print_saved_command_line2")
void print_saved_command_line2(void)
{
	pr_info("saved_command_line (1): %s\n", saved_command_line);
	pr_info("saved_command_line (2): %s\n", saved_command_line);
}

static noinline __section(".text.print_saved_command_line3")
void print_saved_command_line3(void)
{
	pr_info("saved_command_line (1): %s\n", saved_command_line);
	pr_info("saved_command_line (2): %s\n", saved_command_line);
	pr_info("saved_command_line (3): %s\n", saved_command_line);
}

/* .data: pointers to functions of the target module */
const char *(*p_test_klp_get_driver_name)(void) = test_klp_get_driver_name;
const char *(*p_get_homonym_string)(void) = get_homonym_string;

static void print_values(void)
{
	print_saved_command_line();
	print_saved_command_line2();
	print_saved_command_line3();
	pr_info("test_klp_get_driver_name(): %s\n", test_klp_get_driver_name());
	pr_info("p_test_klp_get_driver_name(): %s\n", p_test_klp_get_driver_name());
	pr_info("get_homonym_string(): %s\n", get_homonym_string());
	pr_info("p_get_homonym_string(): %s\n", p_get_homonym_string());
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

static int __init test_klp_convert_sections_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_sections_exit(void)
{
}

module_init(test_klp_convert_sections_init);
module_exit(test_klp_convert_sections_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: one symbol used from several sections");
