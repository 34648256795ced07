// SPDX-License-Identifier: GPL-2.0-only
/* a patched module function at a position past its count */
#define KLPT_MOD_OBJ
#define KLPT_MOD_FUNC_POS 2
#include "agree_lp.h"
