#!/bin/bash
# KLP_CONVERT for test/kernel/run.sh when it runs against a tree patched with kbuild/: that
# harness builds every test module with make M=, and the patched Makefile.modfinal would convert
# each livepatch there (failing on the ones that need --resolve rules). The boots take the
# livepatches converted by the kbuild integration from KLP_CONVERTED instead, so here the
# drop-in form (MAP IN OUT), and the convert form on a .tmp.ko (.ko.unconverted on 7.2), only copy IN to OUT; every other
# form runs the real CLI.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -eq 3 ] && [ "${1#-}" = "$1" ] && [ -f "$1" ] && [ -f "$2" ]; then
	exec cp "$2" "$3"
fi
# the form modfinal uses when a <module>.resolve exists: convert --symbols MAP --resolve R X.tmp.ko (or X.ko.unconverted) -o X.ko
if [ "${1:-}" = convert ]; then
	in='' out='' args=("$@")
	while [ $# -gt 0 ]; do
		case $1 in
		-o) out=$2; shift ;;
		--symbols|--resolve|--symvers|--kernel-version) shift ;;
		*.tmp.ko | *.ko.unconverted) in=$1 ;; # 6.12 and 7.2 series
		esac
		shift
	done
	if [ -n "$in" ] && [ -n "$out" ]; then exec cp "$in" "$out"; fi
	set -- "${args[@]}"
fi
exec node "$here/../../dist/src/cli/main.js" "$@"
