#!/bin/bash
# debian-sid.sh: use Debian sid (unstable) packages on a machine that runs another Debian release,
# without adding sid to the system's sources: a private sources list, package lists and apt cache
# under one state directory; the system's /etc/apt and /var/lib/apt are never written.
#
#   debian-sid.sh update                  fetch sid's package lists (needed once; again to move on)
#   debian-sid.sh show PKG...             apt-cache show of sid's PKG (exit 100 when unknown)
#   debian-sid.sh version PKG             sid's candidate version of PKG (nothing, exit 1, when none)
#   debian-sid.sh search REGEX            apt-cache search in sid
#   debian-sid.sh download DIR PKG...     apt-get download PKG (sid versions) into DIR
#   debian-sid.sh chroot                  make (once) a minimal sid chroot with a kernel module
#                                         build environment (debootstrap; root); prints its path
#   debian-sid.sh run CMD...              run CMD in that chroot, /proc mounted for the time
#
# Environment:
#   KLP_SID_STATE   state directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/debian-sid)
#   KLP_SID_CHROOT_PACKAGES  what the chroot gets besides minbase (default: gcc-16 make
#                   libc6-dev pahole libelf1t64 libssl3t64 zlib1g binutils xz-utils: what 7.2's
#                   linux-headers and linux-kbuild packages need)
#   KLP_SID_MIRROR  mirror URI (default: the first http(s) .../debian URI of /etc/apt/sources.list*
#                   that is not a -security archive, else http://deb.debian.org/debian)
# The packages are only downloaded: unpack them with dpkg -x, never install them.
set -euo pipefail
state=${KLP_SID_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/klp-convert/debian-sid}

die() { echo "debian-sid.sh: $*" >&2; exit 2; }

mirror() {
	if [ -n "${KLP_SID_MIRROR:-}" ]; then echo "$KLP_SID_MIRROR"; return; fi
	local m
	# one-line ("deb URI suite ...") and deb822 ("URIs: URI") sources
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:[^ ]*\/debian\/\{0,1\}\) .*/\2/p' -e 's/^URIs: *\(https\{0,1\}:[^ ]*\/debian\/\{0,1\}\)$/\1/p' |
		head -n1)
	echo "${m:-http://deb.debian.org/debian}"
}

apt_opts() {
	opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
		-o "Dir::State::status=$state/status" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
}

need_lists() {
	compgen -G "$state/lists/*_Packages*" >/dev/null || die "no sid package lists in $state/lists; run: $0 update"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
apt_opts
case $cmd in
update)
	mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
	: >"$state/status"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "$keyring is missing (apt-get install debian-archive-keyring)"
	echo "deb [signed-by=$keyring] $(mirror) sid main" >"$state/sources.list"
	apt-get "${opts[@]}" update
	;;
show)
	need_lists
	apt-cache "${opts[@]}" show "$@"
	;;
version)
	need_lists
	[ $# -eq 1 ] || die "usage: $0 version PKG"
	v=$(apt-cache "${opts[@]}" show "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n1 || true)
	[ -n "$v" ] || exit 1
	echo "$v"
	;;
search)
	need_lists
	apt-cache "${opts[@]}" search "$@"
	;;
download)
	need_lists
	[ $# -ge 2 ] || die "usage: $0 download DIR PKG..."
	dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get "${opts[@]}" download "$@")
	;;
chroot)
	root=$state/chroot
	if [ ! -x "$root/usr/bin/make" ]; then
		[ "$(id -u)" = 0 ] || die "making a chroot needs root"
		command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
		pkgs=${KLP_SID_CHROOT_PACKAGES:-gcc-16 make libc6-dev pahole libelf1t64 libssl3t64 zlib1g binutils xz-utils}
		rm -rf "$root.tmp"
		mkdir -p "$state"
		debootstrap --variant=minbase --include="${pkgs// /,}" sid "$root.tmp" "$(mirror)" >"$state/debootstrap.log" 2>&1 ||
			die "debootstrap failed (see $state/debootstrap.log)"
		mv "$root.tmp" "$root"
	fi
	echo "$root"
	;;
run)
	root=$state/chroot
	[ -x "$root/usr/bin/make" ] || die "no chroot in $root; run: $0 chroot"
	[ $# -gt 0 ] || die "usage: $0 run CMD..."
	# objtool reads /proc; mount it for this command only (unless it already is)
	mounted=
	if ! mountpoint -q "$root/proc"; then
		mount -t proc proc "$root/proc" || die "cannot mount /proc in $root"
		mounted=1
	fi
	rc=0
	chroot "$root" "$@" || rc=$?
	if [ -n "$mounted" ]; then umount "$root/proc" || true; fi
	exit $rc
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
