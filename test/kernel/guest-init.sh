#!/bin/sh
# /init of the test initramfs (busybox). Runs one test case, chosen by
# klptest=<case> on the kernel command line, from /cases/<case>.sh, then
# powers the VM off with "reboot -f" (qemu runs with -no-reboot, so it exits).
#
# Output protocol on the serial console, read by run.sh:
#   KLPT <text>   a line from this script (commands, exit codes, values)
#   O: <text>     output of a command run by a step
#   K: <text>     a kernel log line (timestamp stripped), dumped after each step
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Only errors and worse on the console from now on; the full log is dumped
# with prefixes by klog, so kernel lines cannot break this script's lines.
dmesg -n 4

klog() {
	dmesg -c | sed -e 's/^\[ *[0-9]*\.[0-9]*\] //' -e 's/^/K: /'
}

# step CMD...: run a command, print its output and exit code, then the kernel log.
step() {
	echo "KLPT \$ $*"
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && echo "$out" | sed 's/^/O: /'
	echo "KLPT rc=$rc"
	klog
}

ins() { step insmod "/lib/klp/$1.ko"; }
rmm() { step rmmod "$1"; }

# lpwait LP: wait (at most 15 s) for the patch transition to finish, then report.
lpwait() {
	d=/sys/kernel/livepatch/$1
	if [ ! -d "$d" ]; then
		echo "KLPT enabled $1=absent"
		klog
		return
	fi
	i=0
	while [ "$(cat "$d/transition")" != 0 ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "KLPT enabled $1=$(cat "$d/enabled") transition=$(cat "$d/transition")"
	klog
}

# dbg LP: make the livepatch print the values it reads through klp relocations.
dbg() { step sh -c "echo 1 > /sys/module/$1/parameters/print_debug"; }

# param MOD NAME: print a module parameter.
param() {
	echo "KLPT param $1.$2=$(cat "/sys/module/$1/parameters/$2" 2>&1)"
	klog
}

case_name=
for arg in $(cat /proc/cmdline); do
	case $arg in
	klptest=*) case_name=${arg#klptest=} ;;
	esac
done

echo "KLPT begin $case_name"
echo "KLPT cmdline $(cat /proc/cmdline)"
echo "KLPT kernel $(uname -r)"
klog
if [ -n "$case_name" ] && [ -f "/cases/$case_name.sh" ]; then
	# shellcheck disable=SC1090
	. "/cases/$case_name.sh"
else
	echo "KLPT no such case: '$case_name'"
fi
klog
echo "KLPT end"
sync
reboot -f
sleep 5
