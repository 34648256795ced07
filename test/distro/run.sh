#!/bin/bash
# End-to-end on real distribution kernels (issue 12): a livepatch author's day on Debian's own
# packages, with nothing but the packages and klp-convert.
#
#   test/distro/run.sh [6.12|7.2]...      (npm run test:distro; default: both)
#
# For each kernel: download the image, its -dbg package and the matching headers (+ -common and
# linux-kbuild) by package name with `apt-get download` (7.2 from sid through
# scripts/debian-sid.sh, never added to the system's sources), unpack them with dpkg -x (nothing
# is installed), build test/distro/module out of tree against the unpacked headers, write the map
# with `klp-convert symbols --objtree <unpacked dbg package>`, convert, check, then boot the
# distribution's own kernel in qemu (TCG) with a busybox initramfs and prove that the converted
# patch loads, enables and changes /proc/cmdline, and that the unconverted one is refused.
#
# 6.12 (bookworm-security) builds on this machine's gcc-12. 7.2's headers need gcc-16 and its
# kbuild tools glibc 2.38: on an older host the module is built in a sid chroot made with
# debootstrap (scripts/debian-sid.sh chroot), which needs root; otherwise 7.2 is skipped.
#
# Output: "ok <name>", "FAIL <name>: <why>", "skip <name>: <why>" lines, then "N passed, N failed".
# Downloads and unpacked packages: ${KLP_DISTRO_CACHE:-~/.cache/klp-convert/distro}/<version>/.
# Scratch: test/distro/work/<version>/, serial logs test/distro/logs/ (gitignored).
#
# Environment:
#   KLP_DISTRO_CACHE       download cache (default ${XDG_CACHE_HOME:-~/.cache}/klp-convert/distro)
#   KLP_DISTRO_612 / KLP_DISTRO_72   the version to use, e.g. 6.12.117+deb12 (default: what
#                          linux-image-6.12-cloud-amd64 / sid's linux-image-cloud-amd64 depend on,
#                          else the newest in the cache)
#   KLP_DISTRO_FLAVOUR     kernel flavour (default cloud-amd64)
#   KLP_BOOT_TIMEOUT       seconds per boot (default 240)
#   KLP_CONVERT, KLP_QEMU  as in test/kernel/run.sh
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KLP_DISTRO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/distro}
flavour=${KLP_DISTRO_FLAVOUR:-cloud-amd64}
boot_timeout=${KLP_BOOT_TIMEOUT:-240}
qemu=${KLP_QEMU:-qemu-system-x86_64}
sid=$repo/scripts/debian-sid.sh
logs=$here/logs
# shellcheck disable=SC2034 # read by lib.sh's summary
t_start=$(date +%s)
# shellcheck disable=SC2034
pass=0
# shellcheck disable=SC2034
fail=0
# shellcheck source=../kernel/lib.sh
. "$repo/test/kernel/lib.sh"
note() { echo "test:distro: $*" >&2; }
setup_cli "$repo"
mkdir -p "$logs"

# --- packages -----------------------------------------------------------------------------------
# dep_of PKGINFO NAME-PREFIX: the first dependency of a package that starts with NAME-PREFIX
dep_of() { tr ',|' '\n\n' | sed -e 's/^ *//' -e 's/ .*//' | grep -m1 "^$1" || true; }

# pick_version SERIES: the Debian version string (6.12.117+deb12) to test
pick_version() {
	local series=$1 var v meta
	var=KLP_DISTRO_${series//./}
	if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
	if [ "$series" = 6.12 ]; then
		meta=$(apt-cache show "linux-image-6.12-$flavour" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	else
		[ -f "$(sid_state)/sources.list" ] || bash "$sid" update >/dev/null 2>&1 || true
		meta=$(bash "$sid" show "linux-image-$flavour" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	fi
	v=$(echo "$meta" | dep_of "linux-image-$series." | sed -e 's/^linux-image-//' -e "s/-$flavour\$//")
	if [ -z "$v" ]; then
		# offline: the newest cached one
		v=$(find "$cache" -mindepth 3 -maxdepth 3 -path "$cache/$series.*/root/.unpacked" 2>/dev/null | sed -e "s|^$cache/||" -e 's|/.*||' | sort -V | tail -n1)
	fi
	echo "$v"
}
sid_state() { echo "${KLP_SID_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/debian-sid}"; }

# fetch SERIES VER: download (once) and unpack (once) the packages into $cache/VER; prints why not
fetch() {
	local series=$1 ver=$2 rel=$2-$flavour d=$cache/$2 get image hdrs deps p
	mkdir -p "$d/debs"
	if [ "$series" = 6.12 ]; then
		get() { (cd "$d/debs" && apt-get -o APT::Sandbox::User=root download "$@") >>"$d/download.log" 2>&1; }
		image=linux-image-$rel
	else
		get() { bash "$sid" download "$d/debs" "$@" >>"$d/download.log" 2>&1; }
		image=linux-binary-$rel # sid splits linux-image into linux-binary (vmlinuz) and linux-modules
	fi
	have() { compgen -G "$d/debs/${1}_*.deb" >/dev/null; }
	for p in "$image" "linux-image-$rel-dbg" "linux-headers-$rel"; do
		have "$p" || get "$p" || { echo "cannot download $p (see $d/download.log)"; return 1; }
	done
	# the headers' own dependencies name the -common and linux-kbuild packages
	deps=$(dpkg-deb -f "$(echo "$d/debs/linux-headers-${rel}"_*.deb)" Depends)
	hdrs=$(echo "$deps" | dep_of "linux-headers-$ver-common")
	kb=$(echo "$deps" | dep_of "linux-kbuild-")
	for p in $hdrs $kb; do
		have "$p" || get "$p" || { echo "cannot download $p (see $d/download.log)"; return 1; }
	done
	if [ ! -f "$d/root/.unpacked" ]; then
		rm -rf "$d/root"
		mkdir -p "$d/root"
		for p in "$d"/debs/*.deb; do dpkg -x "$p" "$d/root" || { echo "dpkg -x $p failed"; return 1; }; done
		ls "$d/debs" >"$d/root/.unpacked"
	fi
}

# --- one kernel ---------------------------------------------------------------------------------
run_kernel() {
	local series=$1 ver rel why d root hdr dbg work kdir mods map lp
	ver=$(pick_version "$series")
	if [ -z "$ver" ]; then
		skip "$series" "no Debian $series $flavour kernel known to apt (run apt-get update; for 7.2 scripts/debian-sid.sh update) and none cached in $cache"
		return
	fi
	rel=$ver-$flavour
	note "$series: Debian $rel"
	if ! why=$(fetch "$series" "$ver"); then
		skip "$series" "$why"
		return
	fi
	d=$cache/$ver
	root=$d/root
	hdr=$root/usr/src/linux-headers-$rel
	work=$here/work/$ver
	rm -rf "$work"
	mkdir -p "$work"

	# 1. the map, from the unpacked -dbg package as it ships
	map=$work/symbols.klpx
	if cli "$series-symbols" symbols --objtree "$root" --format ext -o "$map" -v; then
		ok "$series map-from-dbg-package" "$(grep -o 'debug package.*' "$work/cli/$series-symbols.out" | head -n1)"
	else
		bad "$series map-from-dbg-package" "$(first_line "$work/cli/$series-symbols.out")"
		return
	fi
	dbg=$root/usr/lib/debug/lib/modules/$rel
	if [ -f "$dbg/modules.order" ]; then
		# the same package without modules.order (like 7.2's): the same bytes
		mkdir -p "$work/no-order"
		ln -s "$dbg/kernel" "$work/no-order/kernel"
		ln -s "$dbg/vmlinux" "$work/no-order/vmlinux"
		if cli "$series-symbols-noorder" symbols --objtree "$work/no-order" --format ext -o "$work/noorder.klpx" &&
			cmp -s "$map" "$work/noorder.klpx"; then
			ok "$series map-without-modules.order" "same bytes as with the package's modules.order"
		else
			bad "$series map-without-modules.order" "differs from the map made with modules.order"
		fi
	else
		ok "$series map-without-modules.order" "the package has none: kernel/**.ko in path order"
	fi
	# format 0.1 against the 2022 recipe run with the real nm over the same package; without a
	# modules.order the recipe gets one listing what find(1) sees under kernel/
	recipe_check "$series" "$root" "$dbg" "$work"
	# the headers tree is not a map source: the error names the debug package
	if cli "$series-symbols-headers" symbols --objtree "$hdr" -o "$work/headers.klp"; then
		bad "$series headers-tree-refused" "symbols accepted the headers tree $hdr"
	elif [ $? = 66 ] && grep -q "linux-image-$rel-dbg" "$work/cli/$series-symbols-headers.out"; then
		ok "$series headers-tree-refused" "exit 66, names linux-image-$rel-dbg"
	else
		bad "$series headers-tree-refused" "$(first_line "$work/cli/$series-symbols-headers.out")"
	fi

	# 2. the livepatch, out of tree against the unpacked headers
	mods=$work/module
	cp -r "$here/module" "$mods"
	if ! build_module "$series" "$ver" "$mods"; then return; fi
	lp=$mods/klp_distro_cmdline.ko
	cp "$lp" "$work/klp_distro_unconverted.ko"

	# 3. convert and check
	if cli "$series-convert" convert --symbols "$map" --symvers "$hdr/Module.symvers" "$lp" -o "$work/klp_distro_cmdline.ko"; then
		ok "$series convert"
	else
		bad "$series convert" "$(first_line "$work/cli/$series-convert.out")"
		return
	fi
	if cli "$series-check" check --symbols "$map" "$work/klp_distro_cmdline.ko" &&
		grep -q 'vmlinux:saved_command_line pos 0' "$work/cli/$series-check.out"; then
		ok "$series check" "$(grep -m1 'klp relocation' "$work/cli/$series-check.out")"
	else
		bad "$series check" "$(first_line "$work/cli/$series-check.out")"
	fi
	if [ "$series" = 6.12 ]; then klp_convert_mk "$series" "$ver"; fi

	# 4. boot the distribution's kernel
	boot_kernel "$series" "$ver"
}

# recipe_check SERIES ROOT DBG WORK: `symbols --objtree ROOT` (0.1) = the 2022 recipe over DBG
recipe_check() {
	local series=$1 root=$2 dbg=$3 work=$4 t=$4/recipe-tree
	command -v nm >/dev/null || { skip "$series map-0.1-equals-2022-recipe" "nm is missing (apt-get install binutils)"; return; }
	mkdir -p "$t"
	ln -s "$dbg/kernel" "$t/kernel"
	ln -s "$dbg/vmlinux" "$t/vmlinux"
	if [ -f "$dbg/modules.order" ]; then
		ln -s "$dbg/modules.order" "$t/modules.order"
	else
		(cd "$dbg" && find kernel -name '*.ko' -o -name '*.ko.[gx]z' -o -name '*.ko.zst') | sed 's/\.ko\..*$/.ko/' >"$t/modules.order"
	fi
	if ! bash "$repo/test/helpers/symbols-klp-recipe.sh" "$t" "$work/recipe.klp" 2>"$work/recipe.err"; then
		bad "$series map-0.1-equals-2022-recipe" "the recipe failed: $(head -n1 "$work/recipe.err")"
		return
	fi
	if cli "$series-symbols-01" symbols --objtree "$root" -o "$work/symbols.klp" && cmp -s "$work/symbols.klp" "$work/recipe.klp"; then
		ok "$series map-0.1-equals-2022-recipe" "$(wc -l <"$work/recipe.klp") lines, $(grep -c '^\*' "$work/recipe.klp") objects, byte for byte"
	else
		bad "$series map-0.1-equals-2022-recipe" "differs: cmp $work/symbols.klp $work/recipe.klp"
	fi
}

# make_kdir VER: a directory to `make -C`, standing for /lib/modules/<release>/build of the
# unpacked headers (their Makefile includes /usr/src/linux-headers-<ver>-common/Makefile by its
# installed path): KBUILD_OUTPUT is the unpacked headers, the top Makefile the unpacked -common one.
make_kdir() {
	local ver=$1 rel=$1-$flavour kdir=$here/work/$1/kdir root=$cache/$1/root
	mkdir -p "$kdir"
	printf 'KBUILD_OUTPUT := %s\ninclude %s\n' "$root/usr/src/linux-headers-$rel" "$root/usr/src/linux-headers-$ver-common/Makefile" >"$kdir/Makefile"
	ln -sf "$root/usr/src/linux-headers-$rel/Module.symvers" "$kdir/Module.symvers"
	echo "$kdir"
}

# host_can_build VER: empty when this host can run the headers' compiler and kbuild tools, else why
host_can_build() {
	local ver=$1 root=$cache/$1/root cc tool
	cc=$(sed -n 's/^CC = .* \$(CROSS_COMPILE)\(.*\)$/x86_64-linux-gnu-\1/p' "$root/usr/src/linux-headers-$1-$flavour/.kernelvariables")
	command -v "$cc" >/dev/null || { echo "the headers want $cc, which this host lacks"; return; }
	tool=$(echo "$root"/usr/lib/linux-kbuild-*/scripts/mod/modpost.real-lsb-64)
	[ -x "$tool" ] && ! "$tool" 2>&1 | grep -q 'GLIBC_.*not found' || { echo "the kbuild tools of linux-kbuild need a newer glibc than this host's"; return; }
	command -v pahole >/dev/null || { echo "pahole is missing (apt-get install pahole; the headers package depends on it)"; return; }
}

# build_module SERIES VER MODS: plain make must stop at modpost's "undefined!", then
# KBUILD_MODPOST_WARN=1 builds the .ko
build_module() {
	local series=$1 ver=$2 mods=$3 why kdir log=$here/work/$2/build.log
	why=$(host_can_build "$ver")
	if [ -z "$why" ]; then
		kdir=$(make_kdir "$ver")
		make -C "$kdir" M="$mods" modules >"$log.plain" 2>&1
		local rc=$?
		if [ $rc != 0 ] && grep -q 'ERROR: modpost: "saved_command_line" .* undefined!' "$log.plain"; then
			ok "$series plain-make-stops-at-modpost" "$(grep -m1 'undefined!' "$log.plain")"
		else
			bad "$series plain-make-stops-at-modpost" "make M= exited $rc without modpost's undefined! error (see $log.plain)"
		fi
		make -C "$kdir" M="$mods" KBUILD_MODPOST_WARN=1 modules >"$log" 2>&1
	else
		note "$series: $why: building in a sid chroot"
		if ! build_in_chroot "$ver" "$mods" "$log"; then
			skip "$series" "$why, and no sid chroot: $(tail -n1 "$log")"
			return 1
		fi
	fi
	if [ -f "$mods/klp_distro_cmdline.ko" ] && grep -q 'WARNING: modpost: "saved_command_line" .* undefined!' "$log"; then
		ok "$series build-KBUILD_MODPOST_WARN" "$(grep -m1 'undefined!' "$log")"
	else
		bad "$series build-KBUILD_MODPOST_WARN" "$(grep -m1 -iE 'error' "$log" || tail -n1 "$log")"
		return 1
	fi
}

# build_in_chroot VER MODS LOG: make in a sid chroot holding the unpacked headers and kbuild at
# their installed paths (copied once); the module directory is copied in and back
build_in_chroot() {
	local ver=$1 mods=$2 log=$3 rel=$1-$flavour chroot root=$cache/$1/root rc
	if [ "$(id -u)" != 0 ]; then echo "a chroot needs root" >"$log"; return 1; fi
	if ! chroot=$(bash "$sid" chroot 2>>"$log"); then echo "scripts/debian-sid.sh chroot failed" >>"$log"; return 1; fi
	if [ ! -f "$chroot/usr/src/.klp-$ver" ]; then
		cp -a "$root/usr/src/linux-headers-$rel" "$root/usr/src/linux-headers-$ver-common" "$chroot/usr/src/" &&
			cp -a "$root"/usr/lib/linux-kbuild-* "$chroot/usr/lib/" && touch "$chroot/usr/src/.klp-$ver" || return 1
	fi
	rm -rf "$chroot/build/klp-distro"
	mkdir -p "$chroot/build"
	cp -r "$mods" "$chroot/build/klp-distro"
	rc=0
	bash "$sid" run make -C "/usr/src/linux-headers-$rel" M=/build/klp-distro modules >"$log.plain" 2>&1 || rc=$?
	if [ $rc != 0 ] && grep -q 'ERROR: modpost: "saved_command_line" .* undefined!' "$log.plain"; then
		ok "7.2 plain-make-stops-at-modpost" "$(grep -m1 'undefined!' "$log.plain")"
	else
		bad "7.2 plain-make-stops-at-modpost" "make M= exited $rc without modpost's undefined! error (see $log.plain)"
	fi
	bash "$sid" run make -C "/usr/src/linux-headers-$rel" M=/build/klp-distro KBUILD_MODPOST_WARN=1 modules >"$log" 2>&1 || return 1
	cp "$chroot/build/klp-distro/klp_distro_cmdline.ko" "$mods/"
}

# klp_convert_mk SERIES VER: the same livepatch through kbuild/klp-convert.mk, the map written
# from the dbg package (KLP_OBJTREE), Module.symvers passed
klp_convert_mk() {
	local series=$1 ver=$2 kdir mk=$here/work/$2/mk log=$here/work/$2/mk.log
	kdir=$(make_kdir "$ver")
	cp -r "$here/module" "$mk"
	if make -C "$mk" KLP_REPO="$repo" KDIR="$kdir" KLP_OBJTREE="$cache/$ver/root" KLP_CONVERT="${conv[*]}" V=1 >"$log" 2>&1 &&
		grep -q -- "--symvers $mk/.klp/Module.symvers" "$log" &&
		cli "$series-mk-check" check --symbols "$mk/.klp/symbols.klpx" "$mk/klp_distro_cmdline.ko" &&
		grep -q 'vmlinux:saved_command_line pos 0' "$work/cli/$series-mk-check.out"; then
		ok "$series klp-convert.mk" "KLP_OBJTREE=<dbg package>, --symvers passed, check lists vmlinux:saved_command_line"
	else
		bad "$series klp-convert.mk" "$(grep -m1 -iE 'error|klp-convert' "$log" || tail -n1 "$log") (see $log)"
	fi
}

# boot_kernel SERIES VER: the distribution's vmlinuz, our initramfs, one guest script
boot_kernel() {
	local series=$1 ver=$2 rel=$2-$flavour work=$here/work/$2 root=$cache/$2/root vmlinuz busybox ird log=$logs/$2.log rc
	vmlinuz=$(ls "$root/boot/vmlinuz-$rel" "$root/usr/lib/modules/$rel/vmlinuz" "$root/lib/modules/$rel/vmlinuz" 2>/dev/null | head -n1)
	if [ -z "$vmlinuz" ]; then bad "$series boot" "no vmlinuz in the image package"; return; fi
	command -v "$qemu" >/dev/null || { skip "$series boot" "$qemu not found (apt-get install qemu-system-x86)"; return; }
	busybox=$(command -v busybox || true)
	if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then skip "$series boot" "no static busybox (apt-get install busybox-static)"; return; fi
	ird=$work/initramfs
	mkdir -p "$ird"/{bin,dev,proc,sys,tmp,lib/klp,cases}
	cp "$busybox" "$ird/bin/busybox"
	ln -sf busybox "$ird/bin/sh"
	cp "$repo/test/kernel/guest-init.sh" "$ird/init"
	chmod 755 "$ird/init"
	cp "$here/module/distro.case.sh" "$ird/cases/distro.sh"
	cp "$work/klp_distro_cmdline.ko" "$work/klp_distro_unconverted.ko" "$ird/lib/klp/"
	(cd "$ird" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$work/initramfs.cpio.gz")
	note "$series: booting $vmlinuz (TCG)"
	rc=0
	timeout "$boot_timeout" "$qemu" -nographic -no-reboot -m 1024 -smp 1 -kernel "$vmlinuz" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 oops=panic klptest=distro" </dev/null >"$log" 2>&1 || rc=$?
	tr -d '\r' <"$log" >"$log.txt"
	if [ $rc != 0 ] || ! grep -q '^KLPT end' "$log.txt"; then
		bad "$series boot" "qemu exited $rc before the guest script ended (log: $log)"
		return
	fi
	ok "$series boot" "$(grep -m1 '^KLPT kernel' "$log.txt")"
	expect "$series unconverted-refused" 'K: klp_distro_cmdline: Unknown symbol saved_command_line (err -2)' "$log.txt"
	expect "$series patch-enabled" 'KLPT enabled klp_distro_cmdline=1 transition=0' "$log.txt"
	expect "$series patch-changes-/proc/cmdline" 'O: console=ttyS0 panic=-1 oops=panic klptest=distro klp-distro-patched' "$log.txt"
	if [ "$(grep -c '^O: console=ttyS0 panic=-1 oops=panic klptest=distro$' "$log.txt")" = 2 ]; then
		ok "$series patch-disabled-restores" "/proc/cmdline without the marker after enabled=0"
	else
		bad "$series patch-disabled-restores" "expected the plain /proc/cmdline before and after (log: $log)"
	fi
	if grep -qE 'Call Trace|BUG:|Oops|WARNING:|Kernel panic' "$log.txt"; then
		bad "$series no-oops" "$(grep -m1 -E 'Call Trace|BUG:|Oops|WARNING:|Kernel panic' "$log.txt")"
	else
		ok "$series no-oops"
	fi
}

# expect NAME LINE FILE: ok when FILE has the line, else FAIL
expect() {
	if grep -qxF -- "$2" "$3"; then ok "$1" "$2"; else bad "$1" "missing '$2' (log: $3)"; fi
}

if [ -n "$conv_missing" ]; then
	bad setup "$conv_missing"
	summary
	exit 1
fi
series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=(6.12 7.2)
for s in "${series_list[@]}"; do
	case $s in
	6.12 | 7.2) run_kernel "$s" ;;
	*) bad "$s" "unknown series (6.12 or 7.2)" ;;
	esac
done
summary
