#!/bin/bash
# KLP_CONVERT for test/kernel/run.sh when it runs against a tree patched with kbuild/: that
# harness builds every test module with make M=, and the patched Makefile.modfinal would convert
# each livepatch there (failing on the ones that need --resolve rules). The boots take the
# livepatches converted by the kbuild integration from KLP_CONVERTED instead, so here the
# drop-in form (MAP IN OUT) only copies IN to OUT; every other form runs the real CLI.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -eq 3 ] && [ "${1#-}" = "$1" ] && [ -f "$1" ] && [ -f "$2" ]; then
	exec cp "$2" "$3"
fi
exec node "$here/../../dist/src/cli/main.js" "$@"
