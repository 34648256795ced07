// SPDX-License-Identifier: GPL-2.0-only
/* position 0 on a vmlinux homonym */
#define KLPT_VMADDR "\".klp.sym.rela.vmlinux.vmlinux.c_start,0\""
#include "agree_lp.h"
