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
