// Builds, with the system gcc and ld, a small kernel-like build tree whose static symbols repeat
// in files of the same basename in different directories (the case `file=<path>` is for):
//
//   vmlinux  (ld -static; -Map vmlinux.map is the oracle for which object each address came from)
//     arch/x86/kernel/cpu/proc.c  crypto/proc.c  fs/proc/consoles.c   static c_start(), c_cold(), c_state
//     lib/tbl.c  net/tbl.c                                            static tbl_val (data only)
//   drivers/foo/foo.ko  (ld -r, -Map foo.map)
//     drivers/foo/a/util.c  drivers/foo/b/util.c                      static util_get(), util_state
//   lp.ko    a livepatch module referencing all of them
//
// Every compile runs in the tree root with a relative source path, as kbuild does, so DW_AT_name
// is `arch/x86/kernel/cpu/proc.c` and DW_AT_comp_dir the tree. `debug` picks the DWARF flags:
// '-gdwarf-5', '-gdwarf-4', 'zlib' or '' (no DWARF: paths
// then come from the tree's .o files, which are kept); 'zlib' is -gdwarf-5 with the linked
// files' debug sections compressed (SHF_COMPRESSED, ld --compress-debug-sections=zlib).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// the copies differ in size (code, array length): without DWARF, names and sizes are what
// tells the objects apart
const PROC = (n: number, entry: string): string => `
static int c_state[${n}] __attribute__((used)) = { ${n} };
__attribute__((noinline, used)) static int c_start(int x) { int s = 0; for (int i = 0; i < ${n}; i++) s = s * x + c_state[i] + i; return s; }
/* a second code section: the unit's code is then a DW_AT_ranges list (.debug_rnglists / .debug_ranges) */
__attribute__((noinline, used, section(".text.unlikely"))) static int c_cold(int x) { return x - ${n}; }
int ${entry}(void) { return c_start(${n}) + c_cold(${n}); }
`;
const TBL = (n: number, entry: string): string => `
static int tbl_val[${n}] = { ${n} };
int *${entry}(void) { return tbl_val; }
`;
const UTIL = (n: number, entry: string): string => `
static long util_state[${n}] __attribute__((used)) = { ${n} };
__attribute__((noinline, used)) static long util_get(void) { long s = 0; for (int i = 0; i < ${n}; i++) s += util_state[i] * ${n}; return s; }
long ${entry}(void) { return util_get(); }
`;

export const SOURCES: Record<string, string> = {
  'init/start.c': `
extern int cpu_entry(void), crypto_entry(void), consoles_entry(void);
extern int *lib_tbl(void), *net_tbl(void);
void _start(void) { cpu_entry(); crypto_entry(); consoles_entry(); lib_tbl(); net_tbl(); for (;;) {} }
`,
  // link order below is not alphabetical: crypto's copy comes first in address order
  'crypto/proc.c': PROC(2, 'crypto_entry'),
  'arch/x86/kernel/cpu/proc.c': PROC(1, 'cpu_entry'),
  'fs/proc/consoles.c': PROC(3, 'consoles_entry'),
  'net/tbl.c': TBL(2, 'net_tbl'),
  'lib/tbl.c': TBL(1, 'lib_tbl'),
  'drivers/foo/b/util.c': UTIL(2, 'foo_b'),
  'drivers/foo/a/util.c': UTIL(1, 'foo_a'),
  'drivers/foo/main.c': `
extern long foo_a(void), foo_b(void);
long foo_init(void) { return foo_a() + foo_b(); }
static const char lic[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL";
`,
  'lp/lp.c': `
extern int c_state[], tbl_val[];
extern long util_state[];
extern int c_start(int);
long lp_use(void) { return c_state[0] + c_start(1) + tbl_val[0] + util_state[0]; }
static const char lp_info[] __attribute__((section(".modinfo"), used, aligned(1))) = "livepatch=Y";
static const char lp_lic[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL";
`,
};

export const VMLINUX_OBJS = ['init/start.o', 'crypto/proc.o', 'arch/x86/kernel/cpu/proc.o', 'fs/proc/consoles.o', 'net/tbl.o', 'lib/tbl.o'];
export const MODULE_OBJS = ['drivers/foo/b/util.o', 'drivers/foo/a/util.o', 'drivers/foo/main.o'];

const CFLAGS = ['-O2', '-fno-pic', '-ffreestanding', '-fno-stack-protector', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-fno-common'];

function sh(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr}`);
}

/**
 * buildPathsTree builds the tree in a new temporary directory and returns its path; `cross` is a
 * toolchain prefix (`s390x-linux-gnu-`) for another target.
 */
export function buildPathsTree(debug: string, cross = ''): string {
  const root = mkdtempSync(join(tmpdir(), 'klp-paths-'));
  const flags = debug === '' ? [] : debug === 'zlib' ? ['-gdwarf-5'] : debug.split(' ');
  const ldFlags = debug === 'zlib' ? ['--compress-debug-sections=zlib'] : [];
  for (const [file, text] of Object.entries(SOURCES)) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    writeFileSync(join(root, file), text);
    sh(`${cross}gcc`, [...CFLAGS, ...flags, '-c', file, '-o', file.replace(/\.c$/, '.o')], root);
  }
  sh(`${cross}ld`, ['-static', '-e', '_start', '--build-id=none', ...ldFlags, '-Map=vmlinux.map', '-o', 'vmlinux', ...VMLINUX_OBJS], root);
  sh(`${cross}ld`, ['-r', ...ldFlags, '-Map=drivers/foo/foo.map', '-o', 'drivers/foo/foo.ko', ...MODULE_OBJS], root);
  sh(`${cross}ld`, ['-r', '-o', 'lp/lp.ko', 'lp/lp.o'], root);
  writeFileSync(join(root, 'modules.order'), 'drivers/foo/foo.ko\n');
  return root;
}

/**
 * mapObjects parses a GNU ld map file: the input sections it placed, each with the output
 * section it went to, its address (ET_EXEC) or offset in that output section (ld -r), size and
 * object file.
 */
export function mapObjects(text: string): { section: string; start: bigint; size: bigint; object: string }[] {
  const out: { section: string; start: bigint; size: bigint; object: string }[] = [];
  const lines = text.split('\n');
  const body = lines.findIndex((l) => l.startsWith('Linker script and memory map'));
  let output = '';
  let pending = false;
  for (const l of lines.slice(body + 1)) {
    const head = /^(\.\S+)(\s|$)/.exec(l); // an output section starts in column 0
    const one = /^ (\.\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$/.exec(l);
    const cont = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$/.exec(l);
    if (head) {
      output = head[1]!;
      pending = false;
    } else if (one) {
      out.push({ section: output, start: BigInt('0x' + one[2]), size: BigInt('0x' + one[3]), object: one[4]! });
      pending = false;
    } else if (cont && pending) {
      out.push({ section: output, start: BigInt('0x' + cont[1]), size: BigInt('0x' + cont[2]), object: cont[3]! });
      pending = false;
    } else {
      pending = /^ \.\S+$/.test(l); // a long input section name, its numbers on the next line
    }
  }
  return out;
}

/** objdumpSymbols parses `objdump -t`: value, local/global, section and name of each symbol. */
export function objdumpSymbols(text: string): { value: bigint; local: boolean; section: string; name: string }[] {
  const out: { value: bigint; local: boolean; section: string; name: string }[] = [];
  for (const l of text.split('\n')) {
    const m = /^([0-9a-f]{8,16}) (.{7}) (\S+)\s+[0-9a-f]+\s+(\S+)$/.exec(l);
    if (!m) continue;
    out.push({ value: BigInt('0x' + m[1]), local: m[2]![0] === 'l', section: m[3]!, name: m[4]! });
  }
  return out;
}
