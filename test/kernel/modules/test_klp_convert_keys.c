// SPDX-License-Identifier: GPL-2.0-only
/*
 * Livepatch "keys": a static branch on a vmlinux static key that is static
 * in kernel/trace/trace.c (tracepoint_printk_key).  static_branch_unlikely()
 * puts an entry into __jump_table whose key field is relocated against the
 * key; the converter must turn it into a .klp.rela.vmlinux.__jump_table
 * relocation, which the kernel applies at module load, before jump-label
 * initialisation.  The kernel enables the key at boot when the command line
 * has "tp_printk", so the printed state proves the right key was reached.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/jump_label.h>
#include <linux/livepatch.h>

extern struct static_key_false tracepoint_printk_key;

static void print_values(void)
{
	if (static_branch_unlikely(&tracepoint_printk_key))
		pr_info("static_branch_unlikely(&tracepoint_printk_key) is true\n");
	else
		pr_info("static_branch_unlikely(&tracepoint_printk_key) is false\n");
	pr_info("static_key_enabled(&tracepoint_printk_key) is %s\n",
		static_key_enabled(&tracepoint_printk_key) ? "true" : "false");
}

static int print_debug_set(const char *val, const struct kernel_param *kp)
{
	print_values();
	return 0;
}

static const struct kernel_param_ops print_debug_ops = {
	.set = print_debug_set,
};
module_param_cb(print_debug, &print_debug_ops, NULL, 0200);

static struct klp_func no_funcs[] = { {} };

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = no_funcs },		/* vmlinux */
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_convert_keys_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_convert_keys_exit(void)
{
}

module_init(test_klp_convert_keys_init);
module_exit(test_klp_convert_keys_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert kernel test: vmlinux static key in __jump_table");
