// SPDX-License-Identifier: GPL-2.0-only
/*
 * The end-to-end livepatch of test/distro/run.sh (and docs/guide.md): replaces
 * cmdline_proc_show() (fs/proc/cmdline.c, static) so that /proc/cmdline ends with a marker.
 * It reads saved_command_line, which vmlinux defines but does not export: modpost reports it
 * "undefined!", and klp-convert turns the reference into a klp relocation the kernel resolves
 * when the patch loads.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s klp-distro-patched\n", saved_command_line);
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* .name NULL: vmlinux */
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klp_distro_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klp_distro_exit(void)
{
}

module_init(klp_distro_init);
module_exit(klp_distro_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klp-convert end-to-end test: /proc/cmdline through a klp relocation");
MODULE_INFO(livepatch, "Y");
