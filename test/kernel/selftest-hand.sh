#!/bin/bash
# Self-test of the kernel harness, independent of the TypeScript converter: convert the test
# livepatches with hand-convert.py, using objects and positions worked out by hand for the
# 6.12 test kernel, then run run.sh's boot cases on them (KLP_CONVERTED).  Every boot case should
# pass; if one fails here, the case (or the kernel setup) is wrong, not klp-convert.
#
#   test/kernel/selftest-hand.sh        (same environment variables as run.sh)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${KLP_WORK:-$here/work}
if [ -n "${KLP_KERNEL_TREE:-}" ]; then
	tree=$KLP_KERNEL_TREE
else
	tree=$(bash "$here/build-kernel.sh" | tail -n1)
fi
mods=$work/modules
mkdir -p "$work"
# shellcheck source=lib.sh
. "$here/lib.sh"
build_test_modules "$tree" "$mods" "$repo" "$work/modules-build.log" || {
	echo "selftest-hand: module build failed, see $work/modules-build.log" >&2
	exit 1
}

out=$work/hand
rm -rf "$out"
mkdir -p "$out"
m=test_klp_convert_mod
hc() { python3 "$here/hand-convert.py" "$mods/$1.ko" "$out/$1.ko" "${@:2}"; }
hc test_klp_convert1 saved_command_line=vmlinux,0 driver_name=$m,0 test_klp_get_driver_name=$m,0 \
	homonym_string=$m,1 get_homonym_string=$m,1 klp_string.12345=$m,0 klp_string.67890=$m,1
hc test_klp_convert2 saved_command_line=vmlinux,0 driver_name=$m,0 test_klp_get_driver_name=$m,0 \
	homonym_string=$m,2 get_homonym_string=$m,2
hc test_klp_convert3 saved_command_line=vmlinux,0 homonym_string=$m,2 get_homonym_string=$m,1 \
	klp_string.12345=$m,0
hc test_klp_convert_sections saved_command_line=vmlinux,0 test_klp_get_driver_name=$m,0 \
	get_homonym_string=$m,1
data=()
for v in global_small const_global_small static_small static_const_small local_small \
	static_local_small read_mostly global_large const_global_large static_large static_const_large; do
	data+=("data_$v=$m,0")
done
hc test_klp_convert_data "${data[@]}"
hc test_klp_convert_keys tracepoint_printk_key=vmlinux,0
# ucode_path: intel.c's copy has the lower address, so amd.c's is the 2nd in kallsyms order.
hc test_klp_convert_dup ucode_path=vmlinux,2
hc test_klp_convert_dash dash_string=test_klp_dash_mod,0 dash_get_string=test_klp_dash_mod,0
hc test_klp_convert_wrongpos saved_command_line=vmlinux,0 driver_name=$m,0 \
	test_klp_get_driver_name=$m,0 homonym_string=$m,3 get_homonym_string=$m,2

KLP_CONVERTED=$out KLP_KERNEL_TREE=$tree exec bash "$here/run.sh"
