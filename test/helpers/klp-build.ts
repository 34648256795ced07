// klp-build modules for the tests: a gcc-built object shaped like klp-build's pre-post-link
// module (5-kmod/<name>.ko.orig: what `objtool klp diff` writes, linked), the oracle objtool that
// finishes it (`objtool klp post-link`), and views of klp relocations and klp symbols read by our
// dump and by readelf, for comparing outputs as multisets.
//
// The format (7.2 tools/objtool/klp-diff.c clone_reloc_klp, include/objtool/klp.h): each klp
// relocation is a struct klp_reloc { void *offset; void *sym; u32 type; } (24 bytes) in
// `__klp_relocs.<obj>`, relocated by R_X86_64_64 against the place (a section symbol + offset)
// and against the weak undefined `.klp.sym.<obj>.<name>,<pos>` (+ the addend); the place's own
// relocation names a weak undefined `.klp.tombstone.<name>`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './klp-world.js';
import { readelf } from './readelf.js';

export const OBJTOOL_SKIP = 'no objtool with klp support: build the 7.2 test kernel (KLP_KERNEL=7.2 npm run test:kernel) or set KLP_OBJTOOL ' +
  '(an objtool built with libxxhash-dev installed; `objtool klp` must not say "not implemented")';

/** klpObjtool finds the oracle: $KLP_OBJTOOL, else the cached 7.2 tree's, else the klp-build harness tree's; undefined if none has `klp post-link`. */
export function klpObjtool(): string | undefined {
  const cache = join(homedir(), '.cache/klp-convert');
  const candidates: string[] = [];
  if (process.env.KLP_OBJTOOL) candidates.push(process.env.KLP_OBJTOOL);
  candidates.push(join(cache, 'kernel/current-7.2-x86_64/tools/objtool/objtool'));
  const kb = join(cache, 'klp-build');
  if (existsSync(kb)) for (const d of readdirSync(kb).sort()) candidates.push(join(kb, d, 'linux/tools/objtool/objtool'));
  for (const c of candidates) {
    if (existsSync(c)) {
      // a snapshot: another run may rebuild that tree's objtool while the tests use it
      const dir = mkdtempSync(join(tmpdir(), 'klpt-objtool-'));
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      const copy = join(dir, 'objtool');
      try {
        copyFileSync(c, copy);
        chmodSync(copy, 0o755);
        if (klpCapable(copy)) return copy;
      } catch {
        // vanished or half-written: try the next one
      }
    }
    if (process.env.KLP_OBJTOOL === c) return undefined; // told which one: no falling back
  }
  return undefined;
}

function klpCapable(objtool: string): boolean {
  const r = spawnSync(objtool, ['klp'], { encoding: 'utf8' });
  const said = `${r.stdout}${r.stderr}`;
  return /post-link/.test(said) && !/not implemented/.test(said);
}

/** one klp relocation of the test module: its table, the klp symbol, the type and addend post-link copies */
interface Entry { table: string; site: string; klp: string; type: number; addend: number }

export interface KlpBuildKnobs {
  /** name of the first vmlinux entry's klp symbol (default `.klp.sym.vmlinux.get_homonym,1`) */
  firstKlp?: string;
  /** position of `homonym` (default 3) */
  homonymPos?: number;
  /** the sym field of the first entry names this symbol instead (e.g. 'exported_func') */
  firstSymField?: string;
  /** the offset field of the first entry names this place instead of `.Ls1+1` */
  firstOffset?: string;
  /** asm appended to / prepended to the vmlinux table (truncation, misalignment) */
  tableTail?: string;
  tableHead?: string;
  /** declare only the vmlinux klp_object_ext (the target_mod relocations then belong to no object) */
  onlyVmlinuxObject?: boolean;
  /** an extra vmlinux entry for `dup_global_local`, a global klp-build gives position 0 */
  globalPos0?: boolean;
  /** the klp symbol of the target_mod data entry (default `.klp.sym.target_mod.mod_homonym,1`) */
  modDataKlp?: string;
}

/** asm of the module: patched functions, their sites, the __klp_relocs tables */
function moduleAsm(k: KlpBuildKnobs): string {
  const first = k.firstKlp ?? '.klp.sym.vmlinux.get_homonym,1';
  const hpos = k.homonymPos ?? 3;
  const entries: Entry[] = [
    { table: 'vmlinux', site: k.firstOffset ?? '.Ls1+1', klp: first, type: 4, addend: -4 },
    { table: 'vmlinux', site: '.Ls2+2', klp: `.klp.sym.vmlinux.homonym,${hpos}`, type: 2, addend: -4 },
    { table: 'vmlinux', site: '.Ls3+2', klp: `.klp.sym.vmlinux.homonym,${hpos}`, type: 2, addend: 4 },
    { table: 'vmlinux', site: '.Ls5+3', klp: '.klp.sym.vmlinux.vmlinux_unique_func,0', type: 11, addend: 0 },
    { table: 'target_mod', site: '.Lm1+1', klp: '.klp.sym.target_mod.get_mod_homonym,2', type: 4, addend: -4 },
    { table: 'target_mod', site: '.Lp1', klp: k.modDataKlp ?? '.klp.sym.target_mod.mod_homonym,1', type: 1, addend: 0 },
  ];
  if (k.globalPos0) entries.push({ table: 'vmlinux', site: '.Ls6+1', klp: '.klp.sym.vmlinux.dup_global_local,0', type: 4, addend: -4 });
  const klpTypes = new Map<string, string>([
    [first, 'function'], [`.klp.sym.vmlinux.homonym,${hpos}`, 'object'], ['.klp.sym.vmlinux.vmlinux_unique_func,0', 'function'],
    ['.klp.sym.target_mod.get_mod_homonym,2', 'function'], [k.modDataKlp ?? '.klp.sym.target_mod.mod_homonym,1', 'object'],
  ]);
  if (k.globalPos0) klpTypes.set('.klp.sym.vmlinux.dup_global_local,0', 'function');
  const q = (s: string): string => `"${s}"`;
  const L: string[] = [];
  for (const t of ['get_homonym', 'homonym', 'vmlinux_unique_func', 'get_mod_homonym', 'mod_homonym', 'dup_global_local']) L.push(`\t.weak ${q('.klp.tombstone.' + t)}`);
  for (const [n, ty] of klpTypes) L.push(`\t.weak ${q(n)}`, `\t.type ${q(n)}, @${ty}`);
  L.push(
    '\t.section .text.lpkb_fn,"ax",@progbits', '\t.globl lpkb_fn', '\t.type lpkb_fn, @function', 'lpkb_fn:',
    '.Ls1:\tcall ".klp.tombstone.get_homonym"',
    '.Ls2:\tmovl ".klp.tombstone.homonym"(%rip), %eax',
    '.Ls3:\tmovl ".klp.tombstone.homonym"+8(%rip), %edx',
    '.Ls4:\tcall exported_func',
    '.Ls5:\tmovq $".klp.tombstone.vmlinux_unique_func", %rax',
    ...(k.globalPos0 ? ['.Ls6:\tcall ".klp.tombstone.dup_global_local"'] : []),
    '\tret', '\t.size lpkb_fn, .-lpkb_fn',
    '\t.section .text.lpkb_mod_fn,"ax",@progbits', '\t.globl lpkb_mod_fn', '\t.type lpkb_mod_fn, @function', 'lpkb_mod_fn:',
    '.Lm1:\tcall ".klp.tombstone.get_mod_homonym"', '\tret', '\t.size lpkb_mod_fn, .-lpkb_mod_fn',
    '\t.section .data.lpkb_ptrs,"aw",@progbits', '\t.balign 8', '.Lp1:\t.quad ".klp.tombstone.mod_homonym"',
  );
  for (const table of ['vmlinux', 'target_mod']) {
    L.push(`\t.section __klp_relocs.${table},"a",@progbits`, '\t.balign 8');
    if (table === 'vmlinux' && k.tableHead) L.push(k.tableHead);
    entries.filter((e) => e.table === table).forEach((e, i) => {
      const sym = i === 0 && table === 'vmlinux' && k.firstSymField ? k.firstSymField : q(e.klp);
      L.push(`\t.quad ${e.site}`, `\t.quad ${sym}${e.addend >= 0 ? '+' : ''}${e.addend}`, `\t.long ${e.type}`, '\t.long 0');
    });
    if (table === 'vmlinux' && k.tableTail) L.push(k.tableTail);
  }
  return L.join('\n') + '\n';
}

/** C of the module: modinfo, and the .init.klp_objects / .init.klp_funcs tables klp diff writes (7.2 livepatch_external.h) */
function moduleC(k: KlpBuildKnobs): string {
  return `
struct klp_func_ext { const char *old_name; void *new_func; unsigned long sympos; };
struct klp_callbacks { void *pre_patch, *post_patch, *pre_unpatch, *post_unpatch; _Bool post_unpatch_enabled; };
struct klp_object_ext { const char *name; struct klp_func_ext *funcs; struct klp_callbacks callbacks; unsigned int nr_funcs; };
extern int lpkb_fn(void), lpkb_mod_fn(void);
__attribute__((section(".modinfo"), used)) static const char lp_tag[] = "livepatch=Y";
__attribute__((section(".modinfo"), used)) static const char lp_name[] = "name=lpkb";
static struct klp_func_ext vm_funcs[] __attribute__((section(".init.klp_funcs"), used)) = { { "get_homonym", lpkb_fn, 2 } };
static struct klp_func_ext mod_funcs[] __attribute__((section(".init.klp_funcs"), used)) = { { "get_mod_homonym", lpkb_mod_fn, 1 } };
static struct klp_object_ext objs[] __attribute__((section(".init.klp_objects"), used)) = {
  { 0, vm_funcs, { 0 }, 1 },${k.onlyVmlinuxObject ? '' : '\n  { "target_mod", mod_funcs, { 0 }, 1 },'}
};
`;
}

/**
 * buildPrePostLink compiles and links (ld -r, with a __this_module) a module shaped like
 * klp-build's 5-kmod/<name>.ko.orig into dir/<name>.ko.orig and returns its path.
 */
export function buildPrePostLink(dir: string, name: string, knobs: KlpBuildKnobs = {}): string {
  writeFileSync(join(dir, `${name}.s`), moduleAsm(knobs));
  writeFileSync(join(dir, `${name}_tables.c`), moduleC(knobs));
  writeFileSync(join(dir, 'this_module.c'), '__attribute__((section(".gnu.linkonce.this_module"))) char __this_module[64];\n');
  const objs: string[] = [];
  for (const src of [`${name}.s`, `${name}_tables.c`, 'this_module.c']) {
    const o = join(dir, src.replace(/\.[sc]$/, '.o'));
    const r = spawnSync('gcc', ['-c', '-O2', '-fno-pic', '-mcmodel=kernel', '-ffreestanding', '-fno-common', '-o', o, join(dir, src)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `gcc ${src}: ${r.stderr}`);
    objs.push(o);
  }
  const out = join(dir, `${name}.ko.orig`);
  const l = spawnSync('ld', ['-r', '-o', out, ...objs], { encoding: 'utf8' });
  assert.equal(l.status, 0, l.stderr);
  return out;
}

/** the klp relocations and klp symbols of a module, as sorted lists of strings (multisets) */
export interface KlpView {
  /** `<obj> <base section> <offset> <type> <symbol> <addend>` per klp relocation */
  relocs: string[];
  /** `<name> <bind> <type> <ndx>` per `.klp.sym.*` / `.klp.tombstone.*` symbol */
  symbols: string[];
  /** `<base section> <offset> <type> <symbol>` per ordinary relocation in an allocated section other than __klp_relocs.* */
  ordinary: string[];
}

const klpObject = (sec: string): string => /^\.klp\.rela\.([^.]+)/.exec(sec)![1]!;

interface DumpJson {
  files: {
    sections: { index: number; name: string; flagNames: string }[];
    symtabs: { symbols: { name: string; bind: string; type: string; ndx: string }[] }[];
    relocations: { name: string; target: number; targetName: string; livepatch: boolean; relocs: { offset: string; typeName: string; symName: string; addend: string }[] }[];
  }[];
}

/** viewByDump reads the view with `klp-convert dump --json`. */
export function viewByDump(file: string): KlpView {
  const r = cli(['dump', '--json', file]);
  assert.equal(r.status, 0, r.stderr);
  const f = (JSON.parse(r.stdout) as DumpJson).files[0]!;
  const v: KlpView = { relocs: [], symbols: [], ordinary: [] };
  for (const s of f.relocations) {
    const baseAlloc = /SHF_ALLOC/.test(f.sections[s.target]?.flagNames ?? '');
    for (const e of s.relocs) {
      const addend = e.addend.startsWith('-') ? -BigInt(e.addend.slice(1)) : BigInt(e.addend);
      if (s.livepatch) v.relocs.push(`${klpObject(s.name)} ${s.targetName} ${BigInt(e.offset)} ${e.typeName} ${e.symName} ${addend}`);
      else if (baseAlloc && !s.targetName.startsWith('__klp_relocs.')) v.ordinary.push(`${s.targetName} ${BigInt(e.offset)} ${e.typeName} ${e.symName}`);
    }
  }
  for (const s of f.symtabs[0]!.symbols) {
    if (s.name.startsWith('.klp.sym.') || s.name.startsWith('.klp.tombstone.')) v.symbols.push(`${s.name} ${s.bind} ${s.type} ${s.ndx === 'SHN_LIVEPATCH' ? 'LIVEPATCH' : s.ndx}`);
  }
  for (const k of ['relocs', 'symbols', 'ordinary'] as const) v[k].sort();
  return v;
}

/** viewByReadelf reads the same view with `readelf -W -S -s -r` (SHN_LIVEPATCH prints as `OS [0xff20]`). */
export function viewByReadelf(file: string): KlpView {
  const re = readelf(file);
  assert.equal(re.status, 0, re.stderr);
  const v: KlpView = { relocs: [], symbols: [], ordinary: [] };
  const secByName = new Map(re.sections.map((s) => [s.name, s]));
  for (const rs of re.relocs) {
    const sh = secByName.get(rs.name)!;
    const base = re.sections[sh.info]!;
    const livepatch = sh.flags.includes('o');
    for (const e of rs.relocs) {
      if (livepatch) v.relocs.push(`${klpObject(rs.name)} ${base.name} ${e.offset} ${e.type} ${e.symName} ${e.addend}`);
      else if (base.flags.includes('A') && !base.name.startsWith('__klp_relocs.')) v.ordinary.push(`${base.name} ${e.offset} ${e.type} ${e.symName}`);
    }
  }
  for (const s of re.symtabs.find((t) => t.name === '.symtab')!.symbols) {
    if (s.name.startsWith('.klp.sym.') || s.name.startsWith('.klp.tombstone.')) v.symbols.push(`${s.name} ${s.bind} ${s.type} ${s.ndx === 'OS [0xff20]' ? 'LIVEPATCH' : s.ndx}`);
  }
  for (const k of ['relocs', 'symbols', 'ordinary'] as const) v[k].sort();
  return v;
}
