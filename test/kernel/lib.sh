# shellcheck shell=bash
# Shared by run.sh and selftest-hand.sh (sourced, not run).

# build_test_modules TREE MODS REPO LOG: copy modules/ to MODS and build it out of tree against
# TREE.  MODS is wiped when it was built against another tree (or another build of the same
# path): kbuild would not notice and would keep modules with the wrong vermagic or layout.
build_test_modules() {
	local tree=$1 mods=$2 repo=$3 log=$4 here id
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	id="$tree $(stat -c '%s %Y' "$tree/vmlinux")"
	if [ "$(cat "$mods/.klp-tree" 2>/dev/null || true)" != "$id" ]; then
		rm -rf "$mods"
	fi
	mkdir -p "$mods"
	rsync -a "$here/modules/" "$mods/"
	make -C "$tree" M="$mods" KLP_INCLUDE="$repo/include" KBUILD_MODPOST_WARN=1 modules >"$log" 2>&1 || return 1
	echo "$id" >"$mods/.klp-tree"
}
