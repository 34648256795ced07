#!/bin/bash
# The quick-start demo: a small kernel-like tree built by gcc (test/fixtures/bin/x86_64: a linked
# vmlinux, a module with homonym statics, a module with a dash in its name) and a livepatch
# module that references unexported symbols of both. It writes the symbol maps, converts the
# livepatch, and shows and verifies the result. Everything goes to out/demo/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
fx=$here/test/fixtures/bin/x86_64
out=$here/out/demo
klp() { node "$here/dist/src/cli/main.js" "$@"; }
rm -rf "$out"
mkdir -p "$out/tree"
cp "$fx/vmlinux" "$fx/target_mod.ko" "$fx/keys-mod.ko" "$out/tree/"
printf 'target_mod.ko\nkeys-mod.ko\n' > "$out/tree/modules.order"

echo "== 1. symbol maps of the tree ($out/tree)"
klp symbols --objtree "$out/tree" -o "$out/symbols.klp"
klp symbols --objtree "$out/tree" --format ext -o "$out/symbols.klpx"
echo "   symbols.klp: $(wc -l < "$out/symbols.klp") lines (format 0.1), symbols.klpx: $(wc -l < "$out/symbols.klpx") lines (extended)"

echo
echo "== 2. convert a livepatch (lp_main.ko: unique, annotated and exported references)"
klp convert --symbols "$out/symbols.klp" "$fx/lp_main.ko" -o "$out/lp_main.ko" -v

echo
echo "== 3. list and verify its klp relocations"
klp check --symbols "$out/symbols.klpx" "$out/lp_main.ko"

echo
echo "== 4. an ambiguous reference is refused with every candidate and ready-to-paste fixes"
if klp convert --symbols "$out/symbols.klpx" "$fx/lp_err_ambiguous.ko" -o "$out/lp_err_ambiguous.ko"; then
	echo "unexpected: conversion succeeded" >&2
	exit 1
fi

echo
echo "== 5. ... and converts once the source file is named in a rules file"
echo 'vmlinux get_homonym file=kmod_vmlinux_a.c' > "$out/lp.resolve"
klp convert --symbols "$out/symbols.klpx" --resolve "$out/lp.resolve" "$fx/lp_err_ambiguous.ko" -o "$out/lp_err_ambiguous.ko" -v
klp dump -r "$out/lp_err_ambiguous.ko" | grep -A3 "klp.rela"
echo
echo "demo done: outputs in $out"
