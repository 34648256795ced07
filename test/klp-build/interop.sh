#!/bin/bash
# klp-convert against a real klp-build run (issue 11; called by test/klp-build/run.sh after each
# klp-build, or by hand):
#
#   test/klp-build/interop.sh KLP_TMP_DIR FINISHED.ko KERNEL_TREE [loads|refused]
#
# KLP_TMP_DIR   klp-build's kept tmp dir (-T): 5-kmod/<name>.ko.orig is the pre-post-link module
# FINISHED.ko   klp-build's finished module (objtool klp post-link's output)
# KERNEL_TREE   the built tree klp-build ran in (check --target reads its vmlinux and modules)
# loads|refused what check --target must predict for both modules (default: loads; "refused" for
#               a patch klp-build gets wrong, e.g. patches/klpb_sympos_global.patch)
#
# It converts <name>.ko.orig, after removing .BTF as klp-build's build_patch_module does before
# post-link (so both modules start from the same bytes), to KLP_TMP_DIR/klp-convert/<name>.ko
# (the harness boots that file when it exists); compares its klp relocations and klp symbols with
# the finished module's as multisets (our dump and readelf); runs check and dump on the finished
# module and check --target on both. One "ok ..." / "FAIL ..." line per check; exit 0 only if all
# are ok, 1 if one failed, 64 on bad arguments.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
kc=(node "$repo/dist/klp-convert.cjs")

usage() {
	echo "usage: interop.sh KLP_TMP_DIR FINISHED.ko KERNEL_TREE [loads|refused]" >&2
	exit 64
}
[ $# -ge 3 ] && [ $# -le 4 ] || usage
tmpdir=$1
finished=$2
tree=$3
expect=${4:-loads}
case $expect in loads | refused) ;; *) usage ;; esac
[ -d "$tmpdir/5-kmod" ] || { echo "interop.sh: $tmpdir has no 5-kmod (not a kept klp-build tmp dir)" >&2; exit 64; }
[ -f "$finished" ] || { echo "interop.sh: no finished module $finished" >&2; exit 64; }
[ -f "$tree/vmlinux" ] || { echo "interop.sh: $tree has no vmlinux" >&2; exit 64; }
[ -f "$repo/dist/klp-convert.cjs" ] && [ -f "$repo/dist/test/helpers/klp-build.js" ] || (cd "$repo" && npm run build --silent) || exit 1

name=$(basename "$finished" .ko)
orig=$tmpdir/5-kmod/$name.ko.orig
if [ ! -f "$orig" ]; then
	shopt -s nullglob
	origs=("$tmpdir"/5-kmod/*.ko.orig)
	[ ${#origs[@]} -eq 1 ] || { echo "interop.sh: no $orig and ${#origs[@]} *.ko.orig in $tmpdir/5-kmod" >&2; exit 64; }
	orig=${origs[0]}
fi
out=$tmpdir/klp-convert/$name.ko
work=$tmpdir/klp-convert/work
rm -rf "$tmpdir/klp-convert"
mkdir -p "$work"

symvers=()
[ -f "$tree/Module.symvers" ] && symvers=(--symvers "$tree/Module.symvers")
failed=0
ok() { echo "ok $*"; }
fail() {
	echo "FAIL $*"
	failed=1
}
# errors: the error lines of a klp-convert run's stderr
errors() { grep -c ': error: ' "$1" || true; }

# 1. convert the pre-post-link module, .BTF removed as klp-build does
cp -f "$orig" "$work/input.ko"
if ! objcopy --remove-section=.BTF "$work/input.ko" 2>"$work/objcopy.err"; then
	fail "objcopy --remove-section=.BTF $orig: $(head -c 300 "$work/objcopy.err")"
fi
if "${kc[@]}" convert --json "${symvers[@]}" "$work/input.ko" -o "$out" >"$work/convert.json" 2>"$work/convert.err" &&
	grep -q '"form": "klp-build"' "$work/convert.json"; then
	ok "convert ${orig#"$tmpdir"/} -> klp-convert/$name.ko ($(grep -c '"klpName"' "$work/convert.json") klp symbols)"
else
	fail "convert ${orig#"$tmpdir"/}: $(head -c 600 "$work/convert.err")"
	rm -f "$out"
fi

# 2. our klp relocations and symbols against the finished module's, and dump against readelf
if [ -f "$out" ]; then
	node "$here/compare.mjs" "$out" "$finished" | tee "$work/compare.txt"
	grep -q '^FAIL' "$work/compare.txt" && failed=1
	[ -s "$work/compare.txt" ] || fail "compare.mjs printed nothing"
fi

# 3. check and dump on the finished module (and check on ours)
for m in "$finished" ${out:+$([ -f "$out" ] && echo "$out")}; do
	label=$([ "$m" = "$finished" ] && echo "klp-build's $name.ko" || echo "klp-convert/$name.ko")
	if "${kc[@]}" check "${symvers[@]}" "$m" >"$work/check.out" 2>"$work/check.err" && [ "$(errors "$work/check.err")" = 0 ]; then
		ok "check $label ($(head -n1 "$work/check.out"))"
	else
		fail "check $label: $(grep ': error: ' "$work/check.err" | head -n3 | tr '\n' ' ')"
	fi
done
if "${kc[@]}" dump "$finished" >"$work/dump.txt" 2>"$work/dump.err" && grep -q SHN_LIVEPATCH "$work/dump.txt"; then
	ok "dump klp-build's $name.ko (SHN_LIVEPATCH named: $(grep -c SHN_LIVEPATCH "$work/dump.txt") symbols)"
else
	fail "dump klp-build's $name.ko: $(head -c 300 "$work/dump.err")"
fi

# 4. check --target on both: the verdict expected, and the same for both
verdicts=()
for m in "$finished" ${out:+$([ -f "$out" ] && echo "$out")}; do
	label=$([ "$m" = "$finished" ] && echo "klp-build's $name.ko" || echo "klp-convert/$name.ko")
	"${kc[@]}" check --target "$tree" "$m" >"$work/target.out" 2>"$work/target.err"
	st=$?
	verdict=$(grep -m1 ' on ' "$work/target.out" | sed 's/^[^:]*: //')
	verdicts+=("$verdict")
	if { [ "$expect" = loads ] && [ $st -eq 0 ]; } || { [ "$expect" = refused ] && [ $st -eq 1 ]; }; then
		ok "check --target $label: $verdict"
	else
		fail "check --target $label (exit $st, expected $expect): $verdict $(grep -m2 ': error: ' "$work/target.err" | tr '\n' ' ')"
	fi
done
if [ ${#verdicts[@]} -eq 2 ]; then
	if [ "${verdicts[0]}" = "${verdicts[1]}" ]; then ok "check --target: same verdict for both"; else fail "check --target: verdicts differ: '${verdicts[0]}' vs '${verdicts[1]}'"; fi
fi
exit $failed
