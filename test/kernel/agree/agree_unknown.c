// SPDX-License-Identifier: GPL-2.0-only
/* a vmlinux symbol that does not exist */
#define KLPT_VMADDR "\".klp.sym.rela.vmlinux.vmlinux.klpt_no_such_symbol,0\""
#include "agree_lp.h"
