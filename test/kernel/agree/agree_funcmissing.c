// SPDX-License-Identifier: GPL-2.0-only
/* a patched vmlinux function that does not exist */
#define KLPT_VM_FUNC "klpt_no_such_function"
#include "agree_lp.h"
