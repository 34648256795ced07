#!/bin/bash
# Agreement test for `klp-convert check --target`: a corpus of good and bad livepatch modules
# (agree/agree_*.c, some edited further by agree/craft.mjs), the verdict of check --target on
# three targets (the build tree, its extended map, a /proc/kallsyms captured from the booted
# guest), and what the booted kernel really does with each module, in both load orders where the
# patch has a module object. Every verdict must agree with the kernel.
#
#   bash test/kernel/agree.sh [TREE]      standalone (TREE: a built kernel tree; default: the
#                                         tree of build-kernel.sh)
#   . test/kernel/agree.sh                from run.sh, after its step 2 (reuses tree, mods, work)
#
# Output: "ok agree-<case>-<target>" / "FAIL ..." lines and a count line; the kernel's lines are
# in test/kernel/logs/agree-*.log. Environment as for run.sh (KLP_CONVERT, KLP_BOOT_TIMEOUT,
# KLP_PARALLEL, KLP_QEMU).

agree_main() {
	local tree=$1 mods=$2 work=$3 here=$4 repo=$5
	local aw=$work/agree src lp c f cases=() late=() boot_list=() initrd spec busybox
	src=$aw/src
	rm -rf "$aw"
	mkdir -p "$aw/lp" "$aw/cases" "$aw/pred" "$aw/kallsyms" "$logs"
	busybox=$(command -v busybox || true)
	if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
		skip agree "no static busybox found (install busybox-static)"
		return
	fi
	# 1. the corpus, built against the tree
	rsync -a "$here/agree/" "$src/"
	if ! make -C "$tree" M="$src" KBUILD_MODPOST_WARN=1 modules >"$aw/build.log" 2>&1; then
		bad agree-build "make M=$src failed: $(grep -m1 -E 'error|Error' "$aw/build.log" || tail -n1 "$aw/build.log")"
		return
	fi
	# 2. converted without a map: minimal-form names are taken as written
	for f in "$src"/agree_*.ko; do
		lp=$(basename "$f" .ko)
		if ! cli "agree-convert-$lp" convert "$f" -o "$aw/lp/$lp.ko"; then
			bad "agree-convert-$lp" "$(first_line "$work/cli/agree-convert-$lp.out")"
		fi
	done
	# 3. what no converter writes
	local craft=(node "$here/agree/craft.mjs")
	"${craft[@]}" "$aw/lp/agree_vminmod.ko" "$aw/lp/agree_vminmod.ko" 'klp-object:vmlinux=test_klp_convert_mod' &&
		"${craft[@]}" "$aw/lp/agree_vminundecl.ko" "$aw/lp/agree_vminundecl.ko" 'klp-object:vmlinux=test_klp_convert_mod' &&
		"${craft[@]}" "$aw/lp/agree_longname.ko" "$aw/lp/agree_longname.ko" 'symbol:.klp.sym.vmlinux.saved_command_line,0=long:vmlinux:600:0' &&
		"${craft[@]}" "$aw/lp/agree_pos64.ko" "$aw/lp/agree_pos64.ko" 'symbol:.klp.sym.test_klp_convert_mod.homonym_string,2=.klp.sym.test_klp_convert_mod.homonym_string,18446744073709551615' &&
		"${craft[@]}" "$aw/lp/agree_unknownobj.ko" "$aw/lp/agree_unknownobj.ko" 'symbol:.klp.sym.vmlinux.klpt_sym,0=.klp.sym.klpt_no_such_mod.klpt_sym,0' ||
		{ bad agree-craft "craft.mjs failed"; return; }
	# the project's own converter outputs from run.sh, when there
	if [ -n "${conv_dir:-}" ]; then
		for f in "$conv_dir"/test_klp_convert*.ko; do
			case $f in *.pos3.ko | *.raw.ko) continue ;; esac
			if [ -f "$f" ]; then cp "$f" "$aw/lp/"; fi
		done
	fi

	# another producer: test/kernel/hand-convert.py (positions given by hand), one good, one bad
	if command -v python3 >/dev/null; then
		local m=test_klp_convert_mod
		python3 "$here/hand-convert.py" "$mods/test_klp_convert2.ko" "$aw/lp/hand.test_klp_convert2.ko" saved_command_line=vmlinux,0 \
			driver_name=$m,0 test_klp_get_driver_name=$m,0 homonym_string=$m,2 get_homonym_string=$m,2 >"$aw/hand.log" 2>&1 &&
			python3 "$here/hand-convert.py" "$mods/test_klp_convert_wrongpos.ko" "$aw/lp/hand.test_klp_convert_wrongpos.ko" \
				saved_command_line=vmlinux,0 driver_name=$m,0 test_klp_get_driver_name=$m,0 homonym_string=$m,3 \
				get_homonym_string=$m,2 >>"$aw/hand.log" 2>&1 ||
			bad agree-hand-convert "hand-convert.py failed"
	fi

	# 4. cases: A = target module first, then the patch; B = the patch first, then the module
	local mn
	for f in "$aw"/lp/*.ko; do
		lp=$(basename "$f" .ko)
		mn=${lp#hand.} # the module's own name (hand-converted copies keep it)
		cases+=("A-$lp")
		cat >"$aw/cases/A-$lp.sh" <<-EOF
			ins test_klp_convert_mod
			ins $lp
			if [ -d /sys/kernel/livepatch/$mn ]; then lpwait $mn; dbg $mn; param test_klp_convert_mod answer; fi
		EOF
		if grep -q 'define KLPT_MOD_OBJ$' "$src/$lp.c" 2>/dev/null; then
			cases+=("B-$lp")
			late+=("$lp")
			cat >"$aw/cases/B-$lp.sh" <<-EOF
				ins $lp
				if [ -d /sys/kernel/livepatch/$lp ]; then lpwait $lp; fi
				ins test_klp_convert_mod
				if [ -d /sys/module/test_klp_convert_mod ] && [ -d /sys/kernel/livepatch/$lp ]; then lpwait $lp; dbg $lp; param test_klp_convert_mod answer; fi
			EOF
		fi
	done
	cases+=(kallsyms)
	cat >"$aw/cases/kallsyms.sh" <<-'EOF'
		ins test_klp_convert_mod
		echo "KLPT kallsyms begin"
		sed 's/^/S: /' /proc/kallsyms
		sed 's/^/M: /' /proc/modules
		echo "KLPT kallsyms end"
	EOF

	# 5. initramfs and boots
	initrd=$aw/initramfs.cpio.gz
	spec=$aw/initramfs.list
	{
		initramfs_base "$busybox"
		echo "file /lib/klp/test_klp_convert_mod.ko $mods/test_klp_convert_mod.ko 0644 0 0"
		for f in "$aw"/lp/*.ko; do echo "file /lib/klp/${f##*/} $f 0644 0 0"; done
		for c in "${cases[@]}"; do echo "file /cases/agree-$c.sh $aw/cases/$c.sh 0644 0 0"; done
	} >"$spec"
	"$tree/usr/gen_init_cpio" "$spec" | gzip -1 >"$initrd"
	local running=0 timeout_s=${KLP_BOOT_TIMEOUT:-60} q=${KLP_QEMU:-qemu-system-x86_64} par=${KLP_PARALLEL:-$(nproc)}
	note "agree: booting ${#cases[@]} cases, $par at a time"
	for c in "${cases[@]}"; do
		(
			# a boot that never reaches /init is the emulator's failure, not the kernel's verdict
			# (seen under load: "IO-APIC + timer doesn't work!"): boot it once more
			for try in 1 2; do
				rc=0
				boot_timeout=$timeout_s KLP_QEMU=$q qemu_boot_x86 "$tree/arch/x86/boot/bzImage" "$initrd" \
					"klptest=agree-$c" "$logs/agree-$c.log" || rc=$?
				if grep -q '^KLPT begin' "$logs/agree-$c.log"; then break; fi
				echo "agree: $c: boot $try did not reach /init: $(grep -m1 -E 'panic|Panic' "$logs/agree-$c.log" | tr -d '\r')" >&2
			done
			echo "$rc" >"$aw/cases/$c.rc"
		) &
		running=$((running + 1))
		if [ "$running" -ge "$par" ]; then
			wait -n || true
			running=$((running - 1))
		fi
	done
	wait

	# 6. the captured /proc/kallsyms (+ /proc/modules) as a target
	tr -d '\r' <"$logs/agree-kallsyms.log" | sed -n 's/^S: //p' >"$aw/kallsyms/kallsyms"
	tr -d '\r' <"$logs/agree-kallsyms.log" | sed -n 's/^M: //p' >"$aw/kallsyms/modules"
	if [ ! -s "$aw/kallsyms/kallsyms" ]; then
		bad agree-kallsyms "no /proc/kallsyms lines in $logs/agree-kallsyms.log"
		return
	fi
	ok agree-kallsyms "$(wc -l <"$aw/kallsyms/kallsyms") lines captured, $(grep -c . "$aw/kallsyms/modules") module(s)"
	# zeroed addresses (kptr_restrict) must give the same verdicts
	mkdir -p "$aw/kallsyms0"
	sed 's/^[0-9a-f]*/0000000000000000/' "$aw/kallsyms/kallsyms" >"$aw/kallsyms0/kallsyms"

	# a debug-symbol package as Debian lays it out (7.2 style: no modules.order), made of the tree
	local rel dbg
	rel=$(cat "$tree/include/config/kernel.release")
	dbg=$aw/debugpkg/usr/lib/debug/lib/modules/$rel
	mkdir -p "$dbg/kernel/extra"
	ln -s "$tree/vmlinux" "$dbg/vmlinux"
	ln -s "$mods/test_klp_convert_mod.ko" "$dbg/kernel/extra/test_klp_convert_mod.ko"
	ln -s "$mods/test-klp-dash-mod.ko" "$dbg/kernel/extra/test-klp-dash-mod.ko"

	# 7. the verdicts of check --target, one JSON per target
	local targets=(tree:"$agree_tree" ext:"$agree_klpx" debugpkg:"$aw/debugpkg" kallsyms:"$aw/kallsyms" kallsyms0:"$aw/kallsyms0") t name
	for t in "${targets[@]}"; do
		name=${t%%:*}
		"${conv[@]}" check --target "${t#*:}" --json "$aw"/lp/*.ko >"$aw/pred/$name.json" 2>"$aw/pred/$name.err" || true
	done

	# 8. the comparison
	local line
	while IFS= read -r line; do
		case $line in
		ok\ *) ok "${line#ok }" ;;
		FAIL\ *)
			line=${line#FAIL }
			bad "${line%%: *}" "${line#*: }"
			;;
		agreement:*) echo "$line" ;;
		*) note "$line" ;;
		esac
	done < <(node "$here/agree/compare.mjs" "$aw" "$logs" "${late[*]}" tree ext debugpkg kallsyms kallsyms0 2>&1)
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	repo=$(cd "$here/../.." && pwd)
	work=${KLP_WORK:-$here/work}
	logs=${KLP_LOGS:-$here/logs}
	# shellcheck disable=SC2034
	t_start=$(date +%s) pass=0 fail=0
	# shellcheck source=lib.sh
	. "$here/lib.sh"
	mkdir -p "$work" "$logs"
	setup_cli "$repo"
	tree=${1:-${KLP_KERNEL_TREE:-}}
	[ -n "$tree" ] || tree=$(bash "$here/build-kernel.sh" | tail -n1)
	tree=$(cd "$tree" && pwd)
	mods=$work/modules
	build_test_modules "$tree" "$mods" "$repo" "$work/modules-build.log" || { bad modules-build "make M=$mods failed"; summary; exit 1; }
	# the tree plus the target modules, and its extended map
	agree_tree=$work/agree-objtree
	rm -rf "$agree_tree"
	mkdir -p "$agree_tree"
	for e in "$tree"/* "$tree"/.config; do
		case ${e##*/} in modules.order) continue ;; esac
		ln -s "$e" "$agree_tree/${e##*/}"
	done
	ln -s "$mods" "$agree_tree/klptest"
	{ cat "$tree/modules.order"; echo klptest/test_klp_convert_mod.o; echo klptest/test-klp-dash-mod.o; } >"$agree_tree/modules.order"
	agree_klpx=$work/agree-symbols.klpx
	cli agree-symbols symbols --objtree "$agree_tree" --format ext -o "$agree_klpx" || { bad agree-symbols "$(first_line "$work/cli/agree-symbols.out")"; summary; exit 1; }
	agree_main "$tree" "$mods" "$work" "$here" "$repo"
	summary
else
	# sourced by run.sh: its overlay tree and extended map (none with KLP_CONVERTED: symbols step skipped)
	agree_tree=$overlay
	agree_klpx=$klpx
	[ -s "$agree_klpx" ] || cli agree-symbols symbols --objtree "$agree_tree" --format ext -o "$agree_klpx" || true
	agree_main "$tree" "$mods" "$work" "$here" "$repo"
fi
