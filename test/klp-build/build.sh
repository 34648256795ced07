#!/bin/bash
# Runs the kernel's own klp-build (scripts/livepatch/klp-build, Linux 6.19+) on a copy of the
# 7.2 x86_64 test kernel tree, once per patch, and caches what it made.  Called by run.sh.
#
#   test/klp-build/build.sh VARIANT PATCH...     # prints the variant's cache directory last
#
# VARIANT is "plain" (the tree as test/kernel/build-kernel.sh built it) or "kbuild" (the same tree
# with this repository's kbuild/7.2/*.patch series applied, as test/kbuild/run.sh applies it).
#
# Layout, under ${KLP_KLPBUILD_CACHE:-$HOME/.cache/klp-convert/klp-build}:
#   <key>/linux                 the copied tree klp-build runs in (its klp-tmp/1-orig stays there)
#   <key>/results/<patch>-<sha>/klp-tmp        klp-build's kept tmp dir for that patch: 2-patched,
#                               3-checksum-*, 4-diff, 5-kmod (with <name>.ko.orig), the fixed
#                               patch; 1-orig is a symlink to <key>/linux/klp-tmp/1-orig
#   <key>/results/<patch>-<sha>/<name>.ko      klp-build's finished module (-o)
#   <key>/results/<patch>-<sha>/klp-build.log  its output
#   <key>/last-run              "<patch> <result dir>" for each patch of the last run
#   <key>/boot/bzImage, vmlinux                the original kernel rebuilt with klp-build's step-1
#                               flags after the last patch (what run.sh boots; its symbols are
#                               checked equal to klp-tmp/1-orig/vmlinux)
#   ccache/                     the compiler cache (the kbuild variant's step 1 is then cheap)
# <key> = <kernel key>-<variant>-<sha256 of klp-build, init.c, this script's recipe and, for
# "kbuild", the series; 12 hex>.  A patch's result is keyed by its own sha256 (and, for "kbuild",
# that of dist/src: the series runs our CLI in every make), so changing one patch reruns only that
# patch (klp-build -S 2 over the kept step-1 output).
#
# Environment:
#   KLP_KERNEL_TREE     the built 7.2 tree to copy (default: KLP_KERNEL=7.2 build-kernel.sh's)
#   KLP_KLPBUILD_CACHE  cache directory (above)
#   KLP_JOBS            make -j (default: number of CPUs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KLP_KLPBUILD_CACHE:-$HOME/.cache/klp-convert/klp-build}
jobs=${KLP_JOBS:-$(nproc)}
# bump when the way the tree is prepared, built or rebuilt below changes
recipe=3

log() { echo "klp-build-harness: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[ $# -ge 2 ] || die "usage: build.sh plain|kbuild PATCH..."
variant=$1
shift
case $variant in plain | kbuild) ;; *) die "variant $variant: want plain or kbuild" ;; esac
patches=()
for p in "$@"; do
	[ -f "$p" ] || die "no patch $p"
	patches+=("$(realpath "$p")")
done

# --- 1. packages (klp-build's do_init and validate_config: recountdiff, gawk, objtool with xxhash)
need=()
for p in gawk patchutils libxxhash-dev ccache pkg-config; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})"
	log "installing missing packages: ${need[*]}"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
fi
((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) || die "klp-build needs bash >= 4.4"

# --- 2. the source tree and the key ----------------------------------------------------------
src=${KLP_KERNEL_TREE:-}
if [ -z "$src" ]; then
	src=$(KLP_KERNEL=7.2 KLP_ARCH=x86_64 bash "$repo/test/kernel/build-kernel.sh" | tail -n1) || die "build-kernel.sh failed"
fi
src=$(cd "$src" && pwd -P)
[ -x "$src/scripts/livepatch/klp-build" ] || die "$src has no scripts/livepatch/klp-build (Linux 6.19 or later needed)"
grep -qx CONFIG_KLP_BUILD=y "$src/.config" || die "$src/.config lacks CONFIG_KLP_BUILD=y"
kkey=$(basename "$(dirname "$src")")
series=()
if [ "$variant" = kbuild ]; then
	for p in "$repo"/kbuild/7.2/*.patch; do series+=("$p"); done
	[ ${#series[@]} -gt 0 ] || die "no kbuild/7.2/*.patch"
fi
sum=$({
	echo "recipe $recipe"
	cat "$src/scripts/livepatch/klp-build" "$src/scripts/livepatch/init.c"
	[ ${#series[@]} -eq 0 ] || cat "${series[@]}"
} | sha256sum | cut -c1-12)
key=$kkey-$variant-$sum
dir=$cache/$key
tree=$dir/linux
mkdir -p "$dir"
exec 9>"$dir/lock"
if ! flock -n 9; then
	log "another run holds $dir/lock; waiting for it"
	flock 9
fi

# the kbuild series runs $(KLP_CONVERT) in every make of the tree (symbols.klp, modfinal): this
# repository's CLI, as test/kbuild/run.sh uses it; a result depends on its build too
cli_sum=
if [ "$variant" = kbuild ]; then
	[ -f "$repo/dist/src/cli/main.js" ] || die "$repo/dist/src/cli/main.js not found (run: npm run build)"
	export KLP_CONVERT="node $repo/dist/src/cli/main.js"
	cli_sum=-$(find "$repo/dist/src" -name '*.js' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-8)
fi

# the compiler cache: klp-build's step 1 is a full rebuild (make clean), shared by both variants
export PATH=/usr/lib/ccache:$PATH
export CCACHE_DIR=$cache/ccache CCACHE_BASEDIR=$tree CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}

# --- 3. the copy -------------------------------------------------------------------------------
if [ ! -f "$dir/tree.stamp" ]; then
	log "copying $src to $tree"
	rm -rf "$tree" "$dir/results" "$dir/boot"
	cp -a "$src" "$tree"
	if [ "$variant" = kbuild ]; then
		for p in "${series[@]}"; do
			(cd "$tree" && git apply -p1 "$p") >&2 || die "kbuild series: git apply ${p##*/} failed in $tree"
		done
	fi
	# objtool was built before libxxhash-dev was there: rebuild it with klp support (klp-build's
	# validate_config refuses an objtool whose "klp" subcommand says "not implemented")
	make -C "$tree" -s objtool_clean >&2
	make -C "$tree" -s -j"$jobs" tools/objtool >&2
	if "$tree/tools/objtool/objtool" klp 2>&1 | grep -q "not implemented"; then
		die "objtool in $tree built without klp support (is libxxhash-dev >= 0.8 installed?)"
	fi
	date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/tree.stamp"
fi

# write_artifacts: <cache>/ARTIFACTS.md, the index of every kept result (for the converter's tests)
write_artifacts() {
	local d r n
	{
		echo "# klp-build artifacts (written by test/klp-build/build.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ))"
		echo
		echo "Each result: klp-build's kept tmp dir (-T), its pre-post-link module 5-kmod/<name>.ko.orig,"
		echo "the post-link 5-kmod/<name>.ko and the finished -o copy <name>.ko, and the tree it ran in."
		echo "The tree holds klp-tmp/1-orig (the step-1 objects and vmlinux) and, under <key>/boot, the"
		echo "bzImage and vmlinux run.sh boots (the original sources built with step 1's flags)."
		[ ! -f "$cache/FINDINGS.md" ] || echo "What the harness found so far: $cache/FINDINGS.md."
		for d in "$cache"/*/; do
			[ -d "$d/results" ] || continue
			d=${d%/}
			echo
			echo "## ${d##*/}"
			echo
			echo "- tree: \`$d/linux\`"
			[ ! -f "$d/boot/bzImage" ] || echo "- boot kernel: \`$d/boot/bzImage\`, \`$d/boot/vmlinux\`"
			for r in "$d"/results/*/; do
				r=${r%/}
				[ -f "$r/done" ] || continue
				n=${r##*/}
				n=${n%-*}
				echo "- $n ($(cat "$r/done")):"
				echo "  - klp-tmp: \`$r/klp-tmp\`"
				echo "  - pre-post-link: \`$r/klp-tmp/5-kmod/$n.ko.orig\`"
				echo "  - post-link: \`$r/klp-tmp/5-kmod/$n.ko\` (= \`$r/$n.ko\`)"
			done
		done
	} >"$cache/ARTIFACTS.md.tmp"
	mv -f "$cache/ARTIFACTS.md.tmp" "$cache/ARTIFACTS.md"
}

# --- 4. klp-build, once per patch ------------------------------------------------------------------
mkdir -p "$dir/results"
changed=
: >"$dir/last-run.tmp" # "<patch name> <result dir>" of this run, for run.sh
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	res=$dir/results/$name-$(sha256sum "$p" | cut -c1-12)$cli_sum
	echo "$name $res" >>"$dir/last-run.tmp"
	if [ -f "$res/done" ]; then
		log "reusing $res"
		continue
	fi
	rm -rf "$res"
	mkdir -p "$res"
	args=(-T -j"$jobs" -o "$res/$name.ko")
	if [ -f "$tree/klp-tmp/1-orig/.complete" ]; then
		args+=(-S 2) # step 1 (make clean + full build) already done for this tree
	fi
	log "klp-build ${args[*]} ${p##*/} in $tree (log: $res/klp-build.log)"
	t0=$(date +%s)
	if ! (cd "$tree" && ./scripts/livepatch/klp-build "${args[@]}" "$p") >"$res/klp-build.log" 2>&1; then
		tail -n 30 "$res/klp-build.log" >&2
		die "klp-build failed on ${p##*/} (log: $res/klp-build.log)"
	fi
	mkdir -p "$res/klp-tmp"
	for d in "$tree"/klp-tmp/*; do
		case ${d##*/} in 1-orig | stash | tmp | timestamp) ;; *) cp -a "$d" "$res/klp-tmp/" ;; esac
	done
	ln -s "$tree/klp-tmp/1-orig" "$res/klp-tmp/1-orig"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(($(date +%s) - t0)) s, klp-build ${args[*]}" >"$res/done"
	changed=1
	write_artifacts
done

# --- 5. the kernel to boot: the original sources, built with step 1's flags ------------------------
# After klp-build the tree holds the last patched build (sources reverted, objects not).  Rebuild
# what the revert touched, with klp-build's build_kernel flags, and add the bzImage it never makes.
if [ -n "$changed" ] || [ ! -f "$dir/boot/bzImage" ]; then
	log "rebuilding the original kernel with klp-build's step-1 flags"
	rm -rf "$dir/boot"
	(cd "$tree" && make -s -j"$jobs" KBUILD_MODPOST_WARN=1 KLP_SYMIDS=1 \
		KCFLAGS="-ffunction-sections -fdata-sections" bzImage vmlinux modules) >"$dir/rebuild.log" 2>&1 ||
		{
			tail -n 30 "$dir/rebuild.log" >&2
			die "rebuilding the original kernel failed (log: $dir/rebuild.log)"
		}
	mkdir -p "$dir/boot"
	cp "$tree/arch/x86/boot/bzImage" "$tree/vmlinux" "$dir/boot/"
fi
mv -f "$dir/last-run.tmp" "$dir/last-run"
write_artifacts
echo "$dir"
