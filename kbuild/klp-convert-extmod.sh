#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# klp-convert-extmod.sh KDIR M: the conversion step of klp-convert.mk (see there), run after
# `make -C KDIR M=M modules`. Environment: KLP_CONVERT (command, default klp-convert),
# KLP_SYMBOLS (a ready map; else M/.klp/symbols.klpx is written), KLP_OBJTREE (write that map
# from this kernel tree or debug package instead of KDIR), KBUILD_VERBOSE=1.
set -eu
kdir=$(cd "$1" && pwd)
m=$(cd "$2" && pwd)
conv=${KLP_CONVERT:-klp-convert}
klp=$m/.klp
die() { echo "klp-convert.mk: $*" >&2; exit 1; }
run() {
	if [ "${KBUILD_VERBOSE:-}" = 1 ]; then echo "$*"; fi
	"$@"
}
[ -f "$m/modules.order" ] || die "$m/modules.order is missing (did the module build run?)"
mkdir -p "$klp"

# this directory's modules.order entries, relative to it (6.12: "<M>/foo.o"; 6.13+: "foo.o")
entries=$(awk -v p="$m/" 'index($0, p) == 1 { $0 = substr($0, length(p) + 1) } { print }' "$m/modules.order")

is_livepatch() { # FILE.ko: has a livepatch key in .modinfo
	objcopy -O binary --only-section=.modinfo "$1" "$klp/modinfo.tmp" 2>/dev/null || return 1
	tr '\0' '\n' <"$klp/modinfo.tmp" | grep -q '^livepatch='
}

map=${KLP_SYMBOLS:-}
if [ -z "$map" ] && [ -n "${KLP_OBJTREE:-}" ]; then
	# a distribution kernel: KDIR is its headers tree (no modules, BTF-only vmlinux); the map comes
	# from its debug package (or any tree `klp-convert symbols --objtree` takes)
	map=$klp/symbols.klpx
	if [ ! -f "$map" ] || [ "$(cat "$klp/objtree" 2>/dev/null)" != "$KLP_OBJTREE" ]; then
		echo "  KLP     $map"
		run $conv symbols --objtree "$KLP_OBJTREE" --format ext -o "$map.tmp" >/dev/null
		mv -f "$map.tmp" "$map"
		echo "$KLP_OBJTREE" >"$klp/objtree"
	fi
fi
if [ -z "$map" ]; then
	[ -f "$kdir/vmlinux" ] || die "$kdir/vmlinux is missing: the map needs a built kernel tree (or set KLP_OBJTREE to the kernel's debug package, or KLP_SYMBOLS)"
	[ -f "$kdir/modules.order" ] || die "$kdir/modules.order is missing: $kdir is not a built kernel tree (a distribution's headers?); set KLP_OBJTREE to the kernel's debug package (e.g. /usr/lib/debug/lib/modules/<release>) or KLP_SYMBOLS to a map"
	map=$klp/symbols.klpx
	# inputs: vmlinux, both module lists and this directory's module objects
	stale=
	if [ ! -f "$map" ]; then stale=1; fi
	for f in "$kdir/vmlinux" "$kdir/modules.order" "$m/modules.order" $(for e in $entries; do echo "$m/$e"; done); do
		if [ -z "$stale" ] && [ "$f" -nt "$map" ]; then stale=1; fi
	done
	if [ -n "$stale" ]; then
		# a small object tree for `klp-convert symbols`: the kernel's modules under k/, ours
		# under m/ (livepatch modules are left out by their .modinfo)
		t=$klp/objtree
		rm -rf "$t"
		mkdir -p "$t"
		ln -s "$kdir/vmlinux" "$t/vmlinux"
		ln -s "$kdir" "$t/k"
		ln -s "$m" "$t/m"
		{
			sed 's|^|k/|' "$kdir/modules.order"
			for e in $entries; do echo "m/$e"; done
		} >"$t/modules.order"
		if [ -f "$kdir/modules.livepatch" ]; then sed 's|^|k/|' "$kdir/modules.livepatch" >"$t/modules.livepatch"; fi
		echo "  KLP     $map"
		run $conv symbols --objtree "$t" --format ext -o "$map.tmp" >/dev/null
		mv -f "$map.tmp" "$map"
		rm -rf "$t"
	fi
fi

# the exports modpost saw: the kernel's Module.symvers plus this directory's own (which lists only
# the exports of its modules); given to convert as --symvers when the kernel's exists
symvers=
if [ -f "$kdir/Module.symvers" ]; then
	symvers=$klp/Module.symvers
	cat "$kdir/Module.symvers" >"$symvers.tmp"
	if [ -f "$m/Module.symvers" ]; then cat "$m/Module.symvers" >>"$symvers.tmp"; fi
	if ! cmp -s "$symvers.tmp" "$symvers"; then mv -f "$symvers.tmp" "$symvers"; else rm -f "$symvers.tmp"; fi
fi

for e in $entries; do
	stem=${e%.o}
	ko=$m/$stem.ko
	[ -f "$ko" ] || die "$ko is missing"
	is_livepatch "$ko" || continue
	done_stamp=$klp/$(echo "$stem" | tr / _).converted
	if [ -f "$done_stamp" ] && ! [ "$ko" -nt "$done_stamp" ] && ! [ "$map" -nt "$done_stamp" ] &&
		{ [ -z "$symvers" ] || ! [ "$symvers" -nt "$done_stamp" ]; }; then continue; fi
	set -- convert --symbols "$map"
	if [ -n "$symvers" ]; then set -- "$@" --symvers "$symvers"; fi
	if [ -f "$m/$stem.resolve" ]; then set -- "$@" --resolve "$m/$stem.resolve"; fi
	echo "  KLP     $ko"
	if ! run $conv "$@" "$ko" -o "$ko"; then
		rm -f "$done_stamp"
		die "cannot convert $ko"
	fi
	touch "$done_stamp"
done
rm -f "$klp/modinfo.tmp"
