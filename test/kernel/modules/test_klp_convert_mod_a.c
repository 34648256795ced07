// SPDX-License-Identifier: GPL-2.0-only
/*
 * Target module for the klp-convert kernel tests, part A.
 *
 * Its statics are what the livepatches reach through klp relocations, so
 * they must survive compilation under their source names: __used keeps an
 * otherwise unreferenced static, noinline/noipa keep functions out of line
 * and stop gcc from cloning them into .isra/.constprop/.part variants.
 * run.sh checks the result with nm.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include "test_klp_convert_mod.h"

/* One definition in this module; vmlinux may have others of that name. */
static char driver_name[] __used = KBUILD_MODNAME;

static KLPT_KEEP const char *test_klp_get_driver_name(void)
{
	return driver_name;
}

/* First of two statics with this name (the other is in _b.c). */
static char homonym_string[] __used = "homonym string A";

static KLPT_KEEP const char *get_homonym_string(void)
{
	return homonym_string;
}

static KLPT_KEEP const char *klp_string_a_get(void)
{
	static const char klp_string[] __asm__("klp_string.12345") __used =
		"test_klp_convert_mod_a.c static string";

	return klp_string;
}

/*
 * The function the livepatches replace.  It is read through the "answer"
 * parameter: /sys/module/test_klp_convert_mod/parameters/answer prints
 * "original answer" until a livepatch replaces test_klp_answer().
 */
static KLPT_KEEP const char *test_klp_answer(void)
{
	return "original answer";
}

static int answer_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", test_klp_answer());
}

static const struct kernel_param_ops answer_ops = {
	.get = answer_get,
};
module_param_cb(answer, &answer_ops, NULL, 0444);
MODULE_PARM_DESC(answer, "value of test_klp_answer(), a function the livepatches replace");

static int __init test_klp_convert_mod_init(void)
{
	pr_info("loaded: %s, %s, %s, %s, %s\n", test_klp_get_driver_name(),
		get_homonym_string(), get_homonym_string_b(), klp_string_a_get(),
		klp_string_b_get());
	return 0;
}

static void __exit test_klp_convert_mod_exit(void)
{
	pr_info("unloaded\n");
}

module_init(test_klp_convert_mod_init);
module_exit(test_klp_convert_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klp-convert kernel test: target module with homonym statics");
