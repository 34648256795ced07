#!/bin/bash
# The source tarball of a kernel line, from Debian's linux-source-<line> package.
#
#   test/kernel/kernel-source.sh 6.1|6.12|7.2     # prints "<package version><TAB><tarball path>"
#
# 6.1 and 6.12 come from the system's apt sources (bookworm): the package is installed when
# missing (as root), its tarball is /usr/src/linux-source-<line>.tar.xz.
# 7.2 is only in Debian unstable: scripts/debian-sid.sh downloads linux-source-7.2 once (a private
# sources list, never the system's) into ${KLP_SRC_CACHE:-~/.cache/klp-convert/src} and unpacks
# it there; later runs reuse that .deb without the network (the newest one there wins).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
srccache=${KLP_SRC_CACHE:-$HOME/.cache/klp-convert/src}
line=${1:-}

log() { echo "kernel-source: $*" >&2; }
die() { log "error: $*"; exit 1; }

from_system_apt() {
	local pkg=linux-source-$line
	if ! dpkg -s "$pkg" >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || die "$pkg is not installed (sudo apt-get install -y $pkg)"
		log "installing $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >&2 ||
			{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >&2; } ||
			die "apt-get install $pkg failed"
	fi
	printf '%s\t%s\n' "$(dpkg-query -W -f='${Version}' "$pkg")" "/usr/src/linux-source-$line.tar.xz"
}

from_sid() {
	local pkg=linux-source-$line deb ver dir
	mkdir -p "$srccache"
	exec 7>"$srccache/$pkg.lock"
	flock 7
	deb=$(find "$srccache" -maxdepth 1 -name "${pkg}_*_all.deb" | LC_ALL=C sort -V | tail -n1)
	if [ -z "$deb" ]; then
		log "downloading $pkg from Debian sid (scripts/debian-sid.sh: private apt sources and lists)"
		bash "$repo/scripts/debian-sid.sh" update >&2 || die "scripts/debian-sid.sh update failed (network? mirror?)"
		bash "$repo/scripts/debian-sid.sh" download "$srccache" "$pkg" >&2 ||
			die "scripts/debian-sid.sh download $srccache $pkg failed"
		deb=$(find "$srccache" -maxdepth 1 -name "${pkg}_*_all.deb" | LC_ALL=C sort -V | tail -n1)
		[ -n "$deb" ] || die "scripts/debian-sid.sh download wrote no ${pkg}_*_all.deb into $srccache"
	fi
	ver=$(dpkg-deb -f "$deb" Version)
	dir=$srccache/${pkg}_$ver
	if [ ! -f "$dir/usr/src/$pkg.tar.xz" ]; then
		rm -rf "$dir.tmp"
		dpkg -x "$deb" "$dir.tmp"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	printf '%s\t%s\n' "$ver" "$dir/usr/src/$pkg.tar.xz"
}

case $line in
6.1 | 6.12) from_system_apt ;;
7.2) from_sid ;;
*) die "usage: $0 6.1|6.12|7.2" ;;
esac
