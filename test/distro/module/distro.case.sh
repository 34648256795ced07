# guest script of test/distro/run.sh (sourced by test/kernel/guest-init.sh as /cases/distro.sh)
step cat /proc/cmdline
ins klp_distro_unconverted
ins klp_distro_cmdline
lpwait klp_distro_cmdline
step cat /proc/cmdline
step sh -c 'echo 0 > /sys/kernel/livepatch/klp_distro_cmdline/enabled'
lpwait klp_distro_cmdline
step cat /proc/cmdline
