#!/bin/bash
# Real-kernel proof for klp-convert: build (or reuse) a small livepatch-capable kernel, build the
# test modules out of tree, generate symbols.klp with our CLI (and compare it with the kbuild
# recipe), convert the livepatches, then boot each test case in qemu and check what the kernel
# says.  Run through `npm run test:kernel` (which builds dist/ first) or directly.
#
# Output: one line per case, "ok <name>" or "FAIL <name>: <why>", then "N passed, N failed".
# Serial logs: test/kernel/logs/<case>.log.  Scratch files: test/kernel/work/ (both gitignored;
# logs-<line>/ and work-<line>/ for KLP_KERNEL other than 6.12).
#
# Environment (see README.md):
#   KLP_KERNEL         kernel line: 6.1, 6.12 (default) or 7.2 (build-kernel.sh builds it)
#   KLP_ARCH           x86_64 (default, this script) or arm64, ppc64le, s390x (handed to
#                      test/kernel-cross/run.sh, which runs every case that applies there)
#   KLP_CONVERT        command that runs the CLI (default: node <repo>/dist/src/cli/main.js)
#   KLP_SHARED         directory with reference/ and tools/ (default <repo>/../shared)
#   KLP_KERNEL_TREE    use this built kernel tree instead of build-kernel.sh's
#   KLP_KERNEL_CACHE   where build-kernel.sh keeps its trees
#   KLP_WORK           scratch directory (default test/kernel/work)
#   KLP_CASES          only boot these cases (space-separated names or globs)
#   KLP_EXTRA_DIR      a directory of your own *.ko (put into the guest's /lib/klp) and *.case files
#   KLP_BOOT_TIMEOUT   seconds per boot (default 60)
#   KLP_PARALLEL       concurrent qemu boots (default: number of CPUs)
#   KLP_QEMU           qemu binary (default qemu-system-x86_64); KLP_QEMU_ARGS extra arguments
#   KLP_CONVERTED      harness self-test only (selftest-hand.sh): take converted livepatches from
#                      this directory instead of running the CLI; symbols/convert steps are skipped
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export KLP_KERNEL=${KLP_KERNEL:-6.12}
case $KLP_KERNEL in
6.1 | 6.12 | 7.2) ;;
*)
	echo "run.sh: KLP_KERNEL=$KLP_KERNEL: want 6.1, 6.12 or 7.2" >&2
	exit 64
	;;
esac
case ${KLP_ARCH:-x86_64} in
x86_64) ;;
arm64 | ppc64le | s390x) exec bash "$repo/test/kernel-cross/run.sh" "$KLP_ARCH" ;;
*)
	echo "run.sh: KLP_ARCH=$KLP_ARCH: want x86_64, arm64, ppc64le or s390x" >&2
	exit 64
	;;
esac
shared=${KLP_SHARED:-$repo/../shared}
# a clone outside the workplace finds the shared references at their usual place
[ -d "$shared" ] || [ -n "${KLP_SHARED:-}" ] || shared=/work/shared
# 6.12 keeps the historical work/ and logs/; the other lines get work-<line>/ and logs-<line>/
sfx=
[ "$KLP_KERNEL" = 6.12 ] || sfx=-$KLP_KERNEL
work=${KLP_WORK:-$here/work$sfx}
logs=$here/logs$sfx
boot_timeout=${KLP_BOOT_TIMEOUT:-60}
parallel=${KLP_PARALLEL:-$(nproc)}
# shellcheck disable=SC2034 # t_start, pass and fail are read by lib.sh's ok, bad and summary
t_start=$(date +%s)

# shellcheck disable=SC2034
pass=0
# shellcheck disable=SC2034
fail=0
# shellcheck source=lib.sh
. "$here/lib.sh"

mkdir -p "$work" "$logs"

# --- the CLI under test ---------------------------------------------------------------------------
setup_cli "$repo"

# --- 1. kernel -----------------------------------------------------------------------------------
if [ -n "${KLP_KERNEL_TREE:-}" ]; then
	tree=$(cd "$KLP_KERNEL_TREE" && pwd)
else
	if ! tree=$(bash "$here/build-kernel.sh" | tail -n1) || [ -z "$tree" ]; then
		bad kernel-build "build-kernel.sh failed (see its messages above)"
		summary
		exit 1
	fi
fi
for f in vmlinux System.map arch/x86/boot/bzImage modules.order usr/gen_init_cpio; do
	if [ ! -e "$tree/$f" ]; then
		bad kernel-build "$tree/$f is missing"
		summary
		exit 1
	fi
done
note "kernel tree: $tree"
# The late cases (lp*-late, data-late, roai-late) prove writes into read-only module memory only
# when the kernel makes module memory read-only.
if grep -qx CONFIG_STRICT_MODULE_RWX=y "$tree/.config"; then
	ok strict-module-rwx "the late cases write into read-only module text and data"
else
	bad strict-module-rwx "CONFIG_STRICT_MODULE_RWX is off in $tree/.config: the late cases would not prove writes into read-only memory"
fi

# --- 2. test modules -----------------------------------------------------------------------------
mods=$work/modules
# Cases that need something of the kernel, with why they are skipped when it lacks it.
declare -A skip_why=()
# dup: which __func__.N copies it reads depends on the kernel (gcc numbers them per file);
# dup-pick.mjs chooses them from this kernel's map and writes the module's pick header, its
# .resolve rules and the case's expected strings (read from vmlinux) into $work/dup.
dup_dir=$work/dup
rm -rf "$dup_dir"
mkdir -p "$dup_dir"
if [ "$(nm "$tree/vmlinux" | grep -c ' ucode_path$')" != 2 ]; then
	skip_why[dup]="vmlinux has no two ucode_path (microcode/intel.c and amd.c): CONFIG_MICROCODE is $(grep -E '^(CONFIG_MICROCODE=|# CONFIG_MICROCODE is)' "$tree/.config" || echo absent) in this tinyconfig"
elif ! cli dup-map symbols --objtree "$tree" --format ext -o "$dup_dir/vmlinux.klpx"; then
	bad dup-pick "klp-convert symbols --format ext failed: $(first_line "$work/cli/dup-map.out")"
	skip_why[dup]="no map to choose its copies from (dup-pick failed)"
elif ! picked=$(node "$here/dup-pick.mjs" "$dup_dir/vmlinux.klpx" "$tree" "$dup_dir" 2>"$dup_dir/pick.err"); then
	bad dup-pick "$(first_line "$dup_dir/pick.err")"
	skip_why[dup]="its copies could not be chosen (dup-pick failed)"
	rm -f "$dup_dir"/*.h "$dup_dir"/*.resolve
else
	ok dup-pick "$picked"
fi
note "building test modules in $mods"
if ! build_test_modules "$tree" "$mods" "$repo" "$work/modules-build.log" "$dup_dir"; then
	bad modules-build "make M=$mods failed: $(grep -m1 -E 'error|Error' "$work/modules-build.log" || tail -n1 "$work/modules-build.log")"
	summary
	exit 1
fi

targets=(test_klp_convert_mod test-klp-dash-mod)
if [ "$KLP_KERNEL" = 6.1 ]; then
	# 6.1's x86 module loader has no clear_relocate_add() (6.2+): unloading the target leaves the
	# klp relocation sites written, and loading it again fails (seen on 6.1.192).
	for c in lp1-reload lp2-reload; do
		skip_why[$c]="6.1 does not clear klp relocations when the target unloads (no clear_relocate_add before 6.2): reloading it fails with 'x86/modules: Skipping invalid relocation target, existing value is nonzero' and 'livepatch: failed to initialize patch ... (-8)'"
	done
fi
# livepatch -> resolve file ("" when none)
livepatches=(test_klp_convert1 test_klp_convert2 test_klp_convert3 test_klp_convert_sections
	test_klp_convert_data test_klp_convert_keys test_klp_convert_dup test_klp_convert_dash
	test_klp_convert_roai)
declare -A resolve_of=(
	[test_klp_convert3]=test_klp_convert3.resolve
	[test_klp_convert_dup]=test_klp_convert_dup.resolve
	[test_klp_convert_wrongpos]=test_klp_convert_wrongpos.resolve
)

# The target's statics must exist under their source names, homonyms twice, nothing cloned.
check_target_symbols() {
	local ko=$mods/test_klp_convert_mod.ko names why=
	names=$(nm "$ko" | awk 'NF == 3 { print $3 }')
	count() { grep -cxF "$1" <<<"$names" || true; }
	for s in homonym_string get_homonym_string; do
		[ "$(count $s)" = 2 ] || why+="$s defined $(count $s) times, want 2; "
	done
	for s in driver_name test_klp_get_driver_name test_klp_answer klp_string.12345 klp_string.67890 \
		data_global_small data_const_global_small data_static_small data_static_const_small \
		data_local_small data_static_local_small data_read_mostly data_global_large \
		data_const_global_large data_static_large data_static_const_large; do
		[ "$(count "$s")" = 1 ] || why+="$s defined $(count "$s") times, want 1; "
	done
	if grep -qE '\.(isra|constprop|part|cold)(\.|$)' <<<"$names"; then
		why+="gcc clones present: $(grep -E '\.(isra|constprop|part|cold)' <<<"$names" | tr '\n' ' '); "
	fi
	names=$(nm "$mods/test-klp-dash-mod.ko" | awk 'NF == 3 { print $3 }')
	for s in dash_string dash_get_string; do
		[ "$(count $s)" = 1 ] || why+="test-klp-dash-mod: $s defined $(count $s) times, want 1; "
	done
	if [ -n "$why" ]; then bad target-symbols "${why%; }"; else ok target-symbols; fi
}
check_target_symbols

# --- 3. symbols.klp ------------------------------------------------------------------------------
baseline=$shared/tools/symbols-klp-baseline.sh
# livepatch_list OBJTREE: the modules.order entries of livepatch modules (a "livepatch" modinfo
# key), i.e. the modules.livepatch that the v7 kbuild series' modpost would write.  An unpatched
# tree has none; symbols-klp-baseline.sh needs it to leave livepatch modules out, as v7 did.
# Entries keep the form of modules.order: <path>.o since 6.2, <path>.ko on 6.1.
livepatch_list() {
	local e s
	while IFS= read -r e; do
		s=${e%.o}
		s=${s%.ko}
		if [ -n "$(modinfo -F livepatch "$1/$s.ko" 2>/dev/null)" ]; then echo "$e"; fi
	done <"$1/modules.order"
}

# make_overlay DIR [EXTRA_ORDER_LINES...]: a kbuild-like tree whose top-level entries are symlinks
# into the kernel tree, with its own modules.order (+ extra lines) and a modules.livepatch.
make_overlay() {
	local dir=$1 e
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	for e in "$tree"/* "$tree"/.config; do
		case ${e##*/} in modules.order | modules.livepatch | symbols.klp) continue ;; esac
		ln -s "$e" "$dir/${e##*/}"
	done
	ln -s "$mods" "$dir/klptest"
	{
		cat "$tree/modules.order"
		for e in "$@"; do echo "$e"; done
	} >"$dir/modules.order"
	livepatch_list "$dir" >"$dir/modules.livepatch"
}
# The tree as kbuild with the v7 series would leave it (for the baseline script only).
baseline_tree=$work/objtree-baseline
make_overlay "$baseline_tree"
# The tree plus the two target modules (klptest/ -> the module build), for both tools.
overlay=$work/objtree
target_entries=()
for t in "${targets[@]}"; do target_entries+=("klptest/$t.o"); done
make_overlay "$overlay" "${target_entries[@]}"

# compare_symbols NAME OBJTREE [BASELINE_OBJTREE]: our symbols.klp for OBJTREE against the kbuild
# recipe's for BASELINE_OBJTREE (default OBJTREE), byte for byte.
compare_symbols() {
	local name=$1 objtree=$2 ours=$work/$1.klp theirs=$work/$1.baseline.klp
	rm -f "$ours"
	if ! bash "$baseline" "${3:-$objtree}" "$theirs" 2>"$work/$name.baseline.err"; then
		bad "$name" "baseline script failed: $(first_line "$work/$name.baseline.err")"
		return
	fi
	if ! cli "$name" symbols --objtree "$objtree" -o "$ours"; then
		bad "$name" "klp-convert symbols failed: $(first_line "$work/cli/$name.out")"
		return
	fi
	if ! cmp -s "$ours" "$theirs"; then
		local d
		d=$(diff "$ours" "$theirs" | grep -m3 '^[0-9<>]' | tr '\n' ' ' || true)
		bad "$name" "differs from $baseline ($(wc -l <"$ours") vs $(wc -l <"$theirs") lines; first diff, < ours > baseline: $d)"
		return
	fi
	ok "$name"
}
klpx=$work/symbols.klpx
rm -f "$klpx"
if [ -n "${KLP_CONVERTED:-}" ]; then
	for c in symbols-tree symbols-with-targets symbols-ext; do skip $c "KLP_CONVERTED is set"; done
else
	compare_symbols symbols-tree "$tree" "$baseline_tree"
	compare_symbols symbols-with-targets "$overlay"
	if cli symbols-ext symbols --objtree "$overlay" --format ext -o "$klpx" && [ -s "$klpx" ]; then
		ok symbols-ext
	else
		bad symbols-ext "klp-convert symbols --format ext failed: $(first_line "$work/cli/symbols-ext.out")"
	fi
	# the map reads <mod>.o, the kernel counts over <mod>.ko: a view of the tree with only .ko files
	koview=$work/koview
	rm -rf "$koview"
	mkdir -p "$koview"
	ln -s "$tree/vmlinux" "$koview/vmlinux"
	sed 's/\.o$/.ko/' "$tree/modules.order" >"$koview/modules.order"
	while read -r m; do mkdir -p "$koview/$(dirname "$m")"; ln -s "$tree/$m" "$koview/$m"; done <"$koview/modules.order"
	if cli symbols-ko symbols --objtree "$koview" --format ext -o "$work/symbols-ko.klpx" &&
		cli symbols-tree-ext symbols --objtree "$tree" --format ext -o "$work/symbols-o.klpx" &&
		node "$here/ext-o-vs-ko.mjs" "$work/symbols-o.klpx" "$work/symbols-ko.klpx" >"$work/o-vs-ko.out" 2>&1; then
		ok ext-positions-o-vs-ko "$(tail -1 "$work/o-vs-ko.out")"
	else
		bad ext-positions-o-vs-ko "$(head -3 "$work/o-vs-ko.out" 2>/dev/null | tr '\n' ' ')"
	fi
fi

# --- 4. conversion -------------------------------------------------------------------------------
conv_dir=$work/converted
why_dir=$work/why # why_dir/<stem>: why <stem>.ko is not available in the guest
rm -rf "$conv_dir" "$why_dir" "$work/ambiguous.ko"
mkdir -p "$conv_dir" "$why_dir"

# convert LP: writes $conv_dir/LP.ko or $why_dir/LP; returns non-zero on failure.
convert() {
	local lp=$1 args=(convert --symbols "$klpx")
	if [ -n "${KLP_CONVERTED:-}" ]; then
		if [ -f "$KLP_CONVERTED/$lp.ko" ]; then
			cp "$KLP_CONVERTED/$lp.ko" "$conv_dir/$lp.ko"
		else
			echo "not in KLP_CONVERTED=$KLP_CONVERTED" >"$why_dir/$lp"
			return 1
		fi
		return 0
	fi
	if [ ! -s "$klpx" ]; then
		echo "no $klpx (symbols --format ext failed)" >"$why_dir/$lp"
		return 1
	fi
	[ -z "${resolve_of[$lp]:-}" ] || args+=(--resolve "$mods/${resolve_of[$lp]}")
	args+=("$mods/$lp.ko" -o "$conv_dir/$lp.ko")
	if ! cli "convert-$lp" "${args[@]}"; then
		echo "klp-convert convert failed: $(first_line "$work/cli/convert-$lp.out")" >"$why_dir/$lp"
		rm -f "$conv_dir/$lp.ko"
		return 1
	fi
	if [ ! -s "$conv_dir/$lp.ko" ]; then
		echo "klp-convert convert exited 0 but wrote no $conv_dir/$lp.ko" >"$why_dir/$lp"
		return 1
	fi
}
for lp in "${livepatches[@]}"; do
	if [ "$lp" = test_klp_convert_dup ] && [ -n "${skip_why[dup]:-}" ]; then
		skip "convert-$lp" "${skip_why[dup]}"
		continue
	fi
	if [ -n "${KLP_CONVERTED:-}" ]; then
		convert "$lp" || true
		skip "convert-$lp" "taken from KLP_CONVERTED ($(cat "$why_dir/$lp" 2>/dev/null || echo present))"
	elif convert "$lp"; then
		ok "convert-$lp"
	else
		bad "convert-$lp" "$(cat "$why_dir/$lp")"
	fi
done
# The negative control may be refused by the converter already (judged by its boot case).
convert test_klp_convert_wrongpos || true

# Without its resolve file the same module is ambiguous (two homonym_string, two
# get_homonym_string in test_klp_convert_mod, no annotation): the converter must refuse it.
if [ -n "${KLP_CONVERTED:-}" ]; then
	skip convert-ambiguous "KLP_CONVERTED is set"
elif [ ! -s "$klpx" ]; then
	bad convert-ambiguous "no $klpx (symbols --format ext failed)"
else
	rc=0
	cli convert-ambiguous convert --symbols "$klpx" "$mods/test_klp_convert_wrongpos.ko" \
		-o "$work/ambiguous.ko" || rc=$?
	if [ "$rc" = 0 ]; then
		bad convert-ambiguous "converted a module with ambiguous homonym_string without complaint"
	elif [ "$rc" = 127 ] || ! grep -q homonym_string "$work/cli/convert-ambiguous.out"; then
		bad convert-ambiguous "exit $rc without naming homonym_string: $(first_line "$work/cli/convert-ambiguous.out")"
	elif [ -e "$work/ambiguous.ko" ]; then
		bad convert-ambiguous "refused (exit $rc) but left $work/ambiguous.ko behind"
	else
		ok convert-ambiguous "exit $rc: $(first_line "$work/cli/convert-ambiguous.out")"
	fi
fi

# Kernel-side wrong position, independent of the converter's own checks: the converted
# test_klp_convert2.ko with its klp symbol renamed from position 2 to 3 (same length).
make_pos3() {
	local in=$conv_dir/test_klp_convert2.ko out=$conv_dir/test_klp_convert2.pos3.ko n
	local from='.klp.sym.test_klp_convert_mod.homonym_string,2' to='.klp.sym.test_klp_convert_mod.homonym_string,3'
	if [ ! -f "$in" ]; then
		echo "needs the converted test_klp_convert2.ko: $(cat "$why_dir/test_klp_convert2" 2>/dev/null)" >"$why_dir/test_klp_convert2.pos3"
		return
	fi
	n=$(grep -o -a -F "$from" "$in" | wc -l)
	if [ "$n" != 1 ]; then
		echo "converted test_klp_convert2.ko has $n strings '$from', want 1" >"$why_dir/test_klp_convert2.pos3"
		return
	fi
	FROM=$from TO=$to perl -0777 -pe 's/\Q$ENV{FROM}\E\0/$ENV{TO}\0/g' "$in" >"$out"
}
make_pos3
cp "$mods/test_klp_convert1.ko" "$conv_dir/test_klp_convert1.raw.ko"

# --- 5. initramfs --------------------------------------------------------------------------------
# Cases: cases/*.case, plus $KLP_EXTRA_DIR/*.case (a user's own; see README.md).
declare -A case_file=()
for f in "$here"/cases/*.case ${KLP_EXTRA_DIR:+"$KLP_EXTRA_DIR"/*.case}; do
	[ -f "$f" ] || continue
	c=${f##*/}
	case_file[${c%.case}]=$(realpath "$f")
done
# dup's expectations are the ones dup-pick.mjs filled in for this kernel
[ ! -f "$dup_dir/dup.case" ] || case_file[dup]=$dup_dir/dup.case
mapfile -t all_cases < <(printf '%s\n' "${!case_file[@]}" | LC_ALL=C sort)
selected=()
for c in "${all_cases[@]}"; do
	if [ -n "${skip_why[$c]:-}" ]; then
		skip "$c" "${skip_why[$c]}"
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

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	bad initramfs "no static busybox found (install busybox-static)"
	summary
	exit 1
fi
initrd=$work/initramfs.cpio.gz
spec=$work/initramfs.list
declare -A in_guest=()
{
	initramfs_base "$busybox"
	for t in "${targets[@]}"; do
		echo "file /lib/klp/$t.ko $mods/$t.ko 0644 0 0"
		in_guest[$t]=1
	done
	for f in "$conv_dir"/*.ko; do
		[ -e "$f" ] || continue
		s=${f##*/}
		s=${s%.ko}
		echo "file /lib/klp/$s.ko $f 0644 0 0"
		in_guest[$s]=1
	done
	if [ -n "${KLP_EXTRA_DIR:-}" ]; then
		for f in "$KLP_EXTRA_DIR"/*.ko; do
			[ -e "$f" ] || continue
			s=${f##*/}
			s=${s%.ko}
			echo "file /lib/klp/$s.ko $(realpath "$f") 0644 0 0"
			in_guest[$s]=1
		done
	fi
	sample=$tree/samples/livepatch/livepatch-sample.ko
	if [ -f "$sample" ]; then
		echo "file /lib/klp/livepatch-sample.ko $sample 0644 0 0"
		in_guest[livepatch-sample]=1
	fi
	mkdir -p "$work/cases"
	for c in "${selected[@]}"; do
		sed -n 's/^> //p' "${case_file[$c]}" >"$work/cases/$c.sh"
		echo "file /cases/$c.sh $work/cases/$c.sh 0644 0 0"
	done
} >"$spec"
"$tree/usr/gen_init_cpio" "$spec" | gzip -1 >"$initrd"


# --- 6. boots (expectation lines: see expectations() in lib.sh) --------------------------------
# check_log CASE LOG: prints the first unmet expectation, nothing if all are met (lib.sh).
check_log() { check_log_file "${case_file[$1]}" "$2"; }

# boot CASE: writes "ok" / "FAIL <why>" (+ detail lines) to $work/results/CASE.
boot() {
	local c=$1 log=$logs/$1.log res=$work/results/$1 append rc why m reason
	append=$(sed -n 's/^append: / /p' "${case_file[$c]}" | tr -d '\n')
	# convert-may-fail: STEM TEXT -- the converter may refuse STEM with a message containing TEXT
	while read -r m reason; do
		[ -n "$m" ] || continue
		if [ -f "$why_dir/$m" ] && grep -qF -- "$reason" "$work/cli/convert-$m.out" 2>/dev/null; then
			echo "ok refused by the converter: $(first_line "$work/cli/convert-$m.out")" >"$res"
			return
		fi
	done < <(sed -n 's/^convert-may-fail: //p' "${case_file[$c]}")
	for m in $(sed -n 's/^> ins //p' "${case_file[$c]}"); do
		if [ -z "${in_guest[$m]:-}" ]; then
			echo "FAIL needs $m.ko: $(cat "$why_dir/$m" 2>/dev/null || echo "not built")" >"$res"
			return
		fi
	done
	rc=0
	qemu_boot_x86 "$tree/arch/x86/boot/bzImage" "$initrd" "klptest=$c$append" "$log" || rc=$?
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
			if ! grep -q '^KLPT end' <(tr -d '\r' <"$log"); then
				echo "    last 30 lines of $log:"
				tail -n 30 "$log" | tr -d '\r' | sed 's/^/    | /'
			fi
		} >"$res"
	else
		echo ok >"$res"
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

[ -n "${KLP_NO_AGREE:-}" ] || . "$here/agree.sh" # check --target against this kernel (agree.sh)
summary
