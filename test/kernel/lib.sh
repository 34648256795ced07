# shellcheck shell=bash
# Shared by run.sh, selftest-hand.sh and test/kernel-cross/run.sh (sourced, not run).

# build_test_modules TREE MODS REPO LOG [OVERLAY]: copy modules/ to MODS (then the files of
# OVERLAY, if given, over them: what dup-pick.mjs wrote for this kernel) and build it out of
# tree against TREE.  MODS is wiped when it was built against another tree (or another build of
# the same path): kbuild would not notice and would keep modules with the wrong vermagic or layout.
build_test_modules() {
	local tree=$1 mods=$2 repo=$3 log=$4 overlay=${5:-} here id f
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	id="$tree $(stat -c '%s %Y' "$tree/vmlinux")"
	if [ "$(cat "$mods/.klp-tree" 2>/dev/null || true)" != "$id" ]; then
		rm -rf "$mods"
	fi
	mkdir -p "$mods"
	rsync -a "$here/modules/" "$mods/"
	if [ -n "$overlay" ]; then
		for f in "$overlay"/*.h "$overlay"/*.resolve; do
			[ ! -f "$f" ] || cmp -s "$f" "$mods/${f##*/}" || cp "$f" "$mods/"
		done
	fi
	make -C "$tree" M="$mods" KLP_INCLUDE="$repo/include" KBUILD_MODPOST_WARN=1 modules >"$log" 2>&1 || return 1
	echo "$id" >"$mods/.klp-tree"
}

# --- reporting, shared by test/kernel/run.sh and test/kernel-cross/run.sh (callers set pass=0,
# fail=0 and t_start before use) --------------------------------------------------------------
skip() { echo "skip $1: $2"; }
ok() { echo "ok $1${2:+ # $2}"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
note() { echo "run.sh: $*" >&2; }
# shellcheck disable=SC2154 # t_start is set by the caller
summary() {
	note "total $(($(date +%s) - t_start)) s"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
# first_line FILE: the first non-empty line of a file, shortened, for one-line reasons.
first_line() {
	local l
	l=$(grep -m1 -iE 'error|klp-convert:' "$1" 2>/dev/null || grep -m1 -v '^[[:space:]]*$' "$1" 2>/dev/null || true)
	l=${l//$'\r'/}
	[ ${#l} -le 300 ] || l="${l:0:300}..."
	printf '%s' "${l:-no output}"
}

# setup_cli REPO: the CLI under test in the array conv (KLP_CONVERT overrides the built CLI);
# conv_missing says why it cannot run.
setup_cli() {
	conv_missing=
	if [ -n "${KLP_CONVERT:-}" ]; then
		read -r -a conv <<<"$KLP_CONVERT"
	else
		conv=(node "$1/dist/src/cli/main.js")
		[ -f "$1/dist/src/cli/main.js" ] || conv_missing="$1/dist/src/cli/main.js not found (run: npm run build)"
	fi
}
# cli NAME ARGS...: run the CLI; stdout+stderr to $work/cli/NAME.out; returns its exit status.
# shellcheck disable=SC2154 # work is set by the caller
cli() {
	local name=$1
	shift
	mkdir -p "$work/cli"
	if [ -n "$conv_missing" ]; then
		echo "$conv_missing" >"$work/cli/$name.out"
		return 127
	fi
	echo "\$ ${conv[*]} $*" >"$work/cli/$name.cmd"
	"${conv[@]}" "$@" >"$work/cli/$name.out" 2>&1
}
# Expectation lines in a .case file, checked against the serial log (\r stripped):
#   = TEXT    a line equal to TEXT        } in this order, each after the previous match
#   ~ TEXT    a line containing TEXT      }
#   / ERE     a line matching the regex   }
#   ! TEXT    no line contains TEXT (anywhere in the log)
#   @ FILE    the expectation lines of cases/FILE, inserted here
# @CMDLINE@ in TEXT stands for the guest's /proc/cmdline. Every case also expects "KLPT end" and
# no oops, BUG, WARNING, panic or call trace.
expectations() {
	local line
	while IFS= read -r line; do
		case $line in
		'@ '*) expectations "$(dirname "$1")/${line#@ }" ;;
		'= '* | '~ '* | '/ '* | '! '*) printf '%s\n' "$line" ;;
		esac
	done <"$1"
}

# --- x86_64 boots, shared by test/kernel/run.sh, agree.sh and test/klp-build/run.sh -------------
# initramfs_base BUSYBOX: the gen_init_cpio lines every test initramfs starts with: /dev/console,
# /bin/busybox (+ /bin/sh), /init = guest-init.sh, and the directories /lib/klp and /cases.
initramfs_base() {
	local d
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in /bin /proc /sys /tmp /lib /lib/klp /cases; do echo "dir $d 0755 0 0"; done
	echo "file /bin/busybox $1 0755 0 0"
	echo "slink /bin/sh busybox 0777 0 0"
	echo "file /init $(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/guest-init.sh 0755 0 0"
}
# qemu_boot_x86 BZIMAGE INITRD APPEND LOG: one TCG boot (qemu ${KLP_QEMU:-qemu-system-x86_64},
# at most ${boot_timeout:-60} s), serial console to LOG; returns qemu's status (124: timeout).
# no_timer_check: on a loaded host, TCG can miss the IO-APIC timer check at boot ("IO-APIC +
# timer doesn't work!", a panic before /init, seen on 7.2 at load average 12)
qemu_boot_x86() {
	# shellcheck disable=SC2086 # KLP_QEMU_ARGS is a list of words
	timeout "${boot_timeout:-60}" "${KLP_QEMU:-qemu-system-x86_64}" -nographic -no-reboot -m 512 -smp 1 \
		-kernel "$1" -initrd "$2" -append "console=ttyS0 panic=-1 oops=panic no_timer_check $3" \
		${KLP_QEMU_ARGS:-} </dev/null >"$4" 2>&1
}

# check_log_file CASEFILE LOG: prints the first unmet expectation of CASEFILE (expectations()
# above, plus "KLPT end" and no oops) in the serial LOG, nothing if all are met.  Lines holding
# one of the caller's benign=(...) strings (an arch's harmless boot warnings) are not read.
check_log_file() {
	local cfile=$1 log=$2 cmdline="" e kind text i cur=0 found
	local -a L
	if [ -n "${benign+set}" ] && [ "${#benign[@]}" -gt 0 ]; then
		mapfile -t L < <(tr -d '\r' <"$log" | grep -a -v -F "${benign[@]/#/-e}")
	else
		mapfile -t L < <(tr -d '\r' <"$log")
	fi
	for i in "${!L[@]}"; do
		if [[ ${L[i]} == "KLPT cmdline "* ]]; then cmdline=${L[i]#KLPT cmdline }; fi
	done
	while IFS= read -r e; do
		kind=${e:0:1}
		text=${e:2}
		text=${text//@CMDLINE@/"$cmdline"}
		if [ "$kind" = '!' ]; then
			for i in "${!L[@]}"; do
				if [[ ${L[i]} == *"$text"* ]]; then
					echo "unexpected line: ${L[i]}"
					return
				fi
			done
			continue
		fi
		found=
		for ((i = cur; i < ${#L[@]}; i++)); do
			case $kind in
			'=') [[ ${L[i]} == "$text" ]] && found=1 ;;
			'~') [[ ${L[i]} == *"$text"* ]] && found=1 ;;
			'/') [[ ${L[i]} =~ $text ]] && found=1 ;;
			esac
			if [ -n "$found" ]; then
				cur=$((i + 1))
				break
			fi
		done
		if [ -z "$found" ]; then
			for ((i = 0; i < cur; i++)); do
				case $kind in
				'=') [[ ${L[i]} == "$text" ]] && found=1 ;;
				'~') [[ ${L[i]} == *"$text"* ]] && found=1 ;;
				'/') [[ ${L[i]} =~ $text ]] && found=1 ;;
				esac
			done
			if [ -n "$found" ]; then
				echo "out of order: '$kind $text'"
			else
				echo "missing: '$kind $text'"
			fi
			return
		fi
	done < <(
		expectations "$cfile"
		printf '%s\n' '= KLPT end' '! Call Trace' '! BUG:' '! Oops' '! WARNING:' '! Kernel panic' '! KLPT no such case'
	)
}
