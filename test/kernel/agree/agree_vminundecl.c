// SPDX-License-Identifier: GPL-2.0-only
/* vmlinux symbol in a section of an undeclared module object (agree.sh renames the section) */
#define KLPT_VM "\".klp.sym.rela.vmlinux.vmlinux.saved_command_line,0\""
#include "agree_lp.h"
