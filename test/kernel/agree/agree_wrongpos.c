// SPDX-License-Identifier: GPL-2.0-only
/* position 3 of 2 homonyms in the module */
#define KLPT_MOD "\".klp.sym.rela.test_klp_convert_mod.test_klp_convert_mod.homonym_string,3\""
#define KLPT_MOD_OBJ
#include "agree_lp.h"
