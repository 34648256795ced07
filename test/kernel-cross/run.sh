#!/bin/bash
# Real-kernel proof of klp-convert on a second architecture, under qemu TCG.
#
#   bash test/kernel-cross/run.sh ppc64le          # npm run test:kernel:cross
#   KLP_KERNEL=7.2 bash test/kernel-cross/run.sh arm64   # KLP_KERNEL=7.2 KLP_ARCH=arm64 npm run test:kernel
#
# ppc64le and s390x: cross-builds Debian's linux-source-6.12 (tinyconfig + <arch>.config) into
# ${KLP_CROSS_CACHE:-~/.cache/klp-convert/kernel-<arch>}; they are proven on 6.12 only (another
# KLP_KERNEL skips everything, saying so).  arm64: the kernel comes from
# test/kernel/build-kernel.sh (KLP_ARCH=arm64, KLP_KERNEL, default 7.2; arm64 has livepatch since
# 6.17, so 6.1 and 6.12 are skipped).  Then it builds test/kernel/modules out of tree
# for that architecture, generates the maps and converts the livepatches with OUR CLI, then boots
# each case of test/kernel/cases (those that are not x86-specific) in qemu and checks the kernel's
# messages exactly as test/kernel/run.sh does.
#
# Output: "ok <name>" / "FAIL <name>: <why>" / "skip <name>: <why>", then "N passed, N failed";
# exit status non-zero if anything failed.  Serial logs: test/kernel-cross/logs/<arch>/<case>.log;
# scratch: test/kernel-cross/work/<arch>/ (both gitignored).  See README.md for the environment.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdir=$repo/test/kernel # the x86 harness: modules/, cases/, lib.sh (read only)
shared=${KLP_SHARED:-$repo/../shared}
# a clone outside the workplace finds the shared references at their usual place
[ -d "$shared" ] || [ -n "${KLP_SHARED:-}" ] || shared=/work/shared
t_start=$(date +%s)

arch=${1:-}
line=${KLP_KERNEL:-}
pass=0
fail=0
# shellcheck source=test/kernel/lib.sh
. "$kdir/lib.sh"
# only_on LINE...: skip the whole run (exit 0, saying why) unless KLP_KERNEL is one of LINE...
only_on() {
	local why=$1
	shift
	[[ " $* " == *" $line "* ]] && return
	skip "all-cases" "$why"
	summary
	exit 0
}
case $arch in
arm64)
	line=${line:-7.2}
	only_on "arm64 has HAVE_LIVEPATCH since Linux 6.17: KLP_KERNEL=$line has no livepatch on arm64 (use 7.2)" 7.2
	karch=arm64
	cross=aarch64-linux-gnu-
	debarch=arm64
	packages=(qemu-system-arm gcc-aarch64-linux-gnu)
	qemu="qemu-system-aarch64"
	image=arch/arm64/boot/Image
	elf_desc='ELF 64-bit LSB relocatable, ARM aarch64'
	console=ttyAMA0
	# -cpu max with the cheap (implementation-defined) pointer-authentication algorithm: TCG
	# emulates QARMA, the architected one, several times slower
	qemu_args=(-M virt -cpu max,pauth-impdef=on -m 512 -smp 1 -nographic -no-reboot)
	skip_cases=(dup)
	benign=()
	make_targets=(Image modules)
	;;
ppc64le)
	line=${line:-6.12}
	only_on "ppc64le is proven on Linux 6.12 only (KLP_KERNEL=$line is not built for it)" 6.12
	karch=powerpc
	cross=powerpc64le-linux-gnu-
	debarch=ppc64el
	packages=(qemu-system-ppc gcc-powerpc64le-linux-gnu)
	qemu="qemu-system-ppc64"
	image=vmlinux
	elf_desc='ELF 64-bit LSB relocatable, 64-bit PowerPC' # file(1) on the built modules
	console=hvc0
	# pseries with VOF (qemu's minimal Open Firmware, boots much faster than SLOF), spapr-vty
	# console (hvc0).  The cap-* settings silence TCG's
	# "doesn't support requested feature" warnings for the Spectre mitigations.
	qemu_args=(-M 'pseries,x-vof=on,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off'
		-cpu power9 -m 512 -smp 1 -nographic -vga none -no-reboot)
	# x86-only cases: ucode_path exists only in arch/x86 microcode code
	skip_cases=(dup)
	# boot-time lines that are facts of the qemu setup, not of the test: VOF hands the guest an
	# empty NVRAM, and pseries' nvram code warns about its 0-length partition.  Removed from the
	# log before the generic "! WARNING:" check.
	benign=('WARNING: nvram corruption detected: 0-length partition')
	make_targets=(vmlinux modules)
	;;
s390x)
	line=${line:-6.12}
	only_on "s390x is proven on Linux 6.12 only (KLP_KERNEL=$line is not built for it)" 6.12
	karch=s390
	cross=s390x-linux-gnu-
	debarch=s390x
	packages=(qemu-system-misc gcc-s390x-linux-gnu)
	qemu="qemu-system-s390x"
	image=arch/s390/boot/bzImage
	elf_desc='ELF 64-bit MSB relocatable, IBM S/390'
	console=ttysclp0
	qemu_args=(-M s390-ccw-virtio -cpu qemu -m 512 -smp 1 -nographic -no-reboot)
	skip_cases=(dup)
	benign=()
	make_targets=(bzImage modules)
	;;
*)
	echo "usage: $0 arm64|ppc64le|s390x" >&2
	exit 2
	;;
esac

work=${KLP_WORK:-$here/work/$arch}
logs=$here/logs/$arch
cache=${KLP_CROSS_CACHE:-$HOME/.cache/klp-convert/kernel-$arch}
jobs=${KLP_JOBS:-$(nproc)}
boot_timeout=${KLP_BOOT_TIMEOUT:-120}
parallel=${KLP_PARALLEL:-$(nproc)}
fragment=$here/$arch.config
src_tarball=/usr/src/linux-source-6.12.tar.xz

die_check() {
	bad "$1" "$2"
	summary || true
	exit 1
}
mkdir -p "$work" "$logs" "$cache"

# --- 0. packages (host tools, cross compiler, qemu; the guest's busybox from Debian multiarch) ----
need=("${packages[@]}" cpio flex bison bc libelf-dev libssl-dev xz-utils kmod rsync
	make gcc perl)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die_check packages "missing Debian packages: ${missing[*]} (run as root or apt-get install them)"
	note "installing ${missing[*]}"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi
# A statically linked busybox for the guest, extracted (never installed) from busybox-static:<arch>.
busybox=$cache/busybox/bin/busybox
if [ ! -x "$busybox" ]; then
	if ! dpkg --print-foreign-architectures | grep -qx "$debarch"; then
		[ "$(id -u)" -eq 0 ] || die_check busybox "run as root once (dpkg --add-architecture $debarch)"
		note "dpkg --add-architecture $debarch"
		dpkg --add-architecture "$debarch"
		apt-get update >&2 || true
	fi
	rm -rf "$cache/busybox.dl" "$cache/busybox"
	mkdir -p "$cache/busybox.dl"
	chmod 777 "$cache/busybox.dl" # apt-get download runs as _apt where it can
	if ! (cd "$cache/busybox.dl" && apt-get download "busybox-static:$debarch" >&2); then
		[ "$(id -u)" -ne 0 ] || apt-get update >&2 || true
		(cd "$cache/busybox.dl" && apt-get download "busybox-static:$debarch" >&2) ||
			die_check busybox "apt-get download busybox-static:$debarch failed"
	fi
	dpkg-deb -x "$cache"/busybox.dl/busybox-static_*.deb "$cache/busybox"
	rm -rf "$cache/busybox.dl"
	[ -x "$busybox" ] || die_check busybox "no bin/busybox in busybox-static:$debarch"
fi
export ARCH=$karch CROSS_COMPILE=$cross

# --- 1. kernel (cached) ---------------------------------------------------------------------------
if [ "$arch" = arm64 ]; then
	# test/kernel/build-kernel.sh builds and caches it (keyed by version, arch and config)
	if ! tree=$(KLP_KERNEL=$line KLP_ARCH=arm64 bash "$kdir/build-kernel.sh" | tail -n1) || [ -z "$tree" ]; then
		die_check kernel-build "KLP_ARCH=arm64 KLP_KERNEL=$line test/kernel/build-kernel.sh failed (see its messages above)"
	fi
	stamp=$(dirname "$tree")/build.stamp
else
	need_src=linux-source-6.12
	dpkg -s $need_src >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y $need_src >&2 || die_check packages "apt-get install $need_src failed"
	version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	key=${version//[^A-Za-z0-9.+_-]/_}
	dir=$cache/$key
	tree=$dir/linux
	stamp=$dir/build.stamp
	buildlog=$dir/build.log
	mkdir -p "$dir"
	exec 9>"$dir/lock"
	flock 9 # one build per tree at a time
	kstep() {
		note "kernel: $*"
		if ! "$@" >>"$buildlog" 2>&1; then
			tail -n 30 "$buildlog" >&2
			die_check kernel-build "'$*' failed (log: $buildlog)"
		fi
	}
	if [ -f "$stamp" ] && [ -f "$tree/vmlinux" ] && [ -f "$tree/$image" ] && cmp -s "$fragment" "$dir/config.done"; then
		note "kernel: reusing $tree (built $(cat "$stamp"))"
	else
		rm -f "$stamp"
		: >"$buildlog"
		if [ ! -f "$tree/Makefile" ]; then
			note "kernel: unpacking $src_tarball"
			rm -rf "$dir/unpack" "$tree"
			mkdir -p "$dir/unpack"
			tar -C "$dir/unpack" -xf "$src_tarball"
			mv "$(find "$dir/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)" "$tree"
			rmdir "$dir/unpack"
		fi
		t0=$(date +%s)
		if [ ! -f "$tree/.config" ] || ! cmp -s "$fragment" "$dir/config.done"; then
			(cd "$tree" && kstep make tinyconfig)
			(cd "$tree" && kstep scripts/kconfig/merge_config.sh -m .config "$fragment")
			(cd "$tree" && kstep make olddefconfig)
		fi
		# every =y/=m of the fragment must survive olddefconfig
		lost=
		while IFS= read -r line; do
			case $line in CONFIG_*=y | CONFIG_*=m) grep -qxF "$line" "$tree/.config" || lost+="$line " ;; esac
		done <"$fragment"
		[ -z "$lost" ] || die_check kernel-config "lost in olddefconfig: $lost"
		cp "$fragment" "$dir/config.done"
		(cd "$tree" && kstep make -j"$jobs" "${make_targets[@]}")
		echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - t0)) s" >"$stamp"
		note "kernel: built in $(($(date +%s) - t0)) s"
	fi
	exec 9>&-
fi
for f in vmlinux "$image" System.map modules.order usr/gen_init_cpio; do
	[ -e "$tree/$f" ] || die_check kernel-build "$tree/$f is missing"
done
grep -qx CONFIG_LIVEPATCH=y "$tree/.config" || die_check kernel-config "CONFIG_LIVEPATCH=y missing"
ok kernel "$(cat "$stamp"): $tree"
# The late cases prove writes into read-only module memory only with STRICT_MODULE_RWX (forced on
# arm64; optional on ppc64le and s390x, where the 6.12 test kernels leave it off).
if grep -qx CONFIG_STRICT_MODULE_RWX=y "$tree/.config"; then
	ok strict-module-rwx "the late cases write into read-only module text and data"
elif [ "$arch" = arm64 ]; then
	bad strict-module-rwx "CONFIG_STRICT_MODULE_RWX is off in $tree/.config"
else
	skip strict-module-rwx "CONFIG_STRICT_MODULE_RWX is off on this $arch kernel: the late cases do not write into read-only memory here"
fi

# --- 2. test modules (test/kernel/modules, built out of tree with ARCH/CROSS_COMPILE) ---------------
mods=$work/modules
note "building test modules in $mods"
if ! build_test_modules "$tree" "$mods" "$repo" "$work/modules-build.log"; then
	die_check modules-build "make M=$mods failed: $(grep -m1 -E 'error|Error' "$work/modules-build.log" || tail -n1 "$work/modules-build.log")"
fi
for f in "$mods"/*.ko; do
	file -b "$f" | grep -qF "$elf_desc" || die_check modules-build "$f is not '$elf_desc': $(file -b "$f")"
done
ok modules-build "$elf_desc"

livepatches=(test_klp_convert1 test_klp_convert2 test_klp_convert3 test_klp_convert_sections
	test_klp_convert_data test_klp_convert_keys test_klp_convert_dash test_klp_convert_roai)
declare -A resolve_of=(
	[test_klp_convert3]=test_klp_convert3.resolve
	[test_klp_convert_wrongpos]=test_klp_convert_wrongpos.resolve
)

# --- 3. maps ----------------------------------------------------------------------------------------
setup_cli "$repo"
# make_overlay DIR [EXTRA_ORDER_LINES...]: the tree (symlinks) with its own modules.order and the
# modules.livepatch of the v7 kbuild series (livepatch modules found by their modinfo key).
make_overlay() {
	local d=$1 e
	shift
	rm -rf "$d"
	mkdir -p "$d"
	for e in "$tree"/* "$tree"/.config; do
		case ${e##*/} in modules.order | modules.livepatch | symbols.klp) continue ;; esac
		ln -s "$e" "$d/${e##*/}"
	done
	ln -s "$mods" "$d/klptest"
	{
		cat "$tree/modules.order"
		for e in "$@"; do echo "$e"; done
	} >"$d/modules.order"
	local s
	while IFS= read -r e; do
		s=${e%.o}
		s=${s%.ko}
		if [ -n "$(modinfo -F livepatch "$d/$s.ko" 2>/dev/null)" ]; then echo "$e"; fi
	done <"$d/modules.order" >"$d/modules.livepatch"
}
make_overlay "$work/objtree-baseline"
make_overlay "$work/objtree" klptest/test_klp_convert_mod.o klptest/test-klp-dash-mod.o
# symbols.klp of the plain tree, byte for byte against the kbuild recipe (with the cross nm)
if [ -f "$shared/tools/symbols-klp-baseline.sh" ]; then
	if ! NM=${cross}nm bash "$shared/tools/symbols-klp-baseline.sh" "$work/objtree-baseline" "$work/symbols-tree.baseline.klp" 2>"$work/baseline.err"; then
		bad symbols-tree "baseline script failed: $(first_line "$work/baseline.err")"
	elif ! cli symbols-tree symbols --objtree "$tree" -o "$work/symbols-tree.klp"; then
		bad symbols-tree "klp-convert symbols failed: $(first_line "$work/cli/symbols-tree.out")"
	elif ! cmp -s "$work/symbols-tree.klp" "$work/symbols-tree.baseline.klp"; then
		bad symbols-tree "differs from the kbuild recipe ($(diff "$work/symbols-tree.klp" "$work/symbols-tree.baseline.klp" | grep -m3 '^[<>]' | tr '\n' ' '))"
	else
		ok symbols-tree "$(wc -l <"$work/symbols-tree.klp") lines, equal to the kbuild recipe with ${cross}nm"
	fi
else
	skip symbols-tree "no $shared/tools/symbols-klp-baseline.sh"
fi
klpx=$work/symbols.klpx
rm -f "$klpx"
if cli symbols-ext symbols --objtree "$work/objtree" --format ext -o "$klpx" && [ -s "$klpx" ]; then
	ok symbols-ext
else
	die_check symbols-ext "klp-convert symbols --format ext failed: $(first_line "$work/cli/symbols-ext.out")"
fi

# --- 4. conversion ---------------------------------------------------------------------------------
conv_dir=$work/converted
why_dir=$work/why
rm -rf "$conv_dir" "$why_dir" "$work/dump"
mkdir -p "$conv_dir" "$why_dir" "$work/dump"
convert() {
	local lp=$1 args=(convert --symbols "$klpx")
	[ -z "${resolve_of[$lp]:-}" ] || args+=(--resolve "$mods/${resolve_of[$lp]}")
	args+=("$mods/$lp.ko" -o "$conv_dir/$lp.ko")
	if ! cli "convert-$lp" "${args[@]}" || [ ! -s "$conv_dir/$lp.ko" ]; then
		echo "klp-convert convert failed: $(first_line "$work/cli/convert-$lp.out")" >"$why_dir/$lp"
		rm -f "$conv_dir/$lp.ko"
		return 1
	fi
	# for the record: the klp relocations as our dump lists them
	cli "dump-$lp" dump -r "$conv_dir/$lp.ko" || true
	cp "$work/cli/dump-$lp.out" "$work/dump/$lp.relocs"
}
# refusals that are the expected verdict on some architectures (src/klp/arch-rules.ts)
declare -A may_refuse=([test_klp_convert_roai]='.data..ro_after_init becomes read-only')
for lp in "${livepatches[@]}"; do
	if ! convert "$lp"; then
		if [ -n "${may_refuse[$lp]:-}" ] && grep -qF -- "${may_refuse[$lp]}" "$work/cli/convert-$lp.out"; then
			ok "convert-$lp" "refused on $arch: $(first_line "$work/cli/convert-$lp.out")"
			continue
		fi
		bad "convert-$lp" "$(cat "$why_dir/$lp")"
	elif ! cli "check-$lp" check --symbols "$klpx" "$conv_dir/$lp.ko"; then
		bad "convert-$lp" "klp-convert check: $(first_line "$work/cli/check-$lp.out")"
	else
		ok "convert-$lp" "$(grep -c 'R_PPC64_\|R_390_\|R_AARCH64_' "$work/dump/$lp.relocs" || true) relocation lines"
	fi
done
convert test_klp_convert_wrongpos || true
# the kernel-side wrong position: converted lp2 with homonym_string,2 renamed to ,3
from='.klp.sym.test_klp_convert_mod.homonym_string,2' to='.klp.sym.test_klp_convert_mod.homonym_string,3'
if [ -f "$conv_dir/test_klp_convert2.ko" ] && [ "$(grep -o -a -F "$from" "$conv_dir/test_klp_convert2.ko" | wc -l)" = 1 ]; then
	FROM=$from TO=$to perl -0777 -pe 's/\Q$ENV{FROM}\E\0/$ENV{TO}\0/g' "$conv_dir/test_klp_convert2.ko" >"$conv_dir/test_klp_convert2.pos3.ko"
else
	echo "no converted test_klp_convert2.ko with exactly one '$from'" >"$why_dir/test_klp_convert2.pos3"
fi
cp "$mods/test_klp_convert1.ko" "$conv_dir/test_klp_convert1.raw.ko"

# --- 5. initramfs -----------------------------------------------------------------------------------
declare -A case_file=()
for f in "$kdir"/cases/*.case; do
	c=${f##*/}
	case_file[${c%.case}]=$f
done
mapfile -t all_cases < <(printf '%s\n' "${!case_file[@]}" | LC_ALL=C sort)
selected=()
for c in "${all_cases[@]}"; do
	if [[ " ${skip_cases[*]} " == *" $c "* ]]; then
		skip "$c" "x86-specific"
		continue
	fi
	if [ -z "${KLP_CASES:-}" ]; then
		selected+=("$c")
		continue
	fi
	for pat in $KLP_CASES; do
		# shellcheck disable=SC2053
		if [[ $c == $pat ]]; then
			selected+=("$c")
			break
		fi
	done
done
initrd=$work/initramfs.cpio.gz
declare -A in_guest=()
mkdir -p "$work/cases"
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in /bin /proc /sys /tmp /lib /lib/klp /cases; do echo "dir $d 0755 0 0"; done
	echo "file /bin/busybox $busybox 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $kdir/guest-init.sh 0755 0 0"
	for f in "$mods/test_klp_convert_mod.ko" "$mods/test-klp-dash-mod.ko" "$conv_dir"/*.ko \
		"$tree/samples/livepatch/livepatch-sample.ko"; do
		[ -f "$f" ] || continue
		s=${f##*/}
		s=${s%.ko}
		echo "file /lib/klp/$s.ko $f 0644 0 0"
		in_guest[$s]=1
	done
	for c in "${selected[@]}"; do
		sed -n 's/^> //p' "${case_file[$c]}" >"$work/cases/$c.sh"
		echo "file /cases/$c.sh $work/cases/$c.sh 0644 0 0"
	done
} >"$work/initramfs.list"
"$tree/usr/gen_init_cpio" "$work/initramfs.list" | gzip -1 >"$initrd"

# --- 6. boots (the expectation language of test/kernel/README.md; expectations() is in lib.sh) --
# check_log CASE LOG: prints the first unmet expectation, nothing if all are met (lib.sh's
# check_log_file, which drops the lines of this arch's benign=(...) warnings)
check_log() { check_log_file "${case_file[$1]}" "$2"; }
boot() {
	local c=$1 log=$logs/$1.log res=$work/results/$1 append rc why m reason t0
	append=$(sed -n 's/^append: / /p' "${case_file[$c]}" | tr -d '\n')
	while read -r m reason; do
		[ -n "$m" ] || continue
		if [ -f "$why_dir/$m" ] && grep -qF -- "$reason" "$work/cli/convert-$m.out" 2>/dev/null; then
			echo "ok refused by the converter: $(first_line "$work/cli/convert-$m.out")" >"$res"
			return
		fi
	done < <(sed -n 's/^convert-may-fail: //p' "${case_file[$c]}")
	# shellcheck disable=SC2013 # module names are single words
	for m in $(sed -n 's/^> ins //p' "${case_file[$c]}"); do
		if [ -z "${in_guest[$m]:-}" ]; then
			echo "FAIL needs $m.ko: $(cat "$why_dir/$m" 2>/dev/null || echo "not built")" >"$res"
			return
		fi
	done
	rc=0
	t0=$(date +%s)
	# shellcheck disable=SC2086
	timeout "$boot_timeout" "$qemu" "${qemu_args[@]}" -kernel "$tree/$image" -initrd "$initrd" \
		-append "console=$console panic=-1 oops=panic klptest=$c$append" \
		${KLP_QEMU_ARGS:-} </dev/null >"$log" 2>&1 || rc=$?
	if [ "$rc" = 124 ]; then
		{
			echo "FAIL timeout after $boot_timeout s; last 30 lines of $log:"
			tail -n 30 "$log" | tr -d '\r' | sed 's/^/    | /'
		} >"$res"
		return
	fi
	why=$(check_log "$c" "$log")
	if [ -z "$why" ] && [ "$rc" != 0 ]; then why="qemu exited with status $rc"; fi
	if [ -n "$why" ]; then
		{
			echo "FAIL $why (log: $log)"
			grep -a -E '^K: |^KLPT (\$|rc=|enabled)' "$log" | tr -d '\r' | tail -n 25 | sed 's/^/    | /'
		} >"$res"
	else
		echo "ok $(($(date +%s) - t0)) s" >"$res"
	fi
}
rm -rf "$work/results"
mkdir -p "$work/results"
note "booting ${#selected[@]} cases, $parallel at a time"
running=0
for c in "${selected[@]}"; do
	rm -f "$logs/$c.log"
	boot "$c" &
	running=$((running + 1))
	if [ "$running" -ge "$parallel" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait
for c in "${selected[@]}"; do
	r=$(head -n1 "$work/results/$c" 2>/dev/null || echo "FAIL no result")
	case $r in
	ok) ok "$c" ;;
	ok\ *) ok "$c" "${r#ok }" ;;
	*) bad "$c" "${r#FAIL }" ;;
	esac
	tail -n +2 "$work/results/$c" 2>/dev/null || true
done

# --- 7. a refusal must be the kernel's verdict: where the converter refused the roai livepatch
# (module references from .data..ro_after_init), convert it by hand (test/kernel/hand-convert.py,
# little-endian ELF64 only) and boot roai-late: the kernel must fail when the target loads.
roai_refused() {
	local ko=$conv_dir/test_klp_convert_roai.hand.ko log=$logs/roai-late-hand.log d=$work/roai-hand
	if [ -f "$conv_dir/test_klp_convert_roai.ko" ]; then return; fi
	if [ "$(od -An -tx1 -j5 -N1 "$mods/test_klp_convert_roai.ko" | tr -d ' ')" != 01 ]; then
		skip roai-late-hand "the hand converter reads little-endian ELF only"
		return
	fi
	rm -rf "$d"
	mkdir -p "$d/cases"
	if ! python3 "$kdir/hand-convert.py" "$mods/test_klp_convert_roai.ko" "$ko" \
		data_static_small=test_klp_convert_mod,0 data_global_large=test_klp_convert_mod,0 >"$d/hand.out" 2>&1; then
		bad roai-late-hand "hand-convert.py failed: $(first_line "$d/hand.out")"
		return
	fi
	sed -n 's/^> //p' "$kdir/cases/roai-late.case" >"$d/cases/roai-late.sh"
	{
		sed -e '/\/lib\/klp\//d' -e '/\/cases\//d' "$work/initramfs.list"
		echo "file /lib/klp/test_klp_convert_mod.ko $mods/test_klp_convert_mod.ko 0644 0 0"
		echo "file /lib/klp/test_klp_convert_roai.ko $ko 0644 0 0"
		echo "file /cases/roai-late.sh $d/cases/roai-late.sh 0644 0 0"
	} >"$d/initramfs.list"
	"$tree/usr/gen_init_cpio" "$d/initramfs.list" | gzip -1 >"$d/initramfs.cpio.gz"
	timeout "$boot_timeout" "$qemu" "${qemu_args[@]}" -kernel "$tree/$image" -initrd "$d/initramfs.cpio.gz" \
		-append "console=$console panic=-1 oops=panic klptest=roai-late" </dev/null >"$log" 2>&1 || true
	local oops
	oops=$(tr -d '\r' <"$log" | grep -a -m2 -E 'Unable to handle kernel|Oops:' | sed 's/^\[ *[0-9.]*\] //' | tr '\n' ' ')
	if [ -n "$oops" ] && grep -qa 'KLPT $ insmod /lib/klp/test_klp_convert_mod.ko' "$log"; then
		ok roai-late-hand "refusal confirmed: loading the target after the hand-converted patch: $oops"
	else
		bad roai-late-hand "the converter refuses .data..ro_after_init module references on $arch, but the kernel applied them late without faulting (log: $log)"
	fi
}
roai_refused
summary
