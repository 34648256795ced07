/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal to the target module test_klp_convert_mod (not seen by livepatches). */
#ifndef TEST_KLP_CONVERT_MOD_H
#define TEST_KLP_CONVERT_MOD_H

#include <linux/compiler.h>

/* Keep a static function out of line and uncloned under its source name. */
#if defined(__clang__)
#define KLPT_KEEP noinline __used __attribute__((__optnone__))
#else
#define KLPT_KEEP noinline __used __attribute__((__noipa__))
#endif

/* Entry points of _b.c used by _a.c's init, so both halves are exercised. */
const char *get_homonym_string_b(void);
const char *klp_string_b_get(void);

#endif
