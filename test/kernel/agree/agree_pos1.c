// SPDX-License-Identifier: GPL-2.0-only
/* position 1 on a unique vmlinux name */
#define KLPT_VM "\".klp.sym.rela.vmlinux.vmlinux.saved_command_line,1\""
#include "agree_lp.h"
