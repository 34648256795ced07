// SPDX-License-Identifier: GPL-2.0-only
/* a klp_object for a module the kernel does not have */
#define KLPT_MOD_OBJ
#define KLPT_MOD_OBJNAME "klpt_no_such_mod"
#include "agree_lp.h"
