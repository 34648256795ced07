// Builds a small fake kernel build tree from gcc-built objects for the symbols.klp tests:
// a linked vmlinux-like ELF, modules (.o, .ko only, compressed), duplicates, a module with dashes,
// three livepatch modules (modinfo key, modules.livepatch, .mod marker), .mod files and an
// unsorted modules.order with a duplicate line. Tools missing -> `missing` names them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function haveTool(cmd: string, arg = '--version'): boolean {
  const r = spawnSync(cmd, [arg], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 1 << 28, ...opts });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.error?.message ?? ''}${r.stderr}`);
  }
  return r.stdout;
}

/** nmNames runs `LC_ALL=C nm -f posix FILE | cut -d' ' -f1` and returns the lines joined with \n (trailing \n). */
export function nmNames(file: string): string {
  const out = run('nm', ['-f', 'posix', file], { env: { ...process.env, LC_ALL: 'C' } });
  return out.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').map((l) => l.split(' ')[0]).join('\n') + (out.length ? '\n' : '');
}

const VMLINUX_A = `
int shared_counter;                      /* global, exported below */
int __ksymtab_shared_counter;            /* what EXPORT_SYMBOL leaves in vmlinux */
static int dup_state = 1;                /* same-named static in two files */
__attribute__((noinline, used)) static int dup_fn(int x) { return x + dup_state; }
__attribute__((weak)) int weak_hook(void) { return 0; }
__attribute__((section(".init.text"))) int early_setup(void) { return dup_fn(2); }
int a_entry(int x) { static int calls; calls++; return dup_fn(x) + calls; }
const char *a_str(void) { return "hello from a"; }
`;
const VMLINUX_B = `
static int dup_state = 2;
__attribute__((noinline, used)) static int dup_fn(int x) { return x * dup_state; }
__attribute__((noinline)) int b_entry(int x) { static int calls; calls += 2; return dup_fn(x) + calls; }
int ZZZ_last, aaa_first, Mixed_Case, _under, __under2;
`;
const VMLINUX_START = `
extern int a_entry(int), b_entry(int), early_setup(void), weak_hook(void);
void _start(void) { a_entry(1); b_entry(2); early_setup(); weak_hook(); for (;;) {} }
`;
const MOD_A1 = `
extern int shared_counter;
extern int printk(const char *, ...);
__attribute__((noinline, used)) static int helper(int x) { return x + shared_counter; }
static int dup_local = 3;
int mod_a_api(int x) { return helper(x) + dup_local; }
int __export_symbol_mod_a_api;
__attribute__((section(".init.text"))) int init_module(void) { return helper(1); }
static const char modinfo_license[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL";
`;
const MOD_A2 = `
__attribute__((noinline, used)) static int helper(int x) { return x - 1; }
static int dup_local = 4;
int mod_a_other(int x) { return helper(x) + dup_local; }
`;
const MOD_DASH = `
extern int mod_a_api(int);
__attribute__((noinline, used)) static int helper(int x) { return mod_a_api(x); }
int dash_fn(int x) { return helper(x); }
`;
const LP = (tag: string, modinfo: boolean): string => `
extern int dup_fn(int);
int lp_${tag}_fn(int x) { return dup_fn(x); }
${modinfo ? 'static const char lp_info[] __attribute__((section(".modinfo"), used, aligned(1))) = "author=me\\0livepatch=Y";' : ''}
static const char lic[] __attribute__((section(".modinfo"), used, aligned(1))) = "license=GPL\\0xlivepatch=N";
`;
const KO_ONLY = `
static int only_ko_state;
int ko_only_fn(void) { return only_ko_state++; }
`;
const COMP = (tag: string): string => `
static int comp_state;
int comp_${tag}_fn(void) { return comp_state++; }
__attribute__((noinline, used)) static int helper(void) { return 7; }
int comp_${tag}_g(void) { return helper(); }
`;

export interface SymbolsTree {
  root: string;
  tree: string;
  /** file-form names of modules whose blocks the recipe cannot produce (compressed) or keeps wrongly (modinfo-only livepatch) */
  compressed: { base: string; file: string; plain: string }[];
  modinfoLivepatch: string;
  cleanup(): void;
}

export function missingTools(): string[] {
  const need: [string, string][] = [['gcc', '--version'], ['ld', '--version'], ['nm', '--version'], ['readelf', '--version'], ['gzip', '--version'], ['xz', '--version'], ['zstd', '--version']];
  return need.filter(([c, a]) => !haveTool(c, a)).map(([c]) => c);
}

/** buildSymbolsTree compiles the sources and lays out the tree; takes ~1 s. */
export function buildSymbolsTree(): SymbolsTree {
  const root = mkdtempSync(join(tmpdir(), 'klp-symbols-'));
  const src = join(root, 'src');
  const tree = join(root, 'tree');
  mkdirSync(src);
  mkdirSync(tree);
  const cc = (name: string, code: string, extra: string[] = []): string => {
    const c = join(src, name + '.c');
    writeFileSync(c, code);
    const o = join(src, name + '.o');
    run('gcc', ['-c', '-O1', '-fno-pic', '-fno-asynchronous-unwind-tables', '-fno-common', ...extra, '-o', o, c]);
    return o;
  };
  const place = (rel: string, from: string): string => {
    const p = join(tree, rel);
    mkdirSync(dirname(p), { recursive: true });
    copyFileSync(from, p);
    return p;
  };
  // vmlinux: a static link of three objects (locals keep their STT_FILE owners)
  const va = cc('vm_a', VMLINUX_A), vb = cc('vm_b', VMLINUX_B), vs = cc('vm_start', VMLINUX_START);
  run('ld', ['-static', '-e', '_start', '-o', join(tree, 'vmlinux'), vs, va, vb]);
  // modules: <name>.o linked with ld -r like kbuild does for multi-object modules
  const ldr = (out: string, ...ins: string[]): string => {
    const p = join(tree, out);
    mkdirSync(dirname(p), { recursive: true });
    run('ld', ['-r', '-o', p, ...ins]);
    return p;
  };
  ldr('drivers/a/mod_a.o', cc('mod_a1', MOD_A1), cc('mod_a2', MOD_A2));
  writeFileSync(join(tree, 'drivers/a/mod_a.mod'), 'drivers/a/mod_a1.o drivers/a/mod_a2.o\n');
  ldr('fs/nls/mod-dash.o', cc('mod-dash', MOD_DASH));
  writeFileSync(join(tree, 'fs/nls/mod-dash.mod'), 'fs/nls/mod-dash.o\n');
  ldr('lp/lp_modinfo.o', cc('lp_modinfo', LP('modinfo', true)));
  ldr('lp/lp_listed.o', cc('lp_listed', LP('listed', false)));
  ldr('lp/lp_marker.o', cc('lp_marker', LP('marker', false)));
  writeFileSync(join(tree, 'lp/lp_marker.mod'), 'lp/lp_marker.o\nLIVEPATCH\n');
  writeFileSync(join(tree, 'modules.livepatch'), 'lp/lp_listed.o\n');
  place('misc/ko_only.ko', ldr('../src/ko_only.o', cc('ko_only_src', KO_ONLY)));
  const compressed: SymbolsTree['compressed'] = [];
  for (const [tag, tool, ext] of [['gz', 'gzip', '.ko.gz'], ['xz', 'xz', '.ko.xz'], ['zst', 'zstd', '.ko.zst']] as const) {
    const plain = ldr(`../src/comp_${tag}.ko`, cc(`comp_${tag}_src`, COMP(tag)));
    const file = join(tree, 'comp', `comp_${tag}${ext}`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(run(tool, tool === 'zstd' ? ['-q', '-c', plain] : ['-c', plain]), 'latin1'));
    compressed.push({ base: `comp_${tag}`, file, plain });
  }
  // unsorted, one duplicate line, .o and .ko entries mixed (both forms occur in real trees)
  writeFileSync(join(tree, 'modules.order'), [
    'misc/ko_only.ko', 'lp/lp_marker.o', 'fs/nls/mod-dash.o', 'drivers/a/mod_a.o', 'comp/comp_zst.o', 'comp/comp_gz.o',
    'lp/lp_listed.o', 'drivers/a/mod_a.o', 'comp/comp_xz.ko', 'lp/lp_modinfo.o',
  ].join('\n') + '\n');
  return { root, tree, compressed, modinfoLivepatch: 'lp_modinfo', cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** dropBlocks removes `*<name>` blocks from a 0.1 map text. */
export function dropBlocks(map: string, names: Set<string>): string {
  const out: string[] = [];
  let skip = false;
  for (const l of map.split('\n')) {
    if (l.startsWith('*')) skip = names.has(l.slice(1));
    if (!skip) out.push(l);
  }
  return out.join('\n');
}
