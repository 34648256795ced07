#!/bin/bash
# Build (or reuse) a small livepatch-capable Linux 6.12 kernel tree for the real-kernel tests.
#
#   test/kernel/build-kernel.sh            # prints the tree path as the last stdout line
#
# The tree lives OUTSIDE the repository, in
#   ${KLP_KERNEL_CACHE:-$HOME/.cache/klp-convert/kernel}/<key>/linux
# where <key> = <linux-source package version>-<sha256(config fragments), 12 hex digits>.
# The fragments merged on top of tinyconfig: the shared kernel-6.12-livepatch.config, then
# test/kernel/kernel-extra.config.  A stamp file marks a finished build, so a warm run takes well under a second.
# <cache>/current is a symlink to the last tree that was built or reused.
#
# Environment:
#   KLP_KERNEL_CACHE  cache directory (default $HOME/.cache/klp-convert/kernel)
#   KLP_SHARED        directory holding reference/kernel-6.12-livepatch.config
#                     (default: <repo>/../shared)
#   KLP_CONFIG        config fragment to merge (default $KLP_SHARED/reference/kernel-6.12-livepatch.config)
#   KLP_EXTRA_CONFIG  second fragment merged after it (default test/kernel/kernel-extra.config:
#                     CONFIG_JUMP_LABEL=y for the static-key test); set it empty to skip
#   KLP_JOBS          make -j value (default: number of CPUs)
#   KLP_VERBOSE=1     show the kernel build output instead of writing it to <key>/build.log only
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${KLP_SHARED:-$repo/../shared}
fragment=${KLP_CONFIG:-$shared/reference/kernel-6.12-livepatch.config}
extra=${KLP_EXTRA_CONFIG-$here/kernel-extra.config}
cache=${KLP_KERNEL_CACHE:-$HOME/.cache/klp-convert/kernel}
jobs=${KLP_JOBS:-$(nproc)}
src_tarball=/usr/src/linux-source-6.12.tar.xz

log() { echo "build-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- 1. packages -------------------------------------------------------------------------------
packages=(linux-source-6.12 qemu-system-x86 busybox-static cpio flex bison bc libelf-dev libssl-dev
	xz-utils kmod rsync gcc make)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
	fi
	log "installing missing packages: ${missing[*]}"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
fi

[ -f "$fragment" ] || die "config fragment not found: $fragment (set KLP_SHARED or KLP_CONFIG)"
fragment=$(realpath "$fragment")
fragments=("$fragment")
if [ -n "$extra" ]; then
	[ -f "$extra" ] || die "extra config fragment not found: $extra"
	fragments+=("$(realpath "$extra")")
fi
[ -f "$src_tarball" ] || die "kernel source not found: $src_tarball"

# --- 2. cache key --------------------------------------------------------------------------------
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
frag_sum=$(cat "${fragments[@]}" | sha256sum | cut -c1-12)
key="${version//[^A-Za-z0-9.+_-]/_}-$frag_sum"
dir=$cache/$key
tree=$dir/linux
stamp=$dir/build.stamp
mkdir -p "$dir"

publish() {
	ln -sfn "$key/linux" "$cache/current.tmp" && mv -Tf "$cache/current.tmp" "$cache/current"
	echo "$tree"
}

if [ -f "$stamp" ] && [ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$tree/vmlinux" ]; then
	log "reusing $tree (built $(cat "$stamp"))"
	publish
	exit 0
fi

# Serialise concurrent builds of the same key.
exec 9>"$dir/lock"
if ! flock -n 9; then
	log "another build of $key is running; waiting for it"
	flock 9
fi
if [ -f "$stamp" ]; then
	log "reusing $tree (built by a concurrent run)"
	publish
	exit 0
fi

t0=$(date +%s)
buildlog=$dir/build.log
run() {
	# Run a build step; output goes to build.log (and to stderr with KLP_VERBOSE=1).
	log "$*"
	if [ "${KLP_VERBOSE:-0}" = 1 ]; then
		"$@" 2>&1 | tee -a "$buildlog" >&2
	else
		if ! "$@" >>"$buildlog" 2>&1; then
			log "step failed: $*; last 40 lines of $buildlog:"
			tail -n 40 "$buildlog" >&2
			exit 1
		fi
	fi
}

# --- 3. unpack -----------------------------------------------------------------------------------
if [ ! -f "$tree/Makefile" ]; then
	log "unpacking $src_tarball into $dir"
	rm -rf "$dir/unpack" "$tree"
	mkdir -p "$dir/unpack"
	tar -C "$dir/unpack" -xf "$src_tarball"
	top=$(find "$dir/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -f "$top/Makefile" ] || die "unexpected tarball layout in $src_tarball"
	mv "$top" "$tree"
	rmdir "$dir/unpack"
fi
: >"$buildlog"

# --- 4. configure --------------------------------------------------------------------------------
cd "$tree"
cat "${fragments[@]}" >"$dir/config.wanted"
if [ ! -f .config ] || [ ! -f "$dir/config.done" ] || ! cmp -s "$dir/config.wanted" "$dir/config.done"; then
	run make tinyconfig
	run scripts/kconfig/merge_config.sh -m .config "${fragments[@]}"
	run make olddefconfig
	cp "$dir/config.wanted" "$dir/config.done"
fi

# Every =y/=m line of the fragment must have survived olddefconfig.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=y | CONFIG_*=m) ;;
	*) continue ;;
	esac
	opt=${line%%=*}
	if ! grep -qxF "$line" .config; then
		got=$(grep -E "^($opt=|# $opt is not set)" .config || true)
		if [ "$opt" = CONFIG_TEST_LIVEPATCH ]; then
			log "warning: $line is not in .config (the option does not exist in 6.12; the selftest modules live in tools/testing/selftests/livepatch/test_modules)"
		else
			log "error: $line did not survive olddefconfig (.config has: ${got:-nothing}); a dependency is missing (e.g. MINIX_FS needs MISC_FILESYSTEMS=y)"
			bad=1
		fi
	fi
done <"$dir/config.wanted"
[ $bad -eq 0 ] || die "config fragments not fully applied; fix ${fragments[*]}"

# --- 5. build ------------------------------------------------------------------------------------
run make -j"$jobs" bzImage vmlinux modules
if [ ! -f arch/x86/boot/bzImage ] || [ ! -f vmlinux ] || [ ! -f System.map ]; then die "build produced no bzImage/vmlinux/System.map"; fi

t1=$(date +%s)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((t1 - t0)) s" >"$stamp"
log "built $tree in $((t1 - t0)) s"
publish
