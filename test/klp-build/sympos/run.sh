#!/bin/bash
# klp-build's position for a global symbol (issue 11, item 4), decided by check --target and by
# the 7.2 kernel in qemu:
#
#   bash test/klp-build/sympos/run.sh          # KLP_KERNEL_TREE: the built 7.2 tree (default: build-kernel.sh's)
#
# Builds lp.c twice against the tree as klp-build's pre-post-link module would be (init.c is the
# tree's scripts/livepatch/init.c): with `.klp.sym.vmlinux.pt_regs_offset,0`, the position
# klp-build's klp_find_sympos gives every global, and with `,1`, the position the kernel counts.
# Each is finished by klp-convert and (when a klp-capable objtool is found: $KLP_OBJTOOL, or the
# klp-build harness tree's) by objtool klp post-link; check --target on the tree must predict
# "insmod fails" for ,0 and "loads and binds" for ,1; then test/kernel/run.sh boots all of them
# (cases klpb_pos*.case). One ok/FAIL line per check.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
tree=${KLP_KERNEL_TREE:-}
[ -n "$tree" ] || tree=$(KLP_KERNEL=7.2 bash "$repo/test/kernel/build-kernel.sh" | tail -n1) || exit 1
tree=$(cd "$tree" && pwd)
work=${KLP_WORK:-$here/work}
out=$work/out
rm -rf "$work"
mkdir -p "$out"
kc=(node "$repo/dist/klp-convert.cjs")
[ -f "$repo/dist/klp-convert.cjs" ] || (cd "$repo" && npm run build --silent) || exit 1
objtool=${KLP_OBJTOOL:-}
if [ -z "$objtool" ]; then
	for c in "$tree/tools/objtool/objtool" "$HOME"/.cache/klp-convert/klp-build/*/linux/tools/objtool/objtool; do
		if [ -x "$c" ] && "$c" klp 2>&1 | grep -q post-link && ! "$c" klp 2>&1 | grep -q "not implemented"; then objtool=$c; break; fi
	done
fi
failed=0
ok() { echo "ok $*"; }
fail() { echo "FAIL $*"; failed=1; }
for p in 0 1; do
	m=klpb_pos$p
	d=$work/$m
	mkdir -p "$d"
	cp "$here/lp.c" "$d/lp.c"
	cp "$tree/scripts/livepatch/init.c" "$d/init.c"
	printf 'obj-m := %s.o\n%s-y := init.o lp.o\nccflags-y := -DKLPB_POS=%s\n' "$m" "$m" "$p" >"$d/Kbuild"
	if ! make -s -C "$tree" M="$d" KBUILD_MODPOST_WARN=1 modules >"$d/build.log" 2>&1; then
		fail "build $m: $(tail -n 5 "$d/build.log" | tr '\n' ' ')"
		continue
	fi
	if "${kc[@]}" convert --symvers "$tree/Module.symvers" "$d/$m.ko" -o "$out/$m.ko" 2>"$d/convert.err"; then ok "convert $m"; else fail "convert $m: $(cat "$d/convert.err")"; fi
	mods=("$out/$m.ko")
	if [ -n "$objtool" ]; then
		cp "$d/$m.ko" "$out/$m-objtool.ko"
		objcopy --remove-section=.BTF "$out/$m-objtool.ko"
		if "$objtool" klp post-link "$out/$m-objtool.ko"; then ok "objtool klp post-link $m"; mods+=("$out/$m-objtool.ko"); else fail "objtool klp post-link $m"; rm -f "$out/$m-objtool.ko"; fi
	else
		echo "skip objtool klp post-link $m: no klp-capable objtool (set KLP_OBJTOOL)"
	fi
	for f in "${mods[@]}"; do
		"${kc[@]}" check -q --target "$tree" "$f" >"$d/target.out" 2>"$d/target.err"
		st=$?
		v=$(head -n1 "$d/target.out")
		if { [ $p = 0 ] && [ $st = 1 ] && grep -q "unresolvable ambiguity for symbol 'pt_regs_offset' in object '(null)'" "$d/target.out"; } ||
			{ [ $p = 1 ] && [ $st = 0 ]; }; then
			ok "check --target ${f##*/}: ${v#*: }"
		else
			fail "check --target ${f##*/} (exit $st): $v"
		fi
	done
done
cp "$here"/klpb_pos*.case "$out/"
[ -n "$objtool" ] || rm -f "$out"/*-objtool.case
KLP_KERNEL=7.2 KLP_KERNEL_TREE=$tree KLP_EXTRA_DIR=$out KLP_CASES='klpb_pos*' bash "$repo/test/kernel/run.sh" | tee "$work/boot.txt"
grep -q '^FAIL' "$work/boot.txt" && failed=1
exit $failed
