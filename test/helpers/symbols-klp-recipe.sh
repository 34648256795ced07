#!/bin/bash
# (Copy of ../shared/tools/symbols-klp-baseline.sh, the project reference recipe, kept here so the
# byte-identity test does not depend on files outside the repository.)
# Reference: a shell port of the kbuild recipe that writes symbols.klp (klp-convert v6 02/12,
# "kbuild: Support for symbols.klp creation"; v7 moved it to scripts/Makefile.modfinal).
#   symbols-klp-baseline.sh TREE OUT
# TREE: a kbuild output tree with vmlinux and modules.order. OUT: the symbols.klp to write.
#
#   echo "klp-convert-symbol-data.0.1"   > symbols.klp
#   echo "*vmlinux"                      >> symbols.klp
#   nm -f posix vmlinux | cut -d' ' -f1  >> symbols.klp
#   for each entry of modules.order, in make's $(sort) order (byte order, duplicates dropped):
#       skip it when it is a livepatch module:
#         - v6 (seed): `grep -o LIVEPATCH <name>.mod` prints something, or
#         - v7: the entry is listed in modules.livepatch (written by the series' modpost from
#           MODULE_INFO(livepatch, "Y"); for an unpatched tree write that list yourself)
#       echo "*$(basename <name>)"                  >> symbols.klp
#       nm -f posix <name>.o | cut -d' ' -f1        >> symbols.klp
# modules.order lists <path>.ko up to Linux 6.1-ish and <path>.o in newer kernels; both work.
# A tree without <name>.o (e.g. a distro debug package) is read from <name>.ko instead.
set -u
# kbuild's top Makefile: "unexport LC_ALL; LC_COLLATE=C; LC_NUMERIC=C"; nm sorts with strcoll().
unset LC_ALL
export LC_COLLATE=C LC_NUMERIC=C
if [ $# -ne 2 ]; then echo "usage: $0 TREE OUT" >&2; exit 2; fi
tree=$1
out=$(realpath -m "$2")
NM=${NM:-nm}
cd "$tree" || exit 1
lp=modules.livepatch
[ -f "$lp" ] || lp=/dev/null

echo "klp-convert-symbol-data.0.1" > "$out"
echo "*vmlinux" >> "$out"
"$NM" -f posix vmlinux | cut -d' ' -f1 >> "$out"
for entry in $(LC_ALL=C sort -u modules.order); do
	name=${entry%.ko}; name=${name%.o}
	if [ -n "$(grep -o LIVEPATCH "$name.mod" 2>/dev/null)" ] || grep -qxF "$entry" "$lp"; then
		continue
	fi
	obj=$name.o
	[ -e "$obj" ] || obj=$name.ko
	echo "*$(basename "$name")" >> "$out"
	"$NM" -f posix "$obj" | cut -d' ' -f1 >> "$out"
done
