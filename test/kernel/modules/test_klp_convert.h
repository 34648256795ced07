/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Declarations shared by the klp-convert test livepatches.  Every name here
 * is defined as a *static* (or unexported) symbol in vmlinux or in one of the
 * test target modules, so a livepatch that uses it links only after
 * klp-convert has turned the references into klp relocations.
 */
#ifndef TEST_KLP_CONVERT_H
#define TEST_KLP_CONVERT_H

#include <linux/moduleparam.h>

/* vmlinux (init/main.c), not exported */
extern char *saved_command_line;

/* test_klp_convert_mod: two of each in _a.c and _b.c */
extern char driver_name[];
extern const char *test_klp_get_driver_name(void);
extern char homonym_string[];
extern const char *get_homonym_string(void);
/* function-local statics, renamed with asm labels as gcc would name them */
extern const char klp_string_a[] __asm__("klp_string.12345");
extern const char klp_string_b[] __asm__("klp_string.67890");

/* test_klp_convert_mod _c.c: data of every storage class */
extern int data_global_small;
extern int data_const_global_small;
extern int data_static_small;
extern int data_static_const_small;
extern int data_local_small;
extern int data_static_local_small;
extern int data_read_mostly;
extern int data_global_large[4];
extern int data_const_global_large[4];
extern int data_static_large[4];
extern int data_static_const_large[4];

/*
 * A write-only "print_debug" parameter: writing anything to
 * /sys/module/<lp>/parameters/print_debug calls fn(), which prints the
 * values read through the converted relocations.  Reading them from the
 * patch's init would not work for late module patching (the target is not
 * loaded yet), hence the parameter.
 */
#define KLPT_PRINT_DEBUG_PARAM(fn)					\
	static int print_debug_set(const char *val,			\
				   const struct kernel_param *kp)	\
	{								\
		fn();							\
		return 0;						\
	}								\
	static const struct kernel_param_ops print_debug_ops = {	\
		.set = print_debug_set,					\
	};								\
	module_param_cb(print_debug, &print_debug_ops, NULL, 0200);	\
	MODULE_PARM_DESC(print_debug, "print values read through klp relocations")

#endif
