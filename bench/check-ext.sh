#!/bin/bash
# bench/check-ext.sh TREE — slow-tier check of the extended map on a real kernel tree, computed
# independently of our code: vmlinux positions from `nm -n` filtered with Linux 6.12's
# scripts/mksysmap sed rules and scripts/kallsyms.c's type rules; module positions from
# `readelf -sW` (bench/check-ext-modules.mjs). Prints counts and mismatches (expect 0).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
T=${1:?usage: bench/check-ext.sh TREE}
[ -d "$T" ] || T=${KLP_CORPUS:-/root/.cache/klp-corpus}/$T/tree
tmp=$(mktemp -d /tmp/klp-checkext.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
node "$here/dist/src/cli/main.js" symbols --format ext --objtree "$T" -o "$tmp/map" >/dev/null
LC_ALL=C nm -n "$T/vmlinux" | sed -e '/ [aNUw] /d' -e '/ \$/d' -e '/ \.L/d' -e '/ __efistub_/d' -e '/ __pi_\$/d' -e '/ __pi_\.L/d' \
  -e '/ __kvm_nvhe_\$/d' -e '/ __kvm_nvhe_\.L/d' -e '/ __[[:alnum:]]*Thunk_/d' -e '/ __kcfi_typeid_/d' -e '/ __kvm_nvhe___kcfi_typeid_/d' \
  -e '/ __pi___kcfi_typeid_/d' -e '/ __crc_/d' -e '/ __kstrtab_/d' -e '/ __kstrtabns_/d' -e '/_from_arm$/d' -e '/_from_thumb$/d' -e '/_veneer$/d' \
  -e '/ L0$/d' -e '/ _SDA_BASE_$/d' -e '/ _SDA2_BASE_$/d' -e '/\.long_branch\./d' -e '/\.plt_branch\./d' \
  | awk '$2 != "u" && $2 != "n" && !($2 == "A" && $3 != "__gp" && $3 != "__kernel_sigtramp" && $3 != "__kernel_syscall_via_break" && $3 != "__kernel_syscall_via_epc") { print $1, $3 }' > "$tmp/nm"
node --input-type=module -e '
import { readFileSync } from "node:fs";
const { loadSymbolMap } = await import(process.argv[3] + "/dist/src/klp/symbol-map.js");
const want = new Map();
for (const l of readFileSync(process.argv[2], "latin1").split("\n")) { if (!l) continue; const [a, n] = l.split(" "); (want.get(n) ?? want.set(n, []).get(n)).push(a); }
const m = loadSymbolMap(process.argv[1], new Set(want.keys()));
let bad = 0, dups = 0, total = 0;
for (const [n, addrs] of want) {
  const c = m.lookup(n).filter((x) => x.object === "vmlinux");
  total += addrs.length; if (addrs.length > 1) dups++;
  if (c.length !== addrs.length || c.some((x, i) => x.pos !== i + 1 || x.count !== addrs.length)) { if (bad++ < 5) console.log("MISMATCH", n, addrs.length, c.length); }
}
const listed = readFileSync(process.argv[1], "latin1").split("\n*")[1].split("\n").filter((l) => l && !l.startsWith("@")).length - 1;
console.log(`vmlinux: ${total} kallsyms symbols (nm -n + mksysmap), ${want.size} names, ${dups} duplicated; ext lists ${listed}; mismatches ${bad}`);
' "$tmp/map" "$tmp/nm" "$here"
node "$here/bench/check-ext-modules.mjs" "$T" "$tmp/map"
