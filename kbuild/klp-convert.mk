# SPDX-License-Identifier: GPL-2.0-only
# klp-convert for out-of-tree livepatch modules against an UNPATCHED kernel tree.
#
# In the module's Makefile (the directory that has the Kbuild file / obj-m lines):
#
#   KDIR ?= /lib/modules/$(shell uname -r)/build
#   include /path/to/klp-convert/kbuild/klp-convert.mk
#
# then `make` (or `make KDIR=... KLP_CONVERT="node .../main.js"`) does three things:
#   1. make -C $(KDIR) M=$(CURDIR) KBUILD_MODPOST_WARN=1 modules
#      (modpost of an unpatched tree reports a livepatch's references to unexported symbols as
#      "undefined!"; KBUILD_MODPOST_WARN=1 makes those warnings)
#   2. writes .klp/symbols.klpx: the symbol map of $(KDIR)'s vmlinux and modules plus this
#      directory's own non-livepatch modules (rewritten only when one of them changed)
#   3. converts every livepatch module (MODULE_INFO(livepatch, "Y")) of this directory in place,
#      with <module>.resolve as --resolve rules when that file exists, and, when
#      $(KDIR)/Module.symvers exists, --symvers with it and this directory's Module.symvers
#      (the exports modpost saw).
# For step 2 the kernel tree needs vmlinux and modules.order (a full build tree). A distribution
# kernel's headers (/lib/modules/<release>/build) have neither: set KLP_OBJTREE to its debug
# package (e.g. KLP_OBJTREE=/usr/lib/debug/lib/modules/<release>) and the map is written from it.
#
# Variables: KDIR, KLP_CONVERT (default: klp-convert), KLP_SYMBOLS (use this map instead of
# writing .klp/symbols.klpx), KLP_OBJTREE (write .klp/symbols.klpx from this kernel tree or
# debug package instead of KDIR), V=1 (show commands).

KDIR ?= /lib/modules/$(shell uname -r)/build
KLP_CONVERT ?= klp-convert
KLP_SYMBOLS ?=
KLP_OBJTREE ?=
klp-convert-mk-dir := $(dir $(lastword $(MAKEFILE_LIST)))

.PHONY: all modules klp-convert clean
all: klp-convert
modules: klp-convert

klp-convert:
	$(MAKE) -C $(KDIR) M=$(CURDIR) KBUILD_MODPOST_WARN=1 modules
	@KLP_CONVERT='$(KLP_CONVERT)' KLP_SYMBOLS='$(KLP_SYMBOLS)' KLP_OBJTREE='$(KLP_OBJTREE)' KBUILD_VERBOSE='$(V)' \
		sh $(klp-convert-mk-dir)klp-convert-extmod.sh $(KDIR) $(CURDIR)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(CURDIR)/.klp
