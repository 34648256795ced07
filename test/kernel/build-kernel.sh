#!/bin/bash
# Build (or reuse) a small livepatch-capable Linux kernel tree for the real-kernel tests.
#
#   test/kernel/build-kernel.sh            # prints the tree path as the last stdout line
#   KLP_KERNEL=7.2 KLP_ARCH=arm64 test/kernel/build-kernel.sh
#
# KLP_KERNEL picks the kernel line (6.1, 6.12 (default) or 7.2), KLP_ARCH the architecture
# (x86_64 (default) or arm64, cross-built with gcc-aarch64-linux-gnu).  Sources are Debian's
# linux-source-<line> packages: 6.1 and 6.12 from the system's apt (bookworm), 7.2 from sid
# through scripts/debian-sid.sh (a private sources list; the .deb is cached, see kernel-source.sh).
#
# The tree lives OUTSIDE the repository, in
#   ${KLP_KERNEL_CACHE:-$HOME/.cache/klp-convert/kernel}/<key>/linux
# where <key> = <linux-source package version>[-<arch> unless x86_64]-<sha256(config fragments), 12 hex>.
# The fragments merged on top of tinyconfig, in order:
#   x86_64: the shared kernel-6.12-livepatch.config, then test/kernel/kernel-extra.config, then
#           test/kernel/configs/<line>-x86_64.config when it exists
#   arm64:  test/kernel/configs/arm64.config, then kernel-extra.config, then
#           test/kernel/configs/<line>-arm64.config when it exists
# A stamp file marks a finished build, so a warm run takes well under a second.
# <cache>/current is a symlink to the last x86_64 6.12 tree that was built or reused
# (<cache>/current-<line>-<arch> for the others).
#
# Environment:
#   KLP_KERNEL        6.1 | 6.12 | 7.2 (default 6.12)
#   KLP_ARCH          x86_64 | arm64 (default x86_64)
#   KLP_KERNEL_CACHE  cache directory (default $HOME/.cache/klp-convert/kernel)
#   KLP_SHARED        directory holding reference/kernel-6.12-livepatch.config
#                     (default: <repo>/../shared)
#   KLP_CONFIG        first config fragment (default: per arch, above)
#   KLP_EXTRA_CONFIG  second fragment merged after it (default test/kernel/kernel-extra.config:
#                     CONFIG_JUMP_LABEL=y for the static-key test); set it empty to skip
#   KLP_JOBS          make -j value (default: number of CPUs)
#   KLP_CONFIGURE_ONLY=1  stop after configuring and checking the fragments (prints the tree)
#   KLP_VERBOSE=1     show the kernel build output instead of writing it to <key>/build.log only
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${KLP_SHARED:-$repo/../shared}
# a clone outside the workplace finds the shared references at their usual place
[ -d "$shared" ] || [ -n "${KLP_SHARED:-}" ] || shared=/work/shared
line=${KLP_KERNEL:-6.12}
arch=${KLP_ARCH:-x86_64}
cache=${KLP_KERNEL_CACHE:-$HOME/.cache/klp-convert/kernel}
jobs=${KLP_JOBS:-$(nproc)}

log() { echo "build-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

case $line in 6.1 | 6.12 | 7.2) ;; *) die "KLP_KERNEL=$line: this script builds 6.1, 6.12 or 7.2" ;; esac
case $arch in
x86_64)
	default_fragment=$shared/reference/kernel-6.12-livepatch.config
	packages=(qemu-system-x86 busybox-static)
	image=arch/x86/boot/bzImage
	make_env=()
	make_targets=(bzImage vmlinux modules)
	;;
arm64)
	default_fragment=$here/configs/arm64.config
	packages=(qemu-system-arm gcc-aarch64-linux-gnu)
	image=arch/arm64/boot/Image
	make_env=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	make_targets=(Image vmlinux modules)
	;;
*) die "KLP_ARCH=$arch: this script builds x86_64 or arm64 (ppc64le and s390x: test/kernel-cross/run.sh)" ;;
esac
fragment=${KLP_CONFIG:-$default_fragment}
extra=${KLP_EXTRA_CONFIG-$here/kernel-extra.config}
line_fragment=$here/configs/$line-$arch.config

# --- 1. packages -------------------------------------------------------------------------------
packages+=(cpio flex bison bc libelf-dev libssl-dev xz-utils kmod rsync gcc make)
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
[ ! -f "$line_fragment" ] || fragments+=("$line_fragment")
# the source tarball and its package version (installs or downloads the package when needed)
src=$(bash "$here/kernel-source.sh" "$line") || die "no linux-source-$line (see kernel-source.sh's messages)"
version=${src%%$'\t'*}
src_tarball=${src#*$'\t'}
[ -f "$src_tarball" ] || die "kernel source not found: $src_tarball"

# --- 2. cache key --------------------------------------------------------------------------------
frag_sum=$(cat "${fragments[@]}" | sha256sum | cut -c1-12)
key=${version//[^A-Za-z0-9.+_-]/_}
[ "$arch" = x86_64 ] || key+=-$arch
key+=-$frag_sum
dir=$cache/$key
tree=$dir/linux
stamp=$dir/build.stamp
mkdir -p "$dir"
current=current
[ "$line-$arch" = 6.12-x86_64 ] || current=current-$line-$arch

publish() {
	ln -sfn "$key/linux" "$cache/$current.tmp" && mv -Tf "$cache/$current.tmp" "$cache/$current"
	echo "$tree"
}

if [ -f "$stamp" ] && [ -f "$tree/$image" ] && [ -f "$tree/vmlinux" ]; then
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
	run make "${make_env[@]}" tinyconfig
	run env "${make_env[@]}" scripts/kconfig/merge_config.sh -m .config "${fragments[@]}"
	run make "${make_env[@]}" olddefconfig
	cp "$dir/config.wanted" "$dir/config.done"
fi

# Every =y/=m line of the fragment must have survived olddefconfig, except the options that a
# line fragment declares absent on its line ("# klp-absent: CONFIG_A CONFIG_B").
absent=$(sed -n 's/^# klp-absent://p' "${fragments[@]}" | tr '\n' ' ')
bad=0
while IFS= read -r want; do
	case $want in
	CONFIG_*=y | CONFIG_*=m) ;;
	*) continue ;;
	esac
	opt=${want%%=*}
	if ! grep -qxF "$want" .config; then
		got=$(grep -E "^($opt=|# $opt is not set)" .config || true)
		if [[ " $absent " == *" $opt "* ]]; then
			log "note: $want is not in .config ($opt does not exist, or has no prompt, on $line: see ${line_fragment#"$repo"/})"
		elif [ "$opt" = CONFIG_TEST_LIVEPATCH ]; then
			log "warning: $want is not in .config (absent since 6.11, where the selftest modules live in tools/testing/selftests/livepatch/test_modules; before, it sits behind RUNTIME_TESTING_MENU, off in tinyconfig; the tests do not need it)"
		else
			log "error: $want did not survive olddefconfig (.config has: ${got:-nothing}); a dependency is missing (e.g. MINIX_FS needs MISC_FILESYSTEMS=y)"
			bad=1
		fi
	fi
done <"$dir/config.wanted"
[ $bad -eq 0 ] || die "config fragments not fully applied; fix ${fragments[*]}"

if [ "${KLP_CONFIGURE_ONLY:-0}" = 1 ]; then
	log "configured $tree (KLP_CONFIGURE_ONLY=1: not built)"
	echo "$tree"
	exit 0
fi

# --- 5. build ------------------------------------------------------------------------------------
run make "${make_env[@]}" -j"$jobs" "${make_targets[@]}"
if [ ! -f "$image" ] || [ ! -f vmlinux ] || [ ! -f System.map ]; then die "build produced no $image/vmlinux/System.map"; fi

t1=$(date +%s)
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((t1 - t0)) s" >"$stamp"
log "built $tree in $((t1 - t0)) s"
publish
