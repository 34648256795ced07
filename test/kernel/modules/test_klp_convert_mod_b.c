// SPDX-License-Identifier: GPL-2.0-only
/* Target module for the klp-convert kernel tests, part B: the second homonyms. */
#include <linux/kernel.h>
#include "test_klp_convert_mod.h"

/* Second of two statics with this name (the first is in _a.c). */
static char homonym_string[] __used = "homonym string B";

static KLPT_KEEP const char *get_homonym_string(void)
{
	return homonym_string;
}

const char *get_homonym_string_b(void)
{
	return get_homonym_string();
}

const char *klp_string_b_get(void)
{
	static const char klp_string[] __asm__("klp_string.67890") __used =
		"test_klp_convert_mod_b.c static string";

	return klp_string;
}
