// SPDX-License-Identifier: GPL-2.0-only
/* good: vmlinux pos 0, module homonym pos 2, patches test_klp_answer */
#define KLPT_VM "\".klp.sym.rela.vmlinux.vmlinux.saved_command_line,0\""
#define KLPT_MOD "\".klp.sym.rela.test_klp_convert_mod.test_klp_convert_mod.homonym_string,2\""
#define KLPT_MOD_OBJ
#include "agree_lp.h"
