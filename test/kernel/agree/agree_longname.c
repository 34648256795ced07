// SPDX-License-Identifier: GPL-2.0-only
/* a klp symbol name over the limit (agree.sh renames the symbol) */
#define KLPT_VM "\".klp.sym.rela.vmlinux.vmlinux.saved_command_line,0\""
#include "agree_lp.h"
