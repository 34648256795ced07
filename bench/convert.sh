#!/bin/bash
# bench/convert.sh — how long `klp-convert convert` takes against a real distribution kernel's map.
#
#   bash bench/convert.sh [TREE]     (default: the "full" corpus, 4,230 modules, ~30 MB map)
#
# It writes the 0.1 and extended maps of TREE with our `symbols` command, picks 60 real
# unexported vmlinux symbols that are unique in the map (functions and data), compiles a
# livepatch-like module referencing all of them with gcc (.modinfo livepatch=Y, ld -r), and
# times the conversion against each map with /usr/bin/time, next to `node -e 0` (Node's own
# start-up, the floor for any Node CLI). There is no runnable reference converter to put beside
# it: klp-convert v7 (C, libelf) was never merged and is not packaged. Public tools only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
unset NODE_EXTRA_CA_CERTS # see bench/speed.sh
cli=${KLP_CLI:-$here/dist/klp-convert.cjs}
tree=${1:-${KLP_CORPUS:-/root/.cache/klp-corpus}/full/tree}
RUNS=${RUNS:-7}
[ -f "$tree/vmlinux" ] || { echo "bench: no tree at $tree (fetch it with ../shared/tools/fetch-distro-kernel.sh full)" >&2; exit 1; }
out=$(mktemp -d /tmp/klp-bench-convert.XXXXXX)
trap 'rm -rf "$out"' EXIT

node "$cli" symbols --objtree "$tree" -o "$out/symbols.klp" >/dev/null
node "$cli" symbols --objtree "$tree" --format ext -o "$out/symbols.klpx" >/dev/null

n=$(make_livepatch "$out/symbols.klp" "$out/symbols.klpx" "$out")

measure() { # prints "seconds maxrss_kib"
	/usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/err" || { cat "$out/err" >&2; return 1; }
	cat "$out/time"
}
bench() { # label cmd...
	local label=$1; shift
	"$@" >/dev/null 2>&1 || true
	: > "$out/t"; : > "$out/m"
	for _ in $(seq "$RUNS"); do read -r s m < <(measure "$@"); echo "$s" >> "$out/t"; echo "$m" >> "$out/m"; done
	printf '%-42s %8s s %8s MiB\n' "$label" "$(median < "$out/t")" "$(( $(median < "$out/m") / 1024 ))"
	median < "$out/t" > "$out/last"
}
echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), node $(node --version), warm cache"
echo "tree: $tree; map 0.1 $(du -m "$out/symbols.klp" | cut -f1) MB, ext $(du -m "$out/symbols.klpx" | cut -f1) MB; livepatch with $n unexported vmlinux references"
echo "medians of $RUNS runs (wall, peak RSS):"
bench 'node -e 0 (start-up floor)' node -e 0; floor=$(cat "$out/last")
bench 'convert --symbols symbols.klp (0.1)' node "$cli" convert --symbols "$out/symbols.klp" "$out/lp.ko" -o "$out/out01.ko"; t01=$(cat "$out/last")
bench 'convert --symbols symbols.klpx (ext)' node "$cli" convert --symbols "$out/symbols.klpx" "$out/lp.ko" -o "$out/outx.ko"; tx=$(cat "$out/last")
node "$cli" check --symbols "$out/symbols.klpx" -q "$out/outx.ko"
echo "klp relocations written: $(node "$cli" check --symbols "$out/symbols.klpx" --json "$out/outx.ko" | grep -c '"section"')"
awk -v a="$t01" -v b="$tx" -v f="$floor" 'BEGIN { printf "ratio to node start-up: 0.1 %.1fx, ext %.1fx\n", a / f, b / f }'
