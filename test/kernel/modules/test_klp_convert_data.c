// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "data": relocations of every storage class.  Each pointer below
 * holds the address of a static of the target module (test_klp_convert_mod
 * _c.c), so its relocation lands in .rela.data, .rela.rodata (const
 * pointers), .rela.data..read_mostly or .rela.text (a pointer built on the
 * stack) and must become a klp relocation there.  All names are unique, so
 * no annotation is needed.  The pointers are read with READ_ONCE() so
 * that gcc cannot fold a never-written static pointer into its initialiser
 * (which would move the relocation from .data/.rodata into .text).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/livepatch.h>
#include "test_klp_convert.h"

int *p_global_small = &data_global_small;
int *const p_const_global_small = &data_const_global_small;
static int *p_static_small = &data_static_small;
static int *const p_static_const_small = &data_static_const_small;
static int *p_read_mostly __read_mostly = &data_read_mostly;

int *p_global_large = data_global_large;
int *const p_const_global_large = data_const_global_large;
static int *p_static_large = data_static_large;
static int *const p_static_const_large = data_static_const_large;

static noinline void print_small(const char *name, const int *p)
{
	pr_info("%s: %x\n", name, *p);
}

static noinline void print_large(const char *name, const int *p)
{
	pr_info("%s[0..3]: %x %x %x %x\n", name, p[0], p[1], p[2], p[3]);
}

static void print_values(void)
{
	int *p_local_small = &data_local_small;		/* .text */
	static int *p_static_local_small = &data_static_local_small;

	print_small("data_global_small", READ_ONCE(p_global_small));
	print_small("data_const_global_small", READ_ONCE(p_const_global_small));
	print_small("data_static_small", READ_ONCE(p_static_small));
	print_small("data_static_const_small", READ_ONCE(p_static_const_small));
	print_small("data_local_small", p_local_small);
	print_small("data_static_local_small", READ_ONCE(p_static_local_small));
	print_small("data_read_mostly", READ_ONCE(p_read_mostly));
	print_large("data_global_large", READ_ONCE(p_global_large));
	print_large("data_const_global_large", READ_ONCE(p_const_global_large));
	print_large("data_static_large", READ_ONCE(p_static_large));
	print_large("data_static_const_large", READ_ONCE(p_static_const_large));
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

static int __init test_klp_convert_data_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_data_exit(void)
{
}

module_init(test_klp_convert_data_init);
module_exit(test_klp_convert_data_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: data relocations of every storage class");
