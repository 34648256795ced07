#!/bin/bash
# bench/speed.sh — our commands against the physical floor, measured side by side in one run.
#
#   npm run bench:speed                   # cloud and full corpora, when fetched
#   RUNS=9 bash bench/speed.sh cloud      # any of: cloud, full, a kbuild-like TREE
#   RECIPE=1 bash bench/speed.sh          # also run the 2022 recipe once per tree and cmp the 0.1 map
#   KLP_CLI=dist/src/cli/main.js bash bench/speed.sh   # another entry point (default: the bin)
#
# Work items and their floors:
#   symbols 0.1      C floor + Node start-up. The C floor (bench/read-floor.c, built here with
#                    gcc -O2) opens vmlinux and every modules.order object and preads its ELF
#                    header, section headers, .symtab and string table, nothing else. Node
#                    start-up is `node -e 0`. Goal: ours <= 2x the sum.
#                    The same run with -j 2 (a worker thread) shows what a second thread
#                    gives (the default is -j 1 on 2 CPUs, -j 2 on more). A third row puts ours beside what Node
#                    itself cannot go below: bench/read-floor-node.mjs does the C floor's calls
#                    (same files, same preads, same checksum) with fs.openSync/readSync/closeSync
#                    in one thread, start-up included.
#   symbols ext      the 0.1 run of the same tree. Goal: <= 1.2x.
#   convert          Node start-up. A livepatch with 60 unexported vmlinux references (the
#                    biggest tree's map) converted against the 0.1 and the ext map. Goal: <= +60 ms.
#   check --target   Node start-up. The converted livepatch checked against the ext map as a
#                    target (the same scanned load as convert's).
#
# Every round runs every command once, in the same order (so load and cache state hit all alike);
# the table gives medians over RUNS rounds (default 7) of wall time (bash $EPOCHREALTIME), CPU time
# (user + sys, /usr/bin/time) and the maximum peak RSS. One untimed warm-up round first.
# NODE_EXTRA_CA_CERTS is unset: some environments set it and Node then reads the certificates at
# every start (~40-90 ms here); users normally do not pay that. Public tools only: gcc, GNU time, bash.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
unset NODE_EXTRA_CA_CERTS
cli=${KLP_CLI:-$here/dist/klp-convert.cjs} # the bin (scripts/bundle.mjs)
RUNS=${RUNS:-7}
[ "$RUNS" -ge 5 ] || echo "bench: RUNS=$RUNS: medians of fewer than 5 rounds are noise on a shared machine" >&2
corpus=${KLP_CORPUS:-/root/.cache/klp-corpus}
baseline=${BASELINE:-$here/../shared/tools/symbols-klp-baseline.sh}
[ -f "$baseline" ] || baseline=$here/test/helpers/symbols-klp-recipe.sh
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time (GNU time) is required (apt-get install time)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "bench: gcc is required for the C floor" >&2; exit 1; }

pick_trees "$@"

out=$(mktemp -d /tmp/klp-speed.XXXXXX)
trap 'rm -rf "$out"' EXIT
gcc -O2 -o "$out/read-floor" "$here/bench/read-floor.c"
# the two floors read the same bytes: their checksums agree
for t in "${trees[@]}"; do
	a=$("$out/read-floor" "$t") b=$(node "$here/bench/read-floor-node.mjs" "$t")
	[ "$a" = "$b" ] || { echo "bench: $t: the C and the Node read floor disagree: '$a' / '$b'" >&2; exit 1; }
done

# sample KEY CMD...: one timed run; appends wall seconds, cpu seconds and peak RSS (KiB) to $out/KEY.*
sample() {
	local key=$1; shift
	local t0=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || { cat "$out/stderr" >&2; return 1; }
	local t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >> "$out/$key.wall"
	awk '{ printf "%.3f\n", $2 + $3 }' "$out/time" >> "$out/$key.cpu"
	awk '{ print $1 }' "$out/time" >> "$out/$key.rss"
}
med() { median < "$out/$1.$2"; }
maxrss() { sort -n "$out/$1.rss" | tail -1 | awk '{ printf "%.0f", $1 / 1024 }'; }

# the convert item uses the biggest tree's maps
big=$((${#trees[@]} - 1))
node "$cli" symbols --objtree "${trees[$big]}" -o "$out/map.klp" >/dev/null
node "$cli" symbols --objtree "${trees[$big]}" --format ext -o "$out/map.klpx" >/dev/null
nlp=$(make_livepatch "$out/map.klp" "$out/map.klpx" "$out")

round() {
	sample node0 node -e 0
	for i in "${!trees[@]}"; do
		local t=${trees[$i]} n=${names[$i]}
		sample "floor-$n" "$out/read-floor" "$t"
		sample "nfloor-$n" node "$here/bench/read-floor-node.mjs" "$t"
		sample "sym01-$n" node "$cli" symbols --objtree "$t" -o "$out/$n.klp"
		sample "sym01j2-$n" node "$cli" symbols -j 2 --objtree "$t" -o "$out/$n.j2.klp"
		sample "symext-$n" node "$cli" symbols --format ext --objtree "$t" -o "$out/$n.klpx"
	done
	sample conv01 node "$cli" convert --symbols "$out/map.klp" "$out/lp.ko" -o "$out/lp01.ko"
	sample convext node "$cli" convert --symbols "$out/map.klpx" "$out/lp.ko" -o "$out/lpx.ko"
	sample chkext node "$cli" check --target "$out/map.klpx" "$out/lpx.ko"
}

machine_header
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); NODE_EXTRA_CA_CERTS unset for every command (Node would read the certificates at each start); warm page cache (one untimed round)"
for t in "${trees[@]}"; do
	v=$(readlink -f "$t/vmlinux")
	echo "tree $t: files on $(stat -f -c %T "$v")$([ "$(stat -f -c %T "$v")" = tmpfs ] || echo " (a page-cache-trimming VM makes reads go to disk between rounds: see bench/README.md, KLP_CORPUS)")"
done
round
rm -f "$out"/*.wall "$out"/*.cpu "$out"/*.rss
for _ in $(seq "$RUNS"); do round; done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
# row WORK OURS_KEY FLOOR_TEXT FLOOR_WALL FLOOR_CPU GOAL
row() {
	local o c
	o=$(med "$2" wall); c=$(med "$2" cpu)
	printf '| %-34s | %9s | %9s | %-34s | %9s | %9s | %7s | %9s | %-8s | %5s MiB |\n' "$1" "$(ms "$o")" "$(ms "$c")" "$3" "$(ms "$4")" "$(ms "$5")" \
		"$(ratio "$o" "$4")" "$(ratio "$c" "$5")" "$6" "$(maxrss "$2")"
}
node0=$(med node0 wall); node0c=$(med node0 cpu)
echo
echo "medians of $RUNS rounds; node start-up (node -e 0): $(ms "$node0") wall, $(ms "$node0c") cpu, $(maxrss node0) MiB"
printf '| %-34s | %9s | %9s | %-34s | %9s | %9s | %7s | %9s | %-8s | %9s |\n' work 'ours wall' 'ours cpu' 'floor is' 'floor' 'floor cpu' ratio 'cpu ratio' goal 'peak RSS'
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------------------ ----------- ----------- ------------------------------------ ----------- ----------- --------- ----------- ---------- -----------
for i in "${!trees[@]}"; do
	n=${names[$i]}
	c=$(med "floor-$n" wall); cc=$(med "floor-$n" cpu)
	mods=$(wc -l < "${trees[$i]}/modules.order")
	row "symbols 0.1, $n ($mods modules)" "sym01-$n" "C read floor $(ms "$c") + node" "$(sum "$c" "$node0")" "$(sum "$cc" "$node0c")" '<= 2x'
	row "  with -j 2 (one worker thread)" "sym01j2-$n" "C read floor $(ms "$c") + node" "$(sum "$c" "$node0")" "$(sum "$cc" "$node0c")" '<= 2x'
	row "  against Node's own read floor" "sym01-$n" "read-floor-node.mjs (one thread)" "$(med "nfloor-$n" wall)" "$(med "nfloor-$n" cpu)" '-'
	row "symbols ext, $n" "symext-$n" "our 0.1 run of $n" "$(med "sym01-$n" wall)" "$(med "sym01-$n" cpu)" '<= 1.2x'
done
for k in conv01 convext; do
	o=$(med $k wall)
	row "convert, $nlp names, ${names[$big]} $([ $k = conv01 ] && echo 0.1 || echo ext) map" $k \
		"node start-up (ours: +$(ms "$(awk -v a="$o" -v b="$node0" 'BEGIN { print a - b }')"))" "$node0" "$node0c" '<= +60ms'
done
o=$(med chkext wall)
row "check --target, ${names[$big]} ext map" chkext \
	"node start-up (ours: +$(ms "$(awk -v a="$o" -v b="$node0" 'BEGIN { print a - b }')"))" "$node0" "$node0c" '<= +60ms'
echo "load average at end: $load_end"
for n in "${names[@]}"; do
	cmp -s "$out/$n.klp" "$out/$n.j2.klp" || { echo "bench: $n: the -j 2 map differs from the default one" >&2; exit 1; }
	echo "$n: -j 2 wall / default (-j $(node -p 'require("os").availableParallelism() > 2 ? 2 : 1')) wall = $(ratio "$(med "sym01j2-$n" wall)" "$(med "sym01-$n" wall)")"
done
echo "maps: $(for i in "${!trees[@]}"; do n=${names[$i]}; printf '%s 0.1 %s bytes, ext %s bytes; ' "$n" "$(wc -c < "$out/$n.klp")" "$(wc -c < "$out/$n.klpx")"; done)"
if [ "${RECIPE:-0}" = 1 ]; then
	for i in "${!trees[@]}"; do
		n=${names[$i]}
		bash "$baseline" "${trees[$i]}" "$out/recipe-$n.klp"
		if cmp "$out/$n.klp" "$out/recipe-$n.klp"; then echo "$n: 0.1 map byte-identical to the recipe ($(wc -c < "$out/$n.klp") bytes)"; else echo "$n: 0.1 map DIFFERS from the recipe"; fi
	done
fi
