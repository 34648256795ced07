// SPDX-License-Identifier: GPL-2.0-only
/* position 0 on a module homonym */
#define KLPT_MOD "\".klp.sym.rela.test_klp_convert_mod.test_klp_convert_mod.homonym_string,0\""
#define KLPT_MOD_OBJ
#include "agree_lp.h"
