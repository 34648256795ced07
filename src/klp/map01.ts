/**
 * One object's lines of the 0.1 map: the names `nm -f posix FILE | cut -d' ' -f1` prints, in
 * nm's order (generate-map.ts has what GNU nm 2.40 prints and why). It passes over the symbol
 * table's bytes once (nameOffsets: no typed array per field, no string per symbol) into the
 * WebAssembly memory the table was read into, where namesort.ts sorts the name offsets by the
 * bytes they point at and writes the names out. A plain module (emitModule01) is read into that
 * memory and checked there without an ElfFile.
 */
import * as fs from 'node:fs';
import { EM_AARCH64, EM_ARM, EM_RISCV, INPUT_FLAGS, NEARBY, STT_FILE, STT_SECTION, nameOffsets, type SymbolBytes } from '../elf/index.js';
import { threadNameSort } from './namesort.js';
import type { Sink } from './generate-map.js';

/** the symbol types nm never prints without -a (BFD flags both BSF_DEBUGGING) */
const HIDDEN_TYPES = (1 << STT_SECTION) | (1 << STT_FILE);

/**
 * targetSpecial returns BFD's "target special symbol" test for the machine, which nm applies to
 * every symbol (nm.c filter_symbols, bfd_is_target_special_symbol), or undefined when the
 * backend has none (x86, ppc, s390...). Read from binutils 2.40 and checked against Debian's
 * multi-target nm on the aarch64 and riscv64 fixtures:
 *  - AArch64 (elfnn-aarch64.c): mapping and tag symbols `$x`, `$d`, `$m`, `$f`, `$p`, alone or
 *    followed by `.`;
 *  - ARM (elf32-arm.c): `$a`, `$t`, `$d` and `$b`, `$f`, `$p`, `$m`, alone or followed by `.`
 *    (not covered by a fixture);
 *  - RISC-V (elfnn-riscv.c): mapping symbols `$d`, `$x`, `$xrv...` and every local label name
 *    (_bfd_elf_is_local_label_name: `.L*`, `..*`, `_.L_*`, `L<digits>` followed by ^A or ^B).
 */
function targetSpecial(machine: number): ((b: Uint8Array, o: number) => boolean) | undefined {
  const dollar = (set: string) => (b: Uint8Array, o: number): boolean =>
    b[o] === 0x24 && b[o + 1] !== 0 && set.includes(String.fromCharCode(b[o + 1]! | 0)) && (b[o + 2] === 0 || b[o + 2] === 0x2e);
  if (machine === EM_AARCH64) return dollar('xdmfp');
  if (machine === EM_ARM) return dollar('atdbfpm');
  if (machine === EM_RISCV) {
    return (b, o) => {
      const c0 = b[o]!, c1 = b[o + 1]! | 0;
      if (c0 === 0x24) return ((c1 === 0x64 || c1 === 0x78) && b[o + 2] === 0) || (c1 === 0x78 && b[o + 2] === 0x72 && b[o + 3] === 0x76);
      if (c0 === 0x2e) return c1 === 0x4c || c1 === 0x2e;
      if (c0 === 0x5f) return c1 === 0x2e && b[o + 2] === 0x4c && b[o + 3] === 0x5f;
      if (c0 === 0x4c && c1 >= 0x30 && c1 <= 0x39) {
        let p = o + 2;
        while (b[p]! >= 0x30 && b[p]! <= 0x39) p++;
        return b[p] === 1 || b[p] === 2;
      }
      return false;
    };
  }
  return undefined;
}

/** dropSpecial removes the target special names from offs[0..k) in place; returns the new count. */
function dropSpecial(special: (b: Uint8Array, o: number) => boolean, strtab: Uint8Array, offs: Uint32Array, k: number): number {
  let n = 0;
  for (let j = 0; j < k; j++) if (!special(strtab, offs[j]!)) offs[n++] = offs[j]!;
  return n;
}

/** a name without its NUL would make the sort read past the table: the first such name, checked once */
function checkTerminated(t: SymbolBytes, offs: Uint32Array, k: number): void {
  const s = t.strtab;
  if (s[s.length - 1] === 0) return; // every name ends at a NUL at the latest
  for (let j = 0; j < k; j++) {
    if (s.indexOf(0, offs[j]!) < 0) {
      const st = t.elf.symbols(t.section); // decodes the table to name the symbol (error path only)
      for (let i = 1; i < st.count; i++) if (st.nameOff[i] === offs[j]) st.nameEnd(i); // throws
    }
  }
}

let scratch = new Uint32Array(1 << 16);

/** emitNames01 appends the names nm -f posix prints for one object, in nm's order. */
export function emitNames01(t: SymbolBytes, out: Sink): void {
  const sorter = threadNameSort();
  let k = sorter.filter(t, HIDDEN_TYPES);
  let offs: Uint32Array;
  if (k >= 0) {
    offs = sorter.offsets(t.count)!;
  } else {
    // too many entries for the sort's memory: the offsets in JS, the sort in a one-off instance
    if (scratch.length < t.count) scratch = new Uint32Array(t.count);
    offs = scratch;
    k = nameOffsets(t, HIDDEN_TYPES, offs);
  }
  const strtab = t.strtab;
  if (strtab.length === 0) {
    // every name is empty (nameOffsets checked they are all 0): one empty line each
    out.reserve(k);
    for (let j = 0; j < k; j++) out.buf[out.len++] = 10;
    out.lines += k;
    return;
  }
  const special = targetSpecial(t.elf.header.e_machine);
  if (special !== undefined) k = dropSpecial(special, strtab, offs, k);
  checkTerminated(t, offs, k);
  sorter.emit(strtab, offs, k, out);
}

/**
 * emitModule01 is emitModule for a 0.1 map without ElfFile: one module's object line and names,
 * or false (nothing written) for a livepatch module, read with four positional reads straight
 * into the sort's memory, where namesort.c checks the header and the section headers, finds
 * `.modinfo` and the symbol table, and filters, sorts and writes the names. It takes only the
 * plain case (an ELF64 little-endian file that every check of the ELF reader passes, and a few
 * more: namesort.c ns_ehdr, ns_shdrs); for anything else, and for any failure to open or read,
 * it returns undefined having written nothing, and the caller reads the module through ElfFile,
 * which gives the same lines or the reader's error. The reads overwrite the arena's region from
 * its start: nothing read into the arena may be in use (generate-map.ts resets it after each
 * object). test/unit/map01.test.ts holds it to the ElfFile path on mutated modules.
 */
export function emitModule01(file: string, base: string, out: Sink): boolean | undefined {
  const ns = threadNameSort();
  let fd: number;
  try {
    // (never waits on a FIFO: it then reads as no ELF, and ElfFile's path says what it is)
    fd = fs.openSync(file, INPUT_FLAGS);
  } catch {
    return undefined;
  }
  let symtab = false, k = 0, strAt = 0;
  try {
    const r = ns.region, cap = r.length, info = ns.info;
    if (fs.readSync(fd, r, 0, 64, 0) !== 64 || !ns.ehdr(0)) return undefined;
    // the section header table with the bytes before it (the section names are there), as parseHeader reads it
    const shoff = info[0]!, shnum = info[1]!;
    const before = Math.min(shoff, NEARBY), tabLen = before + shnum * 64;
    if (64 + tabLen + 1 > cap || fs.readSync(fd, r, 64, tabLen + 1, shoff - before) < tabLen || !ns.shdrs(64, before)) return undefined;
    let at = (64 + tabLen + 1 + 7) & ~7;
    const miSize = info[5]!;
    if (miSize > 0) {
      if (at + miSize > cap || fs.readSync(fd, r, at, miSize, info[4]!) !== miSize) return undefined;
      if (ns.livepatch(at, miSize)) return false;
    }
    const symSize = info[7]!;
    if (symSize >= 0) {
      const symOff = info[6]!, strOff = info[8]!, strSize = info[9]!, count = symSize / 24;
      // an empty table or string table, or one larger than the sort's memory: ElfFile's path
      if (symSize === 0 || strSize === 0 || ns.offsets(count) === undefined) return undefined;
      const lo = Math.min(symOff, strOff), hi = Math.max(symOff + symSize, strOff + strSize);
      let symAt: number;
      if (hi - lo <= symSize + strSize + NEARBY) {
        if (at + (hi - lo) > cap || fs.readSync(fd, r, at, hi - lo, lo) !== hi - lo) return undefined;
        symAt = at + symOff - lo;
        strAt = at + strOff - lo;
      } else {
        symAt = at;
        strAt = (at + symSize + 7) & ~7;
        if (strAt + strSize > cap || fs.readSync(fd, r, symAt, symSize, symOff) !== symSize ||
          fs.readSync(fd, r, strAt, strSize, strOff) !== strSize) return undefined;
      }
      k = ns.filterAt(symAt, count, HIDDEN_TYPES, strSize);
      // a name offset outside the string table, or a name that may run past it: the reader's errors
      if (k < 0 || r[strAt + strSize - 1] !== 0) return undefined;
      const special = targetSpecial(info[3]!);
      if (special !== undefined) k = dropSpecial(special, r.subarray(strAt, strAt + strSize), ns.offsets(count)!, k);
      symtab = true;
    }
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
  out.line(`*${base}`);
  if (symtab) ns.emitAt(strAt, k, out);
  return true;
}
