// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch 3: homonyms resolved by source file, without any position
 * number in the source or in the resolve file (test_klp_convert3.resolve):
 *
 *   homonym_string      file=test_klp_convert_mod_b.c  -> "homonym string B"
 *   get_homonym_string  file=test_klp_convert_mod_a.c  -> "homonym string A"
 *
 * The two rules name different files on purpose: a converter that ignored
 * the file and used one fixed position would get one of them wrong.
 * Replaces test_klp_answer() with one returning get_homonym_string(), so the
 * target's "answer" parameter reads "homonym string A".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "test_klp_convert.h"

static void print_values(void)
{
	pr_info("saved_command_line (auto): %s\n", saved_command_line);
	pr_info("homonym_string (file _b.c): %s\n", homonym_string);
	pr_info("get_homonym_string() (file _a.c): %s\n", get_homonym_string());
	pr_info("klp_string.12345 = %s\n", klp_string_a);
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

static int __init test_klp_convert3_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert3_exit(void)
{
}

module_init(test_klp_convert3_init);
module_exit(test_klp_convert3_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: homonyms resolved by source file");
