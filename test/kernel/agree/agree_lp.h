/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Body of the agreement-test livepatches (test/kernel/agree.sh). Each agree_*.c sets a few macros
 * and includes this file:
 *
 *   KLPT_VM       minimal-form name of a vmlinux char * (read with %s: a wrong address crashes)
 *   KLPT_VMADDR   minimal-form name of a vmlinux symbol whose address is printed (%px)
 *   KLPT_MOD      minimal-form name of a char[] in a module (printed with %s)
 *   KLPT_MOD_OBJ  declare the klp_object test_klp_convert_mod, patching KLPT_MOD_FUNC
 *                 (default test_klp_answer) at position KLPT_MOD_FUNC_POS (default 0)
 *   KLPT_MOD_OBJNAME  the module klp_object's name (default test_klp_convert_mod)
 *   KLPT_VM_FUNC  a vmlinux function to patch (old_name), at KLPT_VM_FUNC_POS
 *
 * The names are converted by `klp-convert convert` without a map (minimal-form names are taken
 * as written), so a wrong position reaches the kernel unchanged. agree.sh then edits some
 * converted modules further (craft.mjs) for what no converter writes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>

#ifdef KLPT_VM
extern char *klpt_vm __asm__(KLPT_VM);
#endif
#ifdef KLPT_VMADDR
extern char klpt_vmaddr[] __asm__(KLPT_VMADDR);
#endif
#ifdef KLPT_MOD
extern char klpt_mod[] __asm__(KLPT_MOD);
#endif

static int print_debug_set(const char *val, const struct kernel_param *kp)
{
#ifdef KLPT_VM
	pr_info("vm: %s\n", klpt_vm);
#endif
#ifdef KLPT_VMADDR
	pr_info("vmaddr: %px\n", klpt_vmaddr);
#endif
#ifdef KLPT_MOD
	pr_info("mod: %s\n", klpt_mod);
#endif
	return 0;
}
static const struct kernel_param_ops print_debug_ops = { .set = print_debug_set };
module_param_cb(print_debug, &print_debug_ops, NULL, 0200);

static const char *livepatch_answer(void)
{
	return "patched answer";
}

static struct klp_func vm_funcs[] = {
#ifdef KLPT_VM_FUNC
#ifndef KLPT_VM_FUNC_POS
#define KLPT_VM_FUNC_POS 0
#endif
	{ .old_name = KLPT_VM_FUNC, .new_func = livepatch_answer, .old_sympos = KLPT_VM_FUNC_POS },
#endif
	{}
};

#ifdef KLPT_MOD_OBJ
#ifndef KLPT_MOD_FUNC
#define KLPT_MOD_FUNC "test_klp_answer"
#endif
#ifndef KLPT_MOD_FUNC_POS
#define KLPT_MOD_FUNC_POS 0
#endif
#ifndef KLPT_MOD_OBJNAME
#define KLPT_MOD_OBJNAME "test_klp_convert_mod"
#endif
static struct klp_func mod_funcs[] = {
	{ .old_name = KLPT_MOD_FUNC, .new_func = livepatch_answer, .old_sympos = KLPT_MOD_FUNC_POS },
	{}
};
#endif

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = vm_funcs },
#ifdef KLPT_MOD_OBJ
	{ .name = KLPT_MOD_OBJNAME, .funcs = mod_funcs },
#endif
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init agree_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit agree_exit(void)
{
}

module_init(agree_init);
module_exit(agree_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("klp-convert agreement test livepatch");
