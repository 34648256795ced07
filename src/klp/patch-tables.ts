/**
 * readPatchTables reads what a livepatch module declares in C: its `struct klp_patch`, the
 * `struct klp_object` array (which objects it patches) and each object's `struct klp_func` array
 * (old_name, old_sympos). The kernel applies a `.klp.rela.<obj>.*` section only when <obj> is one
 * of these objects, and looks every old_name up in its object, so `check` needs them.
 *
 * In a relocatable module every pointer is a relocation, so the tables are found through them:
 *  - a klp_patch is 8-byte-aligned data whose word 0 is relocated against `__this_module` and
 *    word 1 (objs) points into the module's own data;
 *  - an array of klp_object: word 0 name (no relocation: NULL, i.e. vmlinux), word 1 funcs;
 *    ends at the first entry with neither (klp_for_each_object_static);
 *  - an array of klp_func: word 0 old_name, word 1 new_func, word 2 old_sympos (plain data);
 *    ends at the first entry with none of the three (klp_for_each_func_static).
 * The entry sizes depend on the kernel's configuration (struct kobject is inside), so they are
 * measured: the array's symbol size (gcc gives every static array an STT_OBJECT symbol with its
 * size) divided into equal entries whose pointer words carry relocations, with an all-zero last
 * entry. Layout facts (word offsets) are those of include/linux/livepatch.h in 5.x-7.x (64-bit).
 *
 * klp-build (7.x) writes compact tables instead, which scripts/livepatch/init.c turns into the
 * real structures at init: `.init.klp_objects`, an array of struct klp_object_ext {name, funcs,
 * struct klp_callbacks (4 pointers + bool), u32 nr_funcs} (64 bytes), each pointing to nr_funcs
 * struct klp_func_ext {old_name, new_func, sympos} (24 bytes) in `.init.klp_funcs`
 * (include/linux/livepatch_external.h of 7.2).
 */
import { ElfFile, SHF_ALLOC, SHF_EXECINSTR, SHT_RELA, STT_SECTION, hasFlag, readCString } from '../elf/index.js';
import { SHF_RELA_LIVEPATCH } from './constants.js';

export interface KlpFuncEntry {
  oldName: string;
  /** the old_sympos word as the kernel reads it (unsigned long) */
  oldSympos: bigint;
  /** where the entry is, for messages: "section+0xoff" */
  where: string;
}

export interface KlpObjectEntry {
  /** 'vmlinux' for a NULL name */
  name: string;
  funcs: KlpFuncEntry[];
  where: string;
}

export interface PatchTables {
  /** what was found: 'klp_patch' (the C structures), 'klp-build' (.init.klp_objects), or 'none' */
  source: 'klp_patch' | 'klp-build' | 'none';
  objects: KlpObjectEntry[];
  /** why the tables could not be read completely (shown as warnings) */
  problems: string[];
}

interface Pointer {
  /** target section index in this module, or -1 for an undefined/external symbol */
  sec: number;
  off: number;
  symName: string;
}

const WORD = 8;

export function readPatchTables(elf: ElfFile): PatchTables {
  const problems: string[] = [];
  const st = elf.symtabIndex();
  if (st === undefined || elf.header.bits !== 64) return { source: 'none', objects: [], problems };
  const syms = elf.symbols(st);
  // relocations per target section, by offset
  const relocs = new Map<number, Map<number, Pointer>>();
  for (const s of elf.sections) {
    if (s.sh_type !== SHT_RELA || s.sh_link !== st || hasFlag(s.sh_flags, SHF_RELA_LIVEPATCH)) continue;
    const base = elf.sections[s.sh_info];
    if (!base || !hasFlag(base.sh_flags, SHF_ALLOC)) continue;
    const r = elf.relocations(s.index);
    let m = relocs.get(base.index);
    if (!m) relocs.set(base.index, (m = new Map()));
    for (let k = 0; k < r.count; k++) {
      const sym = r.sym(k);
      const sec = sym < syms.count ? syms.sectionIndex(sym) : -1;
      const value = sec >= 0 ? Number(syms.value(sym)) : 0;
      m.set(Number(r.offset(k)), { sec, off: value + Number(r.addend(k)), symName: sym < syms.count ? syms.name(sym) : '' });
    }
  }
  const ptr = (sec: number, off: number): Pointer | undefined => relocs.get(sec)?.get(off);
  const where = (sec: number, off: number): string => `${elf.sections[sec]?.name ?? `section ${sec}`}+0x${off.toString(16)}`;
  const word = (sec: number, off: number): bigint => {
    const d = elf.data(sec);
    if (!Number.isSafeInteger(off) || off < 0 || off + WORD > d.length) return 0n;
    return new DataView(d.buffer, d.byteOffset, d.byteLength).getBigUint64(off, elf.header.littleEndian);
  };
  const cstring = (p: Pointer): string | undefined => {
    if (p.sec < 0) return undefined;
    const d = elf.data(p.sec);
    // a pointer's addend comes from the file: negative or past the section is no string
    return Number.isSafeInteger(p.off) && p.off >= 0 && p.off < d.length ? readCString(d, p.off) : undefined;
  };
  /** the sized object symbol that starts at (sec, off) */
  const arrayAt = (sec: number, off: number): number | undefined => {
    for (let i = 1; i < syms.count; i++) {
      if (syms.type(i) === STT_SECTION || syms.sectionIndex(i) !== sec) continue;
      if (Number(syms.value(i)) === off && syms.size(i) > 0n) return Number(syms.size(i));
    }
    return undefined;
  };
  /**
   * entries splits the array at (sec, off) into equal entries: the smallest stride (a multiple
   * of 8 that divides the array's size) for which the entries are some used ones (`isEntry`)
   * followed by at least one empty one (no relocation, no non-zero word at the checked offsets),
   * and nothing used after the first empty entry. An array of only its terminator has no entries.
   */
  const relocsIn = (sec: number, from: number, to: number): boolean => {
    for (const o of relocs.get(sec)?.keys() ?? []) if (o >= from && o < to) return true;
    return false;
  };
  const entries = (sec: number, off: number, minStride: number, isEntry: (at: number) => boolean, isEmptyAt: (at: number) => boolean): number[] | undefined => {
    const size = arrayAt(sec, off);
    if (size === undefined) return undefined;
    for (let stride = minStride; stride <= size; stride += WORD) {
      if (size % stride !== 0) continue;
      const n = size / stride;
      const isEmpty = (at: number): boolean => isEmptyAt(at) && !relocsIn(sec, at, at + stride);
      const at: number[] = [];
      let k = 0;
      for (; k < n && !isEmpty(off + k * stride); k++) at.push(off + k * stride);
      if (k === n || !at.every(isEntry)) continue;
      let rest = true;
      for (; k < n && rest; k++) rest = isEmpty(off + k * stride);
      if (rest) return at;
    }
    return undefined;
  };

  const ext = elf.findSectionsByName('.init.klp_objects')[0];
  if (ext !== undefined) return readKlpBuildTables(ext, ptr, where, word, cstring, elf, problems);

  const thisModule: Set<string> = new Set(['__this_module']);
  const objects: KlpObjectEntry[] = [];
  let found = false;
  const candidates: string[] = [];
  for (const [sec, m] of relocs) {
    if (hasFlag(elf.sections[sec]!.sh_flags, SHF_EXECINSTR)) continue; // code refers to THIS_MODULE too
    for (const [off, p] of m) {
      if (!thisModule.has(p.symName) || off % WORD !== 0) continue;
      const objsPtr = ptr(sec, off + WORD);
      if (!objsPtr || objsPtr.sec < 0) continue;
      const funcsOf = (at: number): Pointer | undefined => ptr(objsPtr.sec, at + WORD);
      const objAt = entries(objsPtr.sec, objsPtr.off, 6 * WORD,
        (at) => funcsOf(at) !== undefined,
        (at) => ptr(objsPtr.sec, at) === undefined && funcsOf(at) === undefined);
      if (objAt === undefined || objAt.length === 0) {
        // many structures start {name, THIS_MODULE, ...} (kernel_param, ...): not a klp_patch
        candidates.push(`${where(sec, off)} (objects at ${where(objsPtr.sec, objsPtr.off)})`);
        continue;
      }
      found = true;
      for (const at of objAt) {
        const np = ptr(objsPtr.sec, at);
        const name = np ? cstring(np) : 'vmlinux';
        const fp = funcsOf(at)!;
        const obj: KlpObjectEntry = { name: name ?? '?', funcs: [], where: where(objsPtr.sec, at) };
        if (name === undefined) problems.push(`${obj.where}: klp_object name does not point to a string in the module`);
        objects.push(obj);
        if (fp.sec < 0) continue;
        const funcAt = entries(fp.sec, fp.off, 4 * WORD,
          (a) => ptr(fp.sec, a) !== undefined,
          (a) => ptr(fp.sec, a) === undefined && ptr(fp.sec, a + WORD) === undefined && word(fp.sec, a + 2 * WORD) === 0n);
        if (funcAt === undefined) {
          problems.push(`${obj.where}: the klp_func array at ${where(fp.sec, fp.off)} could not be measured (no sized symbol for it)`);
          continue;
        }
        for (const a of funcAt) {
          const oldName = cstring(ptr(fp.sec, a)!);
          if (oldName === undefined) {
            problems.push(`${where(fp.sec, a)}: klp_func old_name does not point to a string in the module`);
            continue;
          }
          obj.funcs.push({ oldName, oldSympos: word(fp.sec, a + 2 * WORD), where: where(fp.sec, a) });
        }
      }
    }
  }
  if (!found && candidates.length > 0 && elf.sections.some((x) => hasFlag(x.sh_flags, SHF_RELA_LIVEPATCH))) {
    problems.push(`no klp_patch whose klp_object array could be measured (tried ${candidates.join(', ')}); is the objs array's symbol stripped?`);
  }
  return { source: found ? 'klp_patch' : 'none', objects, problems };
}

const OBJECT_EXT_SIZE = 64;
const OBJECT_EXT_NR_FUNCS = 56;
const FUNC_EXT_SIZE = 24;

function readKlpBuildTables(sec: number, ptr: (s: number, o: number) => Pointer | undefined, where: (s: number, o: number) => string,
  word: (s: number, o: number) => bigint, cstring: (p: Pointer) => string | undefined, elf: ElfFile, problems: string[]): PatchTables {
  const size = elf.sections[sec]!.sh_size;
  if (size % OBJECT_EXT_SIZE !== 0) problems.push(`${where(sec, 0)}: size ${size} is not a multiple of struct klp_object_ext (${OBJECT_EXT_SIZE} bytes)`);
  const objects: KlpObjectEntry[] = [];
  const data = elf.data(sec);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + OBJECT_EXT_SIZE <= size; at += OBJECT_EXT_SIZE) {
    const np = ptr(sec, at);
    const name = np ? cstring(np) : 'vmlinux';
    const obj: KlpObjectEntry = { name: name ?? '?', funcs: [], where: where(sec, at) };
    if (name === undefined) problems.push(`${obj.where}: klp_object_ext name does not point to a string in the module`);
    objects.push(obj);
    const fp = ptr(sec, at + WORD);
    const n = dv.getUint32(at + OBJECT_EXT_NR_FUNCS, elf.header.littleEndian);
    if (!fp || fp.sec < 0) continue;
    for (let k = 0; k < n; k++) {
      const a = fp.off + k * FUNC_EXT_SIZE;
      const op = ptr(fp.sec, a);
      const oldName = op ? cstring(op) : undefined;
      if (oldName === undefined) {
        problems.push(`${where(fp.sec, a)}: klp_func_ext old_name does not point to a string in the module`);
        continue;
      }
      obj.funcs.push({ oldName, oldSympos: word(fp.sec, a + 2 * WORD), where: where(fp.sec, a) });
    }
  }
  return { source: 'klp-build', objects, problems };
}
