// SPDX-License-Identifier: GPL-2.0-only
/* position 1 binds homonym A where B was meant */
#define KLPT_MOD "\".klp.sym.rela.test_klp_convert_mod.test_klp_convert_mod.homonym_string,1\""
#define KLPT_MOD_OBJ
#include "agree_lp.h"
