// SPDX-License-Identifier: GPL-2.0-only
/* a symbol of an object that does not exist, in a vmlinux section (agree.sh renames the symbol) */
#define KLPT_VMADDR "\".klp.sym.rela.vmlinux.vmlinux.klpt_sym,0\""
#include "agree_lp.h"
