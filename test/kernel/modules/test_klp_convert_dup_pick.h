/* The copies the dup livepatch reads: test/kernel/dup-pick.mjs writes this file for the kernel
 * under test (the numbers gcc gave the __func__ strings of microcode/amd.c and cpu/amd.c there).
 * These defaults are the 6.12 x86_64 test kernel's. */
#define DUP_UCODE_FUNC "__func__.2"
#define DUP_CPU_FUNC "__func__.3"
