#!/bin/bash
# Download packages from Debian unstable (sid) WITHOUT adding sid to the system's apt sources.
#
#   scripts/debian-sid.sh update                    # refresh the private package lists
#   scripts/debian-sid.sh version PKG               # print sid's candidate version of PKG
#   scripts/debian-sid.sh download PKG... DESTDIR   # PKG_<ver>_<arch>.deb files into DESTDIR
#   scripts/debian-sid.sh extract PKG DESTDIR       # download PKG and dpkg -x it into DESTDIR
#
# apt runs with a private sources list (the mirror the system's own /etc/apt/sources.list* name,
# suite sid, component main), private package lists and a private package cache (one of each per
# architecture), all under
#   ${KLP_SID_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/debian-sid}
# so the system's apt state is never read for sid nor written.  The lists are refreshed when
# older than a day (or by `update`).  Signatures are checked with Debian's archive keyring.
#
# Environment:
#   KLP_SID_MIRROR  mirror URL (default: the first deb.debian.org-like URI of the system's sources)
#   KLP_SID_ARCH    apt architecture (default: dpkg --print-architecture); packages of
#                   architecture "all" (linux-source-*) come with any of them
# Exit status: 0 ok, 64 usage, 69 apt failed (network, mirror), 66 unknown package.
set -euo pipefail

state=${KLP_SID_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/debian-sid}
arch=${KLP_SID_ARCH:-$(dpkg --print-architecture)}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

log() { echo "debian-sid: $*" >&2; }
die() {
	local code=$1
	shift
	log "error: $*"
	exit "$code"
}
usage() {
	sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

# The Debian mirror the system already uses: the URI of the first source that serves the
# "debian" archive (not debian-security, not third-party repositories).
system_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in
		*.sources) awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" ;;
		*) awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" ;;
		esac
	done | grep -E '/debian/?$' | head -n1 | sed 's:/*$::'
}

mirror=${KLP_SID_MIRROR:-$(system_mirror)}
[ -n "$mirror" ] || die 69 "no Debian mirror in /etc/apt/sources.list* (set KLP_SID_MIRROR, e.g. http://deb.debian.org/debian)"
[ -f "$keyring" ] || die 69 "$keyring missing (apt-get install debian-archive-keyring)"

sources=$state/sources.list
# per architecture: apt-get update drops the lists of architectures it was not asked for
lists=$state/lists/$arch
pkgcache=$state/cache/$arch
apt_opts=(-o "Dir::Etc::SourceList=$sources" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$lists" -o "Dir::Cache=$pkgcache" -o "APT::Architecture=$arch"
	-o "APT::Architectures=$arch" -o Debug::NoLocking=1)
# The state lives in the caller's home, which apt's unprivileged _apt user cannot write.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)

prepare() {
	mkdir -p "$lists/partial" "$pkgcache/archives/partial"
	local want="deb [signed-by=$keyring] $mirror sid main"
	if [ ! -f "$sources" ] || [ "$(cat "$sources")" != "$want" ]; then
		echo "$want" >"$sources.tmp" && mv -f "$sources.tmp" "$sources"
		rm -f "$state/updated-$arch"
	fi
}

update() {
	prepare
	exec 8>"$state/lock"
	flock 8
	log "apt-get update (sid from $mirror, lists in $lists)"
	apt-get "${apt_opts[@]}" -q update >&2 || die 69 "apt-get update of sid failed (network? mirror $mirror)"
	date -u +%s >"$state/updated-$arch"
	exec 8>&-
}

ensure_lists() {
	prepare
	local now then
	now=$(date -u +%s)
	then=$(cat "$state/updated-$arch" 2>/dev/null || echo 0)
	[ $((now - then)) -lt 86400 ] || update
}

version() {
	local v
	v=$(apt-cache "${apt_opts[@]}" policy "$1" 2>/dev/null | awk '$1=="Candidate:" { print $2 }')
	[ -n "$v" ] && [ "$v" != "(none)" ] || die 66 "package $1 is not in sid ($mirror, arch $arch)"
	echo "$v"
}

download() {
	local dest=${*: -1}
	local pkgs=("${@:1:$#-1}")
	[ ${#pkgs[@]} -gt 0 ] || usage
	mkdir -p "$dest"
	dest=$(realpath "$dest")
	local p
	for p in "${pkgs[@]}"; do version "$p" >/dev/null; done
	local dl
	dl=$(mktemp -d "$state/dl.XXXXXX")
	if ! (cd "$dl" && apt-get "${apt_opts[@]}" -q download "${pkgs[@]}" >&2); then
		rm -rf "$dl"
		die 69 "apt-get download ${pkgs[*]} from sid failed"
	fi
	local f
	for f in "$dl"/*.deb; do
		mv -f "$f" "$dest/"
		echo "$dest/$(basename "$f")"
	done
	rm -rf "$dl"
}

extract() {
	[ $# -eq 2 ] || usage
	local debs deb
	debs=$(download "$1" "$state/debs")
	mkdir -p "$2"
	for deb in $debs; do
		log "dpkg -x $(basename "$deb") $2"
		dpkg -x "$deb" "$2"
	done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
update) [ $# -eq 0 ] || usage; update ;;
version) [ $# -eq 1 ] || usage; ensure_lists; version "$1" ;;
download) [ $# -ge 2 ] || usage; ensure_lists; download "$@" ;;
extract) ensure_lists; extract "$@" ;;
*) usage ;;
esac
