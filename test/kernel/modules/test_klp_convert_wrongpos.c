// SPDX-License-Identifier: GPL-2.0-only
/*
 * Negative control: livepatch 2 without its module annotations.  The
 * positions come from test_klp_convert_wrongpos.resolve, which asks for
 * homonym_string position 3 although the target has only two.  Either the
 * converter refuses it, or the kernel must refuse the module with
 * "symbol position 3 for symbol 'homonym_string' in object
 * 'test_klp_convert_mod' not found".
 */
#define KLPT_NO_MOD_ANNOTATIONS
#include "test_klp_convert2.c"
