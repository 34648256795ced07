// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch 2: automatic resolution plus position 2.
 *
 *  vmlinux:              saved_command_line, no annotation (unique name)
 *  test_klp_convert_mod: homonym_string 2, get_homonym_string 2 ("B"),
 *                        driver_name 0, test_klp_get_driver_name automatic.
 * Replaces the target's test_klp_answer() with one that returns
 * get_homonym_string() #2, so reading the target's "answer" parameter gives
 * "homonym string B": the patch reached the right function and the right
 * homonym.
 *
 * With KLPT_NO_MOD_ANNOTATIONS defined (test_klp_convert_wrongpos.c) the
 * module annotations are left out, so positions come from a resolve file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "klp_convert.h"
#include "test_klp_convert.h"

#ifndef KLPT_NO_MOD_ANNOTATIONS
KLP_MODULE_RELOC(test_klp_convert_mod) test_klp_convert2_mod_relocs[] = {
	KLP_SYMPOS(driver_name, 0),
	KLP_SYMPOS(homonym_string, 2),
	KLP_SYMPOS(get_homonym_string, 2),
};
#endif

static void print_values(void)
{
	pr_info("saved_command_line (auto): %s\n", saved_command_line);
	pr_info("driver_name, 0: %s\n", driver_name);
	pr_info("homonym_string, 2: %s\n", homonym_string);
	pr_info("get_homonym_string(), 2: %s\n", get_homonym_string());
	pr_info("test_klp_get_driver_name() (auto): %s\n", test_klp_get_driver_name());
}
KLPT_PRINT_DEBUG_PARAM(print_values);

static const char *livepatch_answer(void)
{
	return get_homonym_string();
}

static struct klp_func no_funcs[] = { {} };

static struct klp_func mod_funcs[] = {
	{ .old_name = "test_klp_answer", .new_func = livepatch_answer },
	{}
};

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = no_funcs },		/* vmlinux */
	{ .name = "test_klp_convert_mod", .funcs = mod_funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_convert2_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert2_exit(void)
{
}

module_init(test_klp_convert2_init);
module_exit(test_klp_convert2_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: automatic resolution and position 2");
