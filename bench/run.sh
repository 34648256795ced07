#!/bin/bash
# bench/run.sh — `klp-convert symbols` against the 2022 shell recipe on the same kernel trees.
#
#   npm run bench                       # cloud and full corpora if present
#   bash bench/run.sh TREE...           # any kbuild-like trees (vmlinux + modules.order)
#   RUNS=7 BASE_RUNS=1 bash bench/run.sh cloud
#
# For each tree: one warm-up run (so the page cache is warm for both tools), RUNS timed runs of
# ours (default 5) and BASE_RUNS of the recipe (default 1: it takes ~30 s / ~160 s), each under
# /usr/bin/time -v for wall time and peak RSS; prints medians, the ratio, and whether the two 0.1
# outputs are byte-identical. Also times `--format ext` and reports its size. Public tools only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cli="$here/dist/src/cli/main.js"
baseline=${BASELINE:-$here/../shared/tools/symbols-klp-baseline.sh}
[ -f "$baseline" ] || baseline=/work/shared/tools/symbols-klp-baseline.sh
RUNS=${RUNS:-5}
BASE_RUNS=${BASE_RUNS:-1}
corpus=${KLP_CORPUS:-/root/.cache/klp-corpus}
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time (GNU time) is required" >&2; exit 1; }

trees=()
if [ $# -eq 0 ]; then set -- cloud full; fi
for a in "$@"; do
	if [ -d "$a" ]; then trees+=("$a"); elif [ -d "$corpus/$a/tree" ]; then trees+=("$corpus/$a/tree");
	else echo "bench: skipping '$a' (no such tree; fetch it with ../shared/tools/fetch-distro-kernel.sh $a)" >&2; fi
done
[ ${#trees[@]} -gt 0 ] || { echo "bench: no trees" >&2; exit 1; }

out=$(mktemp -d /tmp/klp-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(free -m | awk '/^Mem:/{print $2 " MiB RAM"}')"
echo "node $(node --version), $(nm --version | head -1), $(uname -r); page cache warmed by one untimed run per tree"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (wall times stretch when other work shares the CPUs; cpu = user+sys)"
echo

# measure CMD...: prints "wall_seconds maxrss_kib cpu_seconds" (cpu = user + sys, children included)
measure() {
	/usr/bin/time -f '%e %M %U %S' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || { cat "$out/stderr" >&2; return 1; }
	awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$out/time"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-8s %8s | %-30s | %-30s | %-30s | %8s | %s\n' tree modules 'ours 0.1 (wall, cpu, RSS)' 'ours ext (wall, cpu, RSS)' 'recipe (wall, cpu, RSS)' ratio '0.1 bytes identical'
for t in "${trees[@]}"; do
	name=$(basename "$(dirname "$t")")
	mods=$(wc -l < "$t/modules.order")
	node "$cli" symbols --objtree "$t" -o "$out/warm.klp" >/dev/null
	: > "$out/o"; : > "$out/or"; : > "$out/oc"; : > "$out/e"; : > "$out/er"; : > "$out/ec"; : > "$out/b"; : > "$out/br"; : > "$out/bc"
	for _ in $(seq "$RUNS"); do
		read -r s r c < <(measure node "$cli" symbols --objtree "$t" -o "$out/ours.klp"); echo "$s" >> "$out/o"; echo "$r" >> "$out/or"; echo "$c" >> "$out/oc"
		read -r s r c < <(measure node "$cli" symbols --format ext --objtree "$t" -o "$out/ext.klp"); echo "$s" >> "$out/e"; echo "$r" >> "$out/er"; echo "$c" >> "$out/ec"
	done
	for _ in $(seq "$BASE_RUNS"); do
		read -r s r c < <(measure bash "$baseline" "$t" "$out/base.klp"); echo "$s" >> "$out/b"; echo "$r" >> "$out/br"; echo "$c" >> "$out/bc"
	done
	o=$(median < "$out/o"); orss=$(sort -n "$out/or" | tail -1); oc=$(median < "$out/oc")
	e=$(median < "$out/e"); erss=$(sort -n "$out/er" | tail -1); ec=$(median < "$out/ec")
	b=$(median < "$out/b"); brss=$(sort -n "$out/br" | tail -1); bc=$(median < "$out/bc")
	if cmp -s "$out/ours.klp" "$out/base.klp"; then same="yes ($(wc -c < "$out/ours.klp") bytes, $(wc -l < "$out/ours.klp") lines)"; else same="NO: $(cmp "$out/ours.klp" "$out/base.klp" 2>&1 | head -1 || true)"; fi
	ratio=$(awk -v b="$b" -v o="$o" 'BEGIN { printf "%.0fx", (o > 0 ? b / o : 0) }')
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	printf '%-8s %8s | %7ss %6ss %7s MiB | %7ss %6ss %7s MiB | %7ss %6ss %7s MiB | %8s | %s\n' "$name" "$mods" \
		"$o" "$oc" "$(mib "$orss")" "$e" "$ec" "$(mib "$erss")" "$b" "$bc" "$(mib "$brss")" "$ratio" "$same"
	echo "         ext map: $(wc -c < "$out/ext.klp") bytes, $(wc -l < "$out/ext.klp") lines, gzip -1: $(gzip -1c "$out/ext.klp" | wc -c) bytes (runs: ours $RUNS, recipe $BASE_RUNS; RSS = max over runs)"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); medians of wall and cpu; ratio = recipe wall / ours wall (0.1)"
