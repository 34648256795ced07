// SPDX-License-Identifier: GPL-2.0-only
/* a 64-bit position (agree.sh writes it) */
#define KLPT_MOD "\".klp.sym.rela.test_klp_convert_mod.test_klp_convert_mod.homonym_string,2\""
#define KLPT_MOD_OBJ
#include "agree_lp.h"
