#!/bin/bash
# Checks the kbuild integration (the patch series and kbuild/klp-convert.mk) on a real tree:
# copies the built kernel tree of test/kernel/build-kernel.sh, applies the series, builds, checks
# the maps, the in-tree and M= livepatch conversions, boots them in qemu through
# test/kernel/run.sh, checks klp-convert.mk against the unpatched tree, then `make mrproper`.
# Run through `npm run test:kbuild`. Prints one line per check and "N passed, N failed".
#
# Environment:
#   KLP_KERNEL        kernel line: 6.12 (default; series kbuild/*.patch) or 7.2 (kbuild/7.2/*.patch)
#   KLP_KERNEL_TREE   built, unpatched kernel tree to copy (default: build-kernel.sh's)
#   KLP_KBUILD_WORK   scratch directory (default ~/.cache/klp-convert/kbuild-work/test)
#   KLP_BOOT_CASES    test/kernel cases to boot (default below)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${KLP_SHARED:-$repo/../shared}
# a clone outside the workplace finds the shared references at their usual place
[ -d "$shared" ] || [ -n "${KLP_SHARED:-}" ] || shared=/work/shared
export KLP_KERNEL=${KLP_KERNEL:-6.12}
case $KLP_KERNEL in
6.12) series=$repo/kbuild unconverted=tmp.ko ;;
7.2) series=$repo/kbuild/7.2 unconverted=ko.unconverted ;; # not *.ko: klp-build takes those for modules
*) echo "kbuild: KLP_KERNEL=$KLP_KERNEL: the kbuild series exists for 6.12 and 7.2" >&2; exit 64 ;;
esac
sfx=
[ "$KLP_KERNEL" = 6.12 ] || sfx=-$KLP_KERNEL
work=${KLP_KBUILD_WORK:-$HOME/.cache/klp-convert/kbuild-work/test$sfx}
conv="node $repo/dist/src/cli/main.js"
jobs=2
cases=${KLP_BOOT_CASES:-"sample lp1 lp1-late lp1-reload lp2 lp2-late lp2-reload lp3 dup data data-late keys keys-tp_printk sections dash dash-late unconverted"}
t0=$(date +%s)
pass=0
fail=0
ok() { echo "ok $1${2:+ # $2}"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
note() { echo "kbuild: $*" >&2; }
finish() {
	note "total $(($(date +%s) - t0)) s"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
check() { # NAME CMD...: ok when CMD succeeds
	local n=$1
	shift
	if "$@" >"$work/check.out" 2>&1; then ok "$n"; else bad "$n" "$(head -c 400 "$work/check.out" | tr '\n' ' ')"; fi
}
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

[ -f "$repo/dist/src/cli/main.js" ] || { bad setup "dist/ missing: run npm run build"; finish; }
mkdir -p "$work"
src=${KLP_KERNEL_TREE:-}
if [ -z "$src" ]; then src=$(bash "$repo/test/kernel/build-kernel.sh" | tail -n1) || { bad setup "build-kernel.sh failed"; finish; }; fi
src=$(cd "$src" && pwd -P)
note "source tree $src, scratch $work"

# --- 1. copy (cp -a: gcc rewrites outputs in place, hardlinks would change the source tree) -----
tree=$work/tree
rm -rf "$tree"
cp -a "$src" "$tree" || { bad copy "cp -a $src failed"; finish; }
ok copy
# unpatched reference timing: the first run after the copy redoes path-dependent steps
make -C "$tree" -j$jobs modules >/dev/null 2>&1
t_unpatched=$(secs make -C "$tree" -j$jobs modules)

# --- 2. apply: strictly (git apply = git am's check) and with patch -p1 on pristine files -------
pristine=$work/pristine
rm -rf "$pristine"
mkdir -p "$pristine"
for p in "$series"/*.patch; do
	for f in $(sed -n 's|^+++ b/||p' "$p"); do
		[ -e "$tree/$f" ] && mkdir -p "$pristine/$(dirname "$f")" && cp -n "$tree/$f" "$pristine/$f"
	done
done
ap_ok=1
for p in "$series"/*.patch; do
	(cd "$pristine" && patch -p1 -s --no-backup-if-mismatch <"$p") >"$work/patch.out" 2>&1 || { ap_ok=; bad "patch-p1 ${p##*/}" "$(cat "$work/patch.out")"; }
	if (cd "$tree" && git apply --check -p1 "$p" && git apply -p1 "$p") >"$work/apply.out" 2>&1; then
		ok "git-apply ${p##*/}"
	else
		bad "git-apply ${p##*/}" "$(tr '\n' ' ' <"$work/apply.out")"
		finish
	fi
done
[ -n "$ap_ok" ] && ok "patch-p1 (all)"
grep -qx 'CONFIG_LIVEPATCH=y' "$tree/.config" && grep -qx 'CONFIG_SAMPLE_LIVEPATCH=m' "$tree/.config" || bad config "CONFIG_LIVEPATCH=y / CONFIG_SAMPLE_LIVEPATCH=m missing"

# --- 3. build ------------------------------------------------------------------------------------
s=$(date +%s)
if make -C "$tree" -j$jobs KLP_CONVERT="$conv" >"$work/build.log" 2>&1; then
	ok build "$(($(date +%s) - s)) s"
else
	bad build "make failed: $(grep -m3 -iE 'error' "$work/build.log" | tr '\n' ' ')"
	finish
fi
cd "$tree" || finish
want_lp=$(grep -l 'MODULE_INFO(livepatch' samples/livepatch/*.c | sed 's/\.c$/.o/' | LC_ALL=C sort)
check modules.livepatch diff <(LC_ALL=C sort modules.livepatch) <(echo "$want_lp")
check klp-line-symbols grep -qx '  KLP     symbols.klp' "$work/build.log"
for o in $want_lp; do
	check "klp-line ${o%.o}.ko" grep -qx "  KLP     ${o%.o}.ko" "$work/build.log"
	check "check ${o%.o}.ko" $conv check --symbols symbols.klpx "${o%.o}.ko"
done
$conv symbols --objtree . -o "$work/cli.klp" >/dev/null 2>&1
check symbols.klp=cli cmp symbols.klp "$work/cli.klp"
$conv symbols --objtree . --format ext -o "$work/cli.klpx" >/dev/null 2>&1
check symbols.klpx=cli cmp symbols.klpx "$work/cli.klpx"
bash "$shared/tools/symbols-klp-baseline.sh" . "$work/baseline.klp" >/dev/null 2>&1
check symbols.klp=baseline cmp symbols.klp "$work/baseline.klp"
check no-livepatch-in-map bash -c "! grep -qx '\*livepatch-sample' symbols.klp"

# --- 4. nothing to do: nothing rewritten; V=1 shows the klp-convert command ----------------------
before=$(stat -c %Y symbols.klp symbols.klpx samples/livepatch/livepatch-sample.ko)
t_patched=$(secs make -j$jobs KLP_CONVERT="$conv" modules)
make -j$jobs KLP_CONVERT="$conv" modules >"$work/rebuild.log" 2>&1
check no-change-no-klp bash -c "! grep -q KLP '$work/rebuild.log' && [ '$before' = \"\$(stat -c %Y symbols.klp symbols.klpx samples/livepatch/livepatch-sample.ko)\" ]"
touch samples/livepatch/livepatch-sample.$unconverted
make -j$jobs V=1 KLP_CONVERT="$conv" modules >"$work/v1.log" 2>&1
check v1-shows-command grep -qF "$conv symbols.klpx samples/livepatch/livepatch-sample.$unconverted samples/livepatch/livepatch-sample.ko" "$work/v1.log"
t_map01=$(secs $conv symbols --objtree . -o "$work/t.klp")
t_mapx=$(secs $conv symbols --objtree . --format ext -o "$work/t.klpx")
t_conv=$(secs $conv symbols.klpx samples/livepatch/livepatch-sample.$unconverted "$work/t.ko")
note "no-change 'make -j$jobs modules': unpatched ${t_unpatched}s, patched ${t_patched}s; map 0.1 ${t_map01}s, ext ${t_mapx}s, one conversion ${t_conv}s"

# --- 5. external modules (make M=): converted by the build, against the tree map + M= modules ----
ext=$work/ext
rm -rf "$ext"
rsync -a "$repo/test/kernel/modules/" "$ext/"
# lp3 and dup are placed by their <module>.resolve rules; wrongpos is meant to fail (tested below)
sed -i -e '/test_klp_convert_wrongpos.o/d' "$ext/Kbuild"
lps="test_klp_convert1 test_klp_convert2 test_klp_convert3 test_klp_convert_dup test_klp_convert_data test_klp_convert_keys test_klp_convert_sections test_klp_convert_dash"
# the dup livepatch's __func__ copies are chosen for this kernel (test/kernel/dup-pick.mjs, from the
# map the build wrote), as test/kernel/run.sh does
dup=$work/dup
rm -rf "$dup"
mkdir -p "$dup"
if node "$repo/test/kernel/dup-pick.mjs" symbols.klpx "$tree" "$dup" >"$dup/pick.out" 2>&1; then
	ok dup-pick "$(cat "$dup/pick.out")"
	cp "$dup"/*.h "$dup"/*.resolve "$ext/"
else
	bad dup-pick "$(head -1 "$dup/pick.out")"
fi
if make -C "$tree" M="$ext" KLP_INCLUDE="$repo/include" KLP_CONVERT="$conv" modules >"$work/ext.log" 2>&1; then
	ok extmod-build "without KBUILD_MODPOST_WARN"
else
	bad extmod-build "$(grep -m3 -iE 'error|undefined' "$work/ext.log" | tr '\n' ' ')"
fi
check extmod-modules.livepatch-in-M test -s "$ext/modules.livepatch"
check extmod-tree-list-untouched diff <(LC_ALL=C sort modules.livepatch) <(echo "$want_lp")
for lp in $lps; do
	# 6.12 prints the M= path; 6.13+ builds in the M= directory and prints paths relative to it
	check "extmod-klp-line $lp" grep -qxE "  KLP     ($ext/)?$lp.ko" "$work/ext.log"
	check "extmod-check $lp" $conv check --symbols "$ext/.tmp_symbols.klpx" "$ext/$lp.ko"
done

# modpost still fails ordinary modules on undefined symbols; klp-convert fails bad livepatches
neg=$work/neg
rm -rf "$neg"
mkdir -p "$neg/plain" "$neg/lp"
cat >"$neg/plain/plain.c" <<'C'
#include <linux/module.h>
extern int klp_kbuild_no_such_symbol;
static int __init plain_init(void) { return klp_kbuild_no_such_symbol; }
module_init(plain_init);
MODULE_LICENSE("GPL");
C
echo 'obj-m += plain.o' >"$neg/plain/Kbuild"
sed -e 's/plain/badlp/g' -e 's/^MODULE_LICENSE.*/&\nMODULE_INFO(livepatch, "Y");/' "$neg/plain/plain.c" >"$neg/lp/badlp.c"
echo 'obj-m += badlp.o' >"$neg/lp/Kbuild"
make -C "$tree" M="$neg/plain" KLP_CONVERT="$conv" modules >"$work/neg-plain.log" 2>&1
check modpost-still-checks-others grep -q '"klp_kbuild_no_such_symbol" \[.*plain.ko\] undefined!' "$work/neg-plain.log"
if make -C "$tree" M="$neg/lp" KLP_CONVERT="$conv" modules >"$work/neg-lp.log" 2>&1; then
	bad unresolvable-livepatch-fails "make succeeded"
elif grep -q 'undefined!' "$work/neg-lp.log" || [ -f "$neg/lp/badlp.ko" ]; then
	bad unresolvable-livepatch-fails "modpost reported it or badlp.ko was written"
else
	ok unresolvable-livepatch-fails "$(grep -m1 'klp_kbuild_no_such_symbol' "$work/neg-lp.log" | cut -c1-160)"
fi

# --- 6. boots: test/kernel/run.sh on the patched tree with the build-converted livepatches ----
KLP_KERNEL_TREE=$tree KLP_CONVERTED=$ext KLP_WORK=$work/harness KLP_CASES=$cases \
	KLP_CONVERT="$here/harness-convert.sh" bash "$repo/test/kernel/run.sh" >"$work/boot.out" 2>"$work/boot.err"
while read -r line; do
	case $line in
	ok\ *) set -- $line; case " $cases " in *" $2 "*) ok "boot $2" ;; esac ;;
	FAIL\ *) bad "boot ${line#FAIL }" "" ;;
	esac
done <"$work/boot.out"

# --- 7. klp-convert.mk: out-of-tree livepatches against the UNPATCHED tree --------------------
mk=$work/mk
rm -rf "$mk"
rsync -a "$repo/test/kernel/modules/" "$mk/"
sed -i '/test_klp_convert_wrongpos.o/d' "$mk/Kbuild"
mk_cases="lp1 lp2 lp3 dup"
cp "$dup"/*.h "$dup"/*.resolve "$mk/" 2>/dev/null || true
printf 'KLP_INCLUDE := %s\nexport KLP_INCLUDE\ninclude %s/kbuild/klp-convert.mk\n' "$repo/include" "$repo" >"$mk/Makefile"
if make -C "$mk" KDIR="$src" KLP_CONVERT="$conv" >"$work/mk.log" 2>&1; then ok mk-build; else bad mk-build "$(grep -m3 -iE 'error|klp-convert' "$work/mk.log" | tr '\n' ' ')"; fi
for lp in $lps; do
	check "mk-check $lp" $conv check --symbols "$mk/.klp/symbols.klpx" "$mk/$lp.ko"
done
make -C "$mk" KDIR="$src" KLP_CONVERT="$conv" >"$work/mk2.log" 2>&1
check mk-second-run-no-klp bash -c "! grep -q '  KLP' '$work/mk2.log'"
KLP_KERNEL_TREE=$src KLP_CONVERTED=$mk KLP_WORK=$work/harness-mk KLP_CASES="$mk_cases" \
	bash "$repo/test/kernel/run.sh" >"$work/boot-mk.out" 2>"$work/boot-mk.err"
while read -r line; do
	case $line in
	ok\ *) set -- $line; case " lp1 lp2 lp3 dup " in *" $2 "*) ok "mk-boot $2" ;; esac ;;
	FAIL\ *) bad "mk-boot ${line#FAIL }" "" ;;
	esac
done <"$work/boot-mk.out"

# --- 8. mrproper removes the maps (the copy is thrown away anyway) ------------------------------
cd "$tree" && make mrproper >"$work/mrproper.log" 2>&1
check mrproper-removes-maps bash -c "[ ! -e '$tree/symbols.klp' ] && [ ! -e '$tree/symbols.klpx' ] && [ ! -e '$tree/modules.livepatch' ]"
finish
