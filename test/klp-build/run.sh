#!/bin/bash
# The kernel's own klp-build (scripts/livepatch/klp-build) on the 7.2 x86_64 test kernel, booted:
# runs klp-build on the patches in patches/ (build.sh, cached), checks what it made, boots each
# finished module in qemu and checks that its patch works and that disabling it restores the old
# code, checks that `klp-convert check` and `check --target` agree with the booted kernel, runs
# the other engineer's interop hook (test/klp-build/interop.sh, when it exists) and boots its
# conversion too, and does the same for patch a on the tree with the kbuild/7.2 series applied.
# Run through `npm run test:klp-build`.  Output: "ok NAME", "FAIL NAME: why", "skip NAME: why",
# then "N passed, N failed"; exit status 1 on any failure.
#
# Environment:
#   KLP_KERNEL_TREE     the built 7.2 tree to copy (default: KLP_KERNEL=7.2 build-kernel.sh's)
#   KLP_KLPBUILD_CACHE  klp-build's trees and results (default ~/.cache/klp-convert/klp-build)
#   KLP_KLPBUILD_WORK   scratch: initramfs, cases, serial logs (default <cache>/work)
#   KLP_INTEROP         the interop hook (default test/klp-build/interop.sh; run when it exists)
#   KLP_NO_KBUILD=1     leave out the kbuild-series tree (issue 9's case)
#   KLP_CONVERT, KLP_BOOT_TIMEOUT, KLP_PARALLEL, KLP_QEMU, KLP_QEMU_ARGS: as test/kernel/run.sh
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdir=$repo/test/kernel
cache=${KLP_KLPBUILD_CACHE:-$HOME/.cache/klp-convert/klp-build}
work=${KLP_KLPBUILD_WORK:-$cache/work}
logs=$work/logs
interop=${KLP_INTEROP:-$here/interop.sh}
boot_timeout=${KLP_BOOT_TIMEOUT:-90}
parallel=${KLP_PARALLEL:-$(nproc)}
# shellcheck disable=SC2034 # t_start, pass and fail are read by lib.sh's ok, bad and summary
t_start=$(date +%s)
# shellcheck disable=SC2034
pass=0
# shellcheck disable=SC2034
fail=0
# shellcheck source=../kernel/lib.sh
. "$kdir/lib.sh"
note() { echo "klp-build: $*" >&2; }

# The patches, each with what the guest checks (cases below):
#   klpb_vmlinux_dup  kernel/module/procfs.c m_show: /proc/modules lines end in " klpb-a=1" when the
#                     patched code's reference to m_start (3 in vmlinux: procfs.c, fs/namespace.c,
#                     fs/proc/task_mmu.c) resolved to procfs.c's, " klpb-a=0" when it did not
#   klpb_shadow_mod   samples/livepatch/livepatch-shadow-mod.c dummy_alloc (a module): prints
#                     "klpb-b: dummy_alloc patched, list ..." (reads the module's static dummy_list)
#   klpb_cmdline      fs/proc/cmdline.c cmdline_proc_show: /proc/cmdline ends in " klpb-c=1"
#   klpb_sympos_global  fs/proc/version.c (from the converter's branch, issue 11 item 4): calls
#                     pt_regs_offset, a global function (arch/x86/lib/insn-eval.c) with a static
#                     homonym (arch/x86/kernel/perf_regs.c); klp-build gives globals position 0,
#                     which the kernel refuses for a name kallsyms holds twice: insmod must fail
#                     with "unresolvable ambiguity", and check --target must say so (exit 1)
names=(klpb_vmlinux_dup klpb_shadow_mod klpb_cmdline klpb_sympos_global)
# modules the kernel must refuse (their boot case passes when insmod fails as expected)
declare -A refused=([klpb_sympos_global]=1)
patches=()
for n in "${names[@]}"; do patches+=("$here/patches/$n.patch"); done

rm -rf "$work"
mkdir -p "$work" "$logs"
setup_cli "$repo"

# --- 0. what the boots need ----------------------------------------------------------------------
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	bad setup "no static busybox found (install busybox-static)"
	summary
	exit 1
fi
command -v "${KLP_QEMU:-qemu-system-x86_64}" >/dev/null || {
	bad setup "${KLP_QEMU:-qemu-system-x86_64} not found (apt-get install qemu-system-x86)"
	summary
	exit 1
}
src=${KLP_KERNEL_TREE:-}
if [ -z "$src" ]; then
	src=$(KLP_KERNEL=7.2 KLP_ARCH=x86_64 bash "$kdir/build-kernel.sh" | tail -n1) || src=
fi
if [ -z "$src" ] || [ ! -x "$src/usr/gen_init_cpio" ]; then
	bad kernel "no built 7.2 x86_64 tree (KLP_KERNEL=7.2 bash test/kernel/build-kernel.sh failed?)"
	summary
	exit 1
fi
export KLP_KERNEL_TREE=$src
gen_init_cpio=$src/usr/gen_init_cpio

# --- 1. klp-build (build.sh: cached per tree and patch) --------------------------------------------
# run_build VARIANT PATCH...: sets bdir (the variant's cache directory) or reports the failure.
run_build() {
	local variant=$1 out=$work/build-$1.out t0
	shift
	t0=$(date +%s)
	note "klp-build on the $variant tree (build.sh; cold: a full kernel build, then one rebuild per patch)"
	if bdir=$(bash "$here/build.sh" "$variant" "$@" 2>"$out" | tail -n1) && [ -d "$bdir" ]; then
		ok "klp-build-$variant" "$(($(date +%s) - t0)) s, $bdir"
		return 0
	fi
	bad "klp-build-$variant" "build.sh $variant failed: $(grep -m1 -E 'error' "$out" || tail -n1 "$out")"
	return 1
}
if ! run_build plain "${patches[@]}"; then
	summary
	exit 1
fi
plain=$bdir
tree=$plain/linux

# result_of DIR PATCH: the result directory build.sh made for PATCH in DIR (its last-run list)
result_of() { awk -v n="$(basename "$2" .patch)" '$1 == n { print $2 }' "$1/last-run"; }

# --- 2. the kernel that boots is klp-build's step-1 kernel --------------------------------------
# check_boot_kernel DIR NAME: DIR/boot/vmlinux has the symbols (names, types, addresses) of
# klp-build's step-1 vmlinux (DIR/linux/klp-tmp/1-orig/vmlinux), against which it diffed.
check_boot_kernel() {
	local d=$1 a b
	a=$(nm -n "$d/boot/vmlinux" 2>&1 | sha256sum)
	b=$(nm -n "$d/linux/klp-tmp/1-orig/vmlinux" 2>&1 | sha256sum)
	if [ "$a" = "$b" ] && [ -s "$d/boot/bzImage" ]; then
		ok "$2" "$(nm "$d/boot/vmlinux" | wc -l) symbols equal to klp-tmp/1-orig/vmlinux"
	else
		bad "$2" "$d/boot/vmlinux differs from klp-build's step-1 $d/linux/klp-tmp/1-orig/vmlinux: $(diff <(nm -n "$d/boot/vmlinux") <(nm -n "$d/linux/klp-tmp/1-orig/vmlinux") | grep -m2 '^[<>]' | tr '\n' ' ')"
	fi
}
check_boot_kernel "$plain" boot-kernel-is-step1
# the target module the guest loads is the one klp-build diffed against
shadow=samples/livepatch/livepatch-shadow-mod
if cmp -s "$tree/$shadow.o" "$tree/klp-tmp/1-orig/$shadow.o"; then
	ok target-module-is-step1 "$shadow.o equal to klp-tmp/1-orig's"
else
	bad target-module-is-step1 "$tree/$shadow.o differs from klp-build's step-1 copy $tree/klp-tmp/1-orig/$shadow.o"
fi

# --- 3. what klp-build made ------------------------------------------------------------------------
# klp_syms KO: the .klp.sym.* symbol names of KO (readelf -s; the name is the last field, as the
# Ndx of an SHN_LIVEPATCH symbol reads "OS [0xff20]")
klp_syms() { readelf -sW "$1" | awk '$NF ~ /^\.klp\.sym\./ { print $NF }' | LC_ALL=C sort -u; }
# check_artifacts NAME RES: the kept tmp dir, the pre-post-link module and the finished module, and
# the finished module's klp symbols (readelf).
check_artifacts() {
	local n=$1 res=$2 why= syms
	for f in "klp-tmp/5-kmod/$n.ko.orig" "klp-tmp/5-kmod/$n.ko" "$n.ko" klp-tmp/4-diff/.complete klp-tmp/1-orig/.complete; do
		[ -e "$res/$f" ] || why+="no $res/$f; "
	done
	if [ -n "$why" ]; then
		bad "artifacts-$n" "${why%; }"
		return
	fi
	syms=$(klp_syms "$res/$n.ko" | tr '\n' ' ')
	if ! readelf -SW "$res/$n.ko" | grep -q ' \.klp\.rela\.'; then
		bad "artifacts-$n" "$res/$n.ko has no .klp.rela. section (readelf -S)"
	elif ! readelf -SW "$res/klp-tmp/5-kmod/$n.ko.orig" | grep -q ' __klp_relocs'; then
		bad "artifacts-$n" "$res/klp-tmp/5-kmod/$n.ko.orig has no __klp_relocs section (readelf -S)"
	else
		ok "artifacts-$n" "klp symbols: ${syms% }"
	fi
}
for i in "${!names[@]}"; do
	check_artifacts "${names[i]}" "$(result_of "$plain" "${patches[i]}")"
done
# patch a must reach m_start by position (3 homonyms in vmlinux)
res_a=$(result_of "$plain" "${patches[0]}")
dup=$(klp_syms "$res_a/klpb_vmlinux_dup.ko" | grep '^\.klp\.sym\.vmlinux\.m_start,')
if [[ $dup =~ ,([1-9][0-9]*)$ ]]; then
	ok klp-sym-dup "$dup (m_start is defined $(nm "$plain/boot/vmlinux" | grep -c ' m_start$') times in vmlinux)"
else
	bad klp-sym-dup "want a .klp.sym.vmlinux.m_start,<pos> with pos >= 1 in $res_a/klpb_vmlinux_dup.ko, got: ${dup:-none}"
fi

# --- 4. guest cases -------------------------------------------------------------------------------
# Each case is a test/kernel .case file (guest script lines "> ...", expectation lines, see
# lib.sh's expectations()), generated here for a module file in the guest (/lib/klp/<dir>/<name>.ko).
mkdir -p "$work/cases"
declare -A case_file=()
helpers() {
	cat <<-'EOF'
		> lpins() { step insmod "/lib/klp/$1/$2.ko"; lpwait "$2"; }
		> logwait() { i=0; while ! dmesg | grep -q "$1" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }
		> lpoff() { step sh -c "echo 0 > /sys/kernel/livepatch/$1/enabled"; i=0; while [ -d "/sys/kernel/livepatch/$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done; echo "KLPT gone $1=$([ -d "/sys/kernel/livepatch/$1" ] && echo no || echo yes)"; klog; }
	EOF
}
# case_vmlinux_dup DIR / case_cmdline DIR / case_shadow DIR ORDER: write the case, print its name
case_vmlinux_dup() {
	local c=vmlinux-dup-$1 n=klpb_vmlinux_dup
	{
		echo "# $n from $1: /proc/modules shows the patched m_show, whose m_start is procfs.c's"
		helpers
		echo "> lpins $1 $n"
		echo "> echo \"KLPT a=[\$(grep -o 'klpb-a=[0-9]*' /proc/modules | sort -u | tr '\n' ' ')]\""
		echo "> lpoff $n"
		echo "> echo \"KLPT a-off=[\$(grep -c 'klpb-a=' /proc/modules)]\""
		echo "> rmm $n"
		echo "= KLPT \$ insmod /lib/klp/$1/$n.ko"
		echo "= KLPT rc=0"
		echo "~ livepatch: enabling patch '$n'"
		echo "= KLPT enabled $n=1 transition=0"
		echo "= KLPT a=[klpb-a=1 ]"
		echo "= KLPT gone $n=yes"
		echo "= KLPT a-off=[0]"
		echo "= KLPT rc=0"
		echo "# needs $1/$n"
	} >"$work/cases/$c.case"
	echo "$c"
}
case_cmdline() {
	local c=cmdline-$1 n=klpb_cmdline
	{
		echo "# $n from $1: /proc/cmdline ends in ' klpb-c=1' while the patch is enabled"
		helpers
		echo "> lpins $1 $n"
		echo "> step cat /proc/cmdline"
		echo "> lpoff $n"
		echo "> echo \"KLPT c-off=[\$(grep -c 'klpb-c=' /proc/cmdline)]\""
		echo "> rmm $n"
		echo "= KLPT \$ insmod /lib/klp/$1/$n.ko"
		echo "= KLPT rc=0"
		echo "= KLPT enabled $n=1 transition=0"
		echo "= O: @CMDLINE@ klpb-c=1"
		echo "= KLPT gone $n=yes"
		echo "= KLPT c-off=[0]"
		echo "= KLPT rc=0"
		echo "# needs $1/$n"
	} >"$work/cases/$c.case"
	echo "$c"
}
case_shadow() {
	local c=shadow-$2-$1 n=klpb_shadow_mod t=livepatch-shadow-mod
	{
		echo "# $n from $1, $2: the target's dummy_alloc prints klpb-b lines while the patch is enabled"
		helpers
		if [ "$2" = target-first ]; then
			echo "> ins $t"
			echo "> lpins $1 $n"
		else
			echo "> lpins $1 $n"
			echo "> ins $t"
		fi
		# the target allocates every second (ALLOC_PERIOD); wait for its lines rather than a time
		echo "> dmesg -c >/dev/null; logwait 'klpb-b: dummy_alloc patched, list '; echo \"KLPT b-on=\$(dmesg | grep -c 'klpb-b: dummy_alloc patched, list ')\"; klog"
		echo "> lpoff $n"
		echo "> dmesg -c >/dev/null; logwait 'dummy_alloc: dummy @'; echo \"KLPT b-off=\$(dmesg | grep -c 'klpb-b:') orig=\$(dmesg | grep -c 'dummy_alloc: dummy @')\"; klog"
		echo "> rmm $n"
		echo "> rmm livepatch_shadow_mod"
		if [ "$2" = target-first ]; then
			echo "= KLPT \$ insmod /lib/klp/$t.ko"
			echo "= KLPT rc=0"
			echo "= KLPT \$ insmod /lib/klp/$1/$n.ko"
			echo "= KLPT rc=0"
			echo "= KLPT enabled $n=1 transition=0"
		else
			echo "= KLPT \$ insmod /lib/klp/$1/$n.ko"
			echo "= KLPT rc=0"
			echo "= KLPT enabled $n=1 transition=0"
			echo "= KLPT \$ insmod /lib/klp/$t.ko"
			echo "= KLPT rc=0"
			echo "= K: livepatch: applying patch '$n' to loading module 'livepatch_shadow_mod'"
		fi
		echo "/ ^KLPT b-on=[1-9]"
		echo "= KLPT gone $n=yes"
		echo "/ ^KLPT b-off=0 orig=[1-9]"
		echo "= KLPT \$ rmmod $n"
		echo "= KLPT rc=0"
		echo "= KLPT \$ rmmod livepatch_shadow_mod"
		echo "= KLPT rc=0"
		echo "# needs $1/$n"
	} >"$work/cases/$c.case"
	echo "$c"
}
case_sympos_global() {
	local c=sympos-global-$1 n=klpb_sympos_global
	{
		echo "# $n from $1: the kernel refuses position 0 for pt_regs_offset (two in kallsyms)"
		echo "> ins $1/$n"
		echo "= KLPT \$ insmod /lib/klp/$1/$n.ko"
		echo "/ ^KLPT rc=[1-9]"
		echo "~ livepatch: unresolvable ambiguity for symbol 'pt_regs_offset' in object '(null)'"
		echo "# needs $1/$n"
	} >"$work/cases/$c.case"
	echo "$c"
}
# cases_for DIR NAME: the cases that boot module NAME from guest directory DIR
cases_for() {
	case $2 in
	klpb_vmlinux_dup) case_vmlinux_dup "$1" ;;
	klpb_cmdline) case_cmdline "$1" ;;
	klpb_sympos_global) case_sympos_global "$1" ;;
	klpb_shadow_mod)
		case_shadow "$1" target-first
		case_shadow "$1" patch-first
		;;
	esac
}

# guest modules: guest[<dir>/<name>] = host file
declare -A guest=()
boots=() # "<case> <kernel dir>" to boot
for i in "${!names[@]}"; do
	n=${names[i]}
	res=$(result_of "$plain" "${patches[i]}")
	[ -f "$res/$n.ko" ] || continue
	guest[klp-build/$n]=$res/$n.ko
	for c in $(cases_for klp-build "$n"); do boots+=("$c $plain"); done
done

# --- 5. the interop hook (the converter's own finishing of the .ko.orig) ----------------------------
# run_interop RES NAME TREE GUESTDIR: runs the hook, counts its ok/FAIL lines, and when it wrote
# RES/klp-tmp/klp-convert/NAME.ko, boots it like klp-build's finished module.
run_interop() {
	local res=$1 n=$2 t=$3 gdir=$4 out=$work/interop-$4-$2.out k f rc=0
	rm -rf "$res/klp-tmp/klp-convert"
	bash "$interop" "$res/klp-tmp" "$res/$n.ko" "$t" ${refused[$n]:+refused} >"$out" 2>&1 || rc=$?
	k=$(grep -c '^ok ' "$out" || true)
	f=$(grep -c '^FAIL ' "$out" || true)
	pass=$((pass + k))
	fail=$((fail + f))
	grep -E '^(ok|FAIL|skip) ' "$out" | sed "s/^\(ok\|FAIL\|skip\) /\1 interop-$gdir-$n: /"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then bad "interop-$gdir-$n" "$interop exited $rc with no FAIL line: $(tail -n1 "$out")"; fi
	if [ -f "$res/klp-tmp/klp-convert/$n.ko" ]; then
		mkdir -p "$work/guest/$gdir"
		cp "$res/klp-tmp/klp-convert/$n.ko" "$work/guest/$gdir/$n.ko"
		guest[$gdir/$n]=$work/guest/$gdir/$n.ko
		return 0
	fi
	return 1
}
if [ -f "$interop" ]; then
	for i in "${!names[@]}"; do
		n=${names[i]}
		res=$(result_of "$plain" "${patches[i]}")
		[ -f "$res/$n.ko" ] || continue
		if run_interop "$res" "$n" "$tree" klp-convert; then
			for c in $(cases_for klp-convert "$n"); do boots+=("$c $plain"); done
		fi
	done
else
	skip interop "no $interop (the converter's hook: bash interop.sh <klp-tmp dir> <finished .ko> <kernel tree>)"
fi

# --- 6. issue 9: klp-build on the tree with the kbuild/7.2 series -----------------------------------
kb=
if [ -n "${KLP_NO_KBUILD:-}" ]; then
	skip klp-build-kbuild "KLP_NO_KBUILD is set"
elif [ -n "$conv_missing" ]; then
	bad klp-build-kbuild "$conv_missing"
elif run_build kbuild "${patches[0]}"; then
	kb=$bdir
	check_boot_kernel "$kb" boot-kernel-is-step1-kbuild
	res=$(result_of "$kb" "${patches[0]}")
	check_artifacts klpb_vmlinux_dup "$res"
	# the series' modfinal leaves klp-build's module to klp-build, and says so
	if grep -qF "made by klp-build (__klp_relocs), left to objtool klp post-link" "$res/klp-tmp/5-kmod/build.log" 2>/dev/null; then
		ok kbuild-leaves-klp-build-module "$(grep -m1 -F 'made by klp-build' "$res/klp-tmp/5-kmod/build.log" | sed 's/^ *//')"
	else
		bad kbuild-leaves-klp-build-module "no 'made by klp-build (__klp_relocs), left to objtool klp post-link' line in $res/klp-tmp/5-kmod/build.log (the series' modfinal converted klp-build's module, or did not run)"
	fi
	# and the result is klp-build's: the same klp symbols and klp sections as on the plain tree
	pa=$(result_of "$plain" "${patches[0]}")/klpb_vmlinux_dup.ko
	kbs() { klp_syms "$1"; readelf -SW "$1" | grep -oE '\.klp\.rela\.[^ ]+' | LC_ALL=C sort -u; }
	if [ -f "$res/klpb_vmlinux_dup.ko" ] && [ "$(kbs "$pa")" = "$(kbs "$res/klpb_vmlinux_dup.ko")" ]; then
		ok kbuild-same-as-plain "klp symbols and .klp.rela sections equal to the plain tree's: $(kbs "$pa" | tr '\n' ' ')"
	else
		bad kbuild-same-as-plain "plain: $(kbs "$pa" | tr '\n' ' '); kbuild: $(kbs "$res/klpb_vmlinux_dup.ko" 2>&1 | tr '\n' ' ')"
	fi
	if [ -f "$res/klpb_vmlinux_dup.ko" ]; then
		guest[kbuild/klpb_vmlinux_dup]=$res/klpb_vmlinux_dup.ko
		for c in $(cases_for kbuild klpb_vmlinux_dup); do boots+=("$c $kb"); done
		if [ -f "$interop" ] && run_interop "$res" klpb_vmlinux_dup "$kb/linux" kbuild-klp-convert; then
			for c in $(cases_for kbuild-klp-convert klpb_vmlinux_dup); do boots+=("$c $kb"); done
		fi
	fi
fi

# --- 7. boots ---------------------------------------------------------------------------------------
# one initramfs per kernel (plain, kbuild): every guest module, the target module, the cases
# make_initrd KDIR OUT
make_initrd() {
	local k=$1 out=$2 spec=$2.list g c d
	{
		initramfs_base "$busybox"
		for d in klp-build klp-convert kbuild kbuild-klp-convert; do echo "dir /lib/klp/$d 0755 0 0"; done
		echo "file /lib/klp/livepatch-shadow-mod.ko $k/linux/$shadow.ko 0644 0 0"
		for g in "${!guest[@]}"; do echo "file /lib/klp/$g.ko ${guest[$g]} 0644 0 0"; done
		for c in "${!case_file[@]}"; do echo "file /cases/$c.sh $work/cases/$c.sh 0644 0 0"; done
	} >"$spec"
	"$gen_init_cpio" "$spec" | gzip -1 >"$out"
}
for b in "${boots[@]}"; do
	c=${b%% *}
	case_file[$c]=$work/cases/$c.case
	sed -n 's/^> //p' "${case_file[$c]}" >"$work/cases/$c.sh"
done
declare -A initrd_of=()
for k in "$plain" ${kb:+"$kb"}; do
	initrd_of[$k]=$work/initramfs-$(basename "$k").cpio.gz
	make_initrd "$k" "${initrd_of[$k]}"
done

# boot CASE KDIR: writes "ok" / "FAIL why" (+ detail lines) to $work/results/CASE
boot() {
	local c=$1 k=$2 log=$logs/$1.log res=$work/results/$1 rc=0 why
	qemu_boot_x86 "$k/boot/bzImage" "${initrd_of[$k]}" "klptest=$c" "$log" || rc=$?
	if [ "$rc" = 124 ]; then
		why="timeout after $boot_timeout s"
	else
		why=$(check_log_file "${case_file[$c]}" "$log")
		[ -n "$why" ] || [ "$rc" = 0 ] || why="qemu exited with status $rc"
	fi
	if [ -z "$why" ]; then
		echo ok >"$res"
		return
	fi
	{
		echo "FAIL $why (log: $log)"
		echo "    kernel messages and guest lines of $log:"
		tr -d '\r' <"$log" | grep -E '^(KLPT|K:|O:)' | grep -v '^KLPT cmdline' | tail -n 25 | sed 's/^/    | /'
	} >"$res"
}
mkdir -p "$work/results"
note "booting ${#boots[@]} cases, $parallel at a time"
running=0
for b in "${boots[@]}"; do
	boot "${b%% *}" "${b#* }" &
	running=$((running + 1))
	if [ "$running" -ge "$parallel" ]; then
		wait -n || true
		running=$((running - 1))
	fi
done
wait
declare -A booted=() # booted[<guest dir>/<name>] = ok | fail
for b in "${boots[@]}"; do
	c=${b%% *}
	r=$(head -n1 "$work/results/$c" 2>/dev/null || echo "FAIL no result")
	g=$(sed -n 's/^# needs //p' "${case_file[$c]}")
	if [ "$r" = ok ]; then
		ok "boot-$c"
		[ "${booted[$g]:-}" = fail ] || booted[$g]=ok
	else
		bad "boot-$c" "${r#FAIL }"
		tail -n +2 "$work/results/$c"
		booted[$g]=fail
	fi
done

# --- 8. klp-convert check / check --target against what the kernel did ---------------------------
# agree G FILE TREE: both verdicts on FILE (guest module G) next to the boot's
agree() {
	local g=$1 f=$2 t=$3 id=${1//\//-} rc1=0 rc2=0 b=${booted[$1]:-none} want=0
	# a module the kernel refused (its case passed by failing insmod): check --target must exit 1
	[ -z "${refused[${1##*/}]:-}" ] || want=1
	cli "check-$id" check "$f" || rc1=$?
	cli "target-$id" check --target "$t" "$f" || rc2=$?
	local verdict="check: exit $rc1, check --target: exit $rc2, boot: $b"
	[ "$want" = 0 ] || verdict+=" (the case wants the kernel to refuse it)"
	# the kernel's verdict is the boot's; check --target must say the same, and plain check must
	# find no error in a module the kernel loaded
	if [ "$b" = none ]; then
		bad "check-agrees-$id" "$verdict (no boot ran)"
	elif [[ ($b = ok && $rc2 != "$want") || ($b = fail && $rc2 != 1) ]]; then
		bad "check-agrees-$id" "$verdict: klp-convert check --target $t says $(first_line "$work/cli/target-$id.out")"
	elif [ "$b" = ok ] && [ "$want" = 0 ] && [ "$rc1" != 0 ]; then
		bad "check-agrees-$id" "$verdict: klp-convert check says $(first_line "$work/cli/check-$id.out")"
	else
		ok "check-agrees-$id" "$verdict"
	fi
}
for g in $(printf '%s\n' "${!guest[@]}" | LC_ALL=C sort); do
	case $g in kbuild*) t=$kb/linux ;; *) t=$tree ;; esac
	agree "$g" "${guest[$g]}" "$t"
done
summary
