#!/bin/bash
# bench/ext-reads.sh — what the ext map's reads cost by themselves, against the 0.1 map's.
#
#   bash bench/ext-reads.sh                 # cloud and full corpora, when fetched
#   RUNS=9 bash bench/ext-reads.sh cloud    # any of: cloud, full, a kbuild-like TREE
#
# For each tree, one run of ours per format is traced with strace (every pread64 of vmlinux and
# of the tree's .ko/.o files, with its offset and length; untimed). bench/read-replay.c, built
# here with gcc -O2, then makes exactly those opens and preads in C and nothing else. The two
# replays are the floor of each format's reading as we do it: what the run would cost if
# everything but the file system calls were free. The table sets the ext replay's extra time
# beside the allowance of the ext goal (ext <= 1.2x our 0.1 run: 0.2x the 0.1 run), both measured
# in this run. (A floor of our read pattern, not of every possible one: reading whole DWARF
# sections would make fewer calls and copy more bytes.)
#
# Needs strace (apt-get install strace), gcc, GNU time. NODE_EXTRA_CA_CERTS is unset, as in speed.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
unset NODE_EXTRA_CA_CERTS
cli=${KLP_CLI:-$here/dist/klp-convert.cjs}
RUNS=${RUNS:-7}
corpus=${KLP_CORPUS:-/root/.cache/klp-corpus}
command -v strace >/dev/null || { echo "bench: strace is required (apt-get install strace)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "bench: gcc is required for the replay" >&2; exit 1; }

pick_trees "$@"

out=$(mktemp -d /tmp/klp-ext-reads.XXXXXX)
trap 'rm -rf "$out"' EXIT
gcc -O2 -o "$out/read-replay" "$here/bench/read-replay.c"

# reads TREE FORMAT LIST: traces one run of ours and writes its reads of the tree's objects to LIST
reads() {
	local tree=$1 format=$2 list=$3 vmlinux
	vmlinux=$(readlink -f "$tree/vmlinux")
	strace -f -y -s 0 -e trace=pread64 -o "$out/trace" node "$cli" symbols --format "$format" --objtree "$tree" -o "$out/map" >/dev/null 2>&1
	# PID  pread64(FD<PATH>, ""..., LENGTH, OFFSET) = N
	awk -v vm="$vmlinux" '
		/ pread64\(/ {
			s = index($0, "<"); e = index($0, ">, \"\"...");
			if (s == 0 || e == 0) next
			path = substr($0, s + 1, e - s - 1)
			if (path != vm && path !~ /\.(ko|o)$/) next
			rest = substr($0, e + 8) # ", LENGTH, OFFSET) = N"
			gsub(/[^0-9]+/, " ", rest)
			split(rest, f)
			printf "%s\t%s\t%s\n", path, f[2], f[1]
		}' "$out/trace" > "$list"
	[ -s "$list" ] || { echo "bench: no reads of $tree seen in the trace (strace -y needed)" >&2; exit 1; }
}

# time_runs KEY CMD...: RUNS runs after one untimed; wall seconds to $out/KEY
time_runs() {
	local key=$1; shift
	"$@" >/dev/null 2>&1
	for _ in $(seq "$RUNS"); do
		local t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1
		awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }' >> "$out/$key"
	done
}
ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }

machine_header
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); NODE_EXTRA_CA_CERTS unset; medians of $RUNS runs; warm page cache"
printf '| %-8s | %-6s | %9s | %9s | %12s | %12s |\n' tree format reads MB 'C replay' 'ours (wall)'
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- -------- ----------- ----------- -------------- --------------
for i in "${!trees[@]}"; do
	t=${trees[$i]} n=${names[$i]}
	for f in 0.1 ext; do
		reads "$t" "$f" "$out/$n-$f.list"
		# the replay's own output, checked once: it read what the trace says
		"$out/read-replay" "$out/$n-$f.list" > "$out/$n-$f.replay"
		time_runs "$n-$f-replay" "$out/read-replay" "$out/$n-$f.list"
		time_runs "$n-$f-ours" node "$cli" symbols --format "$f" --objtree "$t" -o "$out/map"
		r=$(median < "$out/$n-$f-replay") o=$(median < "$out/$n-$f-ours")
		printf '| %-8s | %-6s | %9s | %9s | %12s | %12s |\n' "$n" "$f" "$(cut -d' ' -f1 "$out/$n-$f.replay")" \
			"$(awk '{ printf "%.1f", $3 / 1e6 }' "$out/$n-$f.replay")" "$(ms "$r")" "$(ms "$o")"
		echo "$r $o" > "$out/$n-$f.med"
	done
done
echo
for n in "${names[@]}"; do
	read -r r01 o01 < "$out/$n-0.1.med"
	read -r rx ox < "$out/$n-ext.med"
	echo "$n: the ext reads alone cost $(ms "$(awk -v a="$rx" -v b="$r01" 'BEGIN { print a - b }')") more than the 0.1 reads in C;" \
		"the ext goal (<= 1.2x our 0.1 run) allows $(ms "$(awk -v o="$o01" 'BEGIN { print 0.2 * o }')") more than the 0.1 run in all;" \
		"ours takes $(ms "$(awk -v a="$ox" -v b="$o01" 'BEGIN { print a - b }')") more"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
