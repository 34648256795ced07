// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "dup": a name that vmlinux defines twice.
 *
 * In the x86_64 6.12 test kernel, ucode_path is a static string in both
 * arch/x86/kernel/cpu/microcode/intel.c ("kernel/x86/microcode/GenuineIntel.bin")
 * and amd.c ("kernel/x86/microcode/AuthenticAMD.bin").  The source names no
 * position; test_klp_convert_dup.resolve says "the one from amd.c", which is
 * the second in kallsyms (address) order: a converter that ignores the file
 * rule and takes the first, or counts in another order, prints the wrong
 * string.
 *
 * Two files are named amd.c: arch/x86/kernel/cpu/amd.c and
 * arch/x86/kernel/cpu/microcode/amd.c, and vmlinux has about 60 copies of each
 * __func__.N (the __func__ strings of functions that use it; gcc numbers them
 * per file).  The rules name one of each file by path, microcode/amd.c and
 * cpu/amd.c, which the basename amd.c could not tell apart: the strings printed
 * are the names of functions of those two files.  Which N each file has
 * depends on the kernel: test/kernel/dup-pick.mjs picks them for the kernel
 * under test and writes test_klp_convert_dup_pick.h and the .resolve rules.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include "test_klp_convert.h"
#include "test_klp_convert_dup_pick.h"

extern const char ucode_path[];
extern const char ucode_amd_func[] __asm__(DUP_UCODE_FUNC);
extern const char cpu_amd_func[] __asm__(DUP_CPU_FUNC);

static void print_values(void)
{
	pr_info("ucode_path (file amd.c): %s\n", ucode_path);
	pr_info(DUP_UCODE_FUNC " (file microcode/amd.c): %s\n", ucode_amd_func);
	pr_info(DUP_CPU_FUNC " (file cpu/amd.c): %s\n", cpu_amd_func);
}
KLPT_PRINT_DEBUG_PARAM(print_values);

static struct klp_func no_funcs[] = { {} };

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = no_funcs },		/* vmlinux */
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_convert_dup_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_dup_exit(void)
{
}

module_init(test_klp_convert_dup_init);
module_exit(test_klp_convert_dup_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: a name duplicated in vmlinux, resolved by file");
