// SPDX-License-Identifier: GPL-2.0
/*
 * A module shaped like klp-build's output before `objtool klp post-link` (7.2: klp-diff.c
 * clone_reloc_klp): the call to pt_regs_offset() goes to a weak undefined tombstone, and a
 * __klp_relocs.vmlinux entry asks for `.klp.sym.vmlinux.pt_regs_offset,KLPB_POS` at that place.
 * pt_regs_offset is a global function of arch/x86/lib/insn-eval.c and a static array of
 * arch/x86/kernel/perf_regs.c; klp-build gives the global position 0 (klp-sympos.c
 * klp_find_sympos), which the kernel refuses for a name kallsyms holds twice. KLPB_POS=1 is the
 * function's real position (it has the lower address). init.c is scripts/livepatch/init.c.
 */
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/livepatch_external.h>
#include <asm/asm.h>

#define STR_(x) #x
#define STR(x) STR_(x)

asm(".weak \".klp.tombstone.pt_regs_offset\"\n"
    ".weak \".klp.sym.vmlinux.pt_regs_offset," STR(KLPB_POS) "\"\n"
    ".type \".klp.sym.vmlinux.pt_regs_offset," STR(KLPB_POS) "\", @function\n");

static noinline int klpb_pt_regs_offset(void)
{
	int ret;

	/* pt_regs_offset(NULL, 3): the offset of bx in struct pt_regs (40) */
	asm volatile("xor %%edi, %%edi\n\t"
		     "mov $3, %%esi\n"
		     "1:\tcall \".klp.tombstone.pt_regs_offset\"\n"
		     "\t.pushsection __klp_relocs.vmlinux, \"a\", @progbits\n"
		     "\t.balign 8\n"
		     "\t.quad 1b + 1\n"
		     "\t.quad \".klp.sym.vmlinux.pt_regs_offset," STR(KLPB_POS) "\" - 4\n"
		     "\t.long 4\n"	/* R_X86_64_PLT32 */
		     "\t.long 0\n"
		     "\t.popsection\n"
		     : "=a" (ret), ASM_CALL_CONSTRAINT
		     : : "rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	return ret;
}

static int livepatch_version_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "klpb-sympos pos=%d pt_regs_offset(bx)=%d\n", KLPB_POS, klpb_pt_regs_offset());
	return 0;
}

static struct klp_func_ext funcs[] __section(".init.klp_funcs") __used = {
	{ .old_name = "version_proc_show", .new_func = livepatch_version_proc_show, .sympos = 0 },
};

static struct klp_object_ext objs[] __section(".init.klp_objects") __used = {
	{ .name = NULL, .funcs = funcs, .nr_funcs = 1 },
};
