/**
 * The per-symbol loops of the extended map (docs/symbols-format.md), in wasm/extlines.c: which
 * vmlinux symbols the kallsyms table holds and in which order (the rules are kallsyms.ts's
 * lists, passed in as bytes), and the symbol lines of an object. An object's string table and the
 * per-symbol fields are copied into the module's memory, laid out per object as
 *
 *   module stack | job | string table | st_name | section index | owner | order | st_info |
 *   Module.symvers flags | init sections | export hash table | output chunk |
 *   (vmlinux:) entries | rules | section flags | sort keys
 *
 * which grows when an object needs more (vmlinux: ~30 MB). Each thread has its own instance
 * (threadExtLines). In TypeScript these loops ran mostly before the JIT had optimised them (each
 * object's loop runs once), and made strings for the name tests.
 */
import { SHF_ALLOC, SHN_LORESERVE, SHN_XINDEX, SHT_NOBITS, SHT_PROGBITS, STT_FILE, STT_SECTION } from '../elf/index.js';
import type { SymbolTable } from '../elf/index.js';
import { WASM as EXTLINES_WASM } from './wasm/extlines.wasm.js';
import { LAYOUT_BASE, instantiate, pages } from './wasm/instance.js';
import type { Sink } from './generate-map.js';
import { KALLSYMS_RULES, KSYM_NAME_LEN, LINKER_MIN } from './kallsyms.js';

/** struct job's fields (extlines.c), as int32 indexes */
const enum J {
  Strtab, Count, NameOff, Info, Shndx, Owner, Xflag, Init, Ninit, Order, Norder, Next, Out, Cap,
  Slots, Mask, ExStart, ExEnd, Nex, Lines, Size,
}

/** struct ks's fields */
const enum K {
  Strtab, Count, NameOff, Info, Shndx, Raw, Is64, Le, Secdrop, Nsec, Rules, Maxlen, LinkerMin, Order, Norder,
  Keys, Keys2, Idx2, Gate, Size,
}

/** the output chunk: at least this, and room for the longest name */
const OUT = 1 << 18;

/** where the loaded object's tables are in the memory */
interface Layout {
  st: SymbolTable;
  strAt: number; nameAt: number; shAt: number; ownerAt: number; orderAt: number; infoAt: number; xAt: number;
  initAt: number; slotsAt: number; slots: number; exStartAt: number; exEndAt: number; outAt: number; cap: number;
  /** vmlinux only (kallsyms): the entries, the rules, the section flags, the sort's room */
  rawAt: number; rulesAt: number; secAt: number; keysAt: number; keys2At: number; idx2At: number; gateAt: number;
}

export class ExtLines {
  private readonly memory = new WebAssembly.Memory({ initial: pages(LAYOUT_BASE + (4 << 20)) });
  private readonly elExports: (job: number) => number;
  private readonly elEmit: (job: number) => number;
  private readonly elKallsyms: (ks: number) => number;
  private readonly elVisible: (ks: number, i: number) => number;
  private readonly elLinker: (ks: number, i: number) => number;
  private at: Layout | undefined;
  /** how many symbols kallsyms() ordered, -1 when it did not run on the loaded table */
  private norder = -1;
  /** views of the whole memory (a view per table per object showed as garbage at 4,230 modules), remade when it grows */
  private u8 = new Uint8Array(0);
  private u32 = new Uint32Array(0);
  private i32 = new Int32Array(0);

  constructor() {
    const ex = instantiate(EXTLINES_WASM, this.memory);
    this.elExports = ex.el_exports as ExtLines['elExports'];
    this.elEmit = ex.el_emit as ExtLines['elEmit'];
    this.elKallsyms = ex.el_kallsyms as ExtLines['elKallsyms'];
    this.elVisible = ex.el_visible as ExtLines['elVisible'];
    this.elLinker = ex.el_linker as ExtLines['elLinker'];
  }

  /**
   * load copies an object's string table and symbol fields into the memory; `kallsyms` makes
   * room for ordering it as vmlinux (the entries are copied too). Every name must end at a NUL
   * (checkNames).
   */
  load(st: SymbolTable, sectionCount: number, kallsyms: boolean): void {
    const t = st.strtab, n = st.count;
    // 16-byte aligned where the C loads 16 bytes, 8 for the keys, 4 for the int32 tables
    const strAt = align(LAYOUT_BASE + 4 * Math.max(J.Size, K.Size), 16);
    const nameAt = align(strAt + t.length + 16, 16);
    const shAt = nameAt + 4 * n;
    const ownerAt = shAt + 4 * n;
    const orderAt = ownerAt + 4 * n;
    const infoAt = orderAt + 4 * n;
    const xAt = infoAt + n;
    const initAt = xAt + n;
    let slots = 1;
    while (slots < 2 * n) slots <<= 1;
    const slotsAt = align(initAt + sectionCount, 16);
    const exStartAt = slotsAt + 4 * slots;
    const exEndAt = exStartAt + 4 * n;
    const outAt = align(exEndAt + 4 * n, 16);
    const cap = Math.max(OUT, t.length + 64);
    const rawAt = align(outAt + cap, 16);
    const rulesAt = rawAt + (kallsyms ? st.raw.length : 0);
    const secAt = rulesAt + (kallsyms ? KALLSYMS_RULES.length : 0);
    const keysAt = align(secAt + (kallsyms ? sectionCount : 0), 16);
    const keys2At = keysAt + (kallsyms ? 8 * n : 0);
    const idx2At = keys2At + (kallsyms ? 8 * n : 0);
    const gateAt = idx2At + (kallsyms ? 4 * n : 0);
    const size = gateAt + 256;
    this.reserve(size);
    const u8 = this.u8, u32 = this.u32;
    u8.set(t, strAt);
    u8.fill(0, strAt + t.length, strAt + t.length + 16);
    u32.set(st.nameOff, nameAt >> 2);
    u32.set(st.shndx, shAt >> 2);
    if (st.xindex !== undefined) for (let i = 0; i < n; i++) if (st.shndx[i] === SHN_XINDEX) u32[(shAt >> 2) + i] = st.xindex[i]!;
    u8.set(st.info, infoAt);
    if (kallsyms) {
      u8.set(st.raw, rawAt);
      u8.set(KALLSYMS_RULES, rulesAt);
    }
    this.at = { st, strAt, nameAt, shAt, ownerAt, orderAt, infoAt, xAt, initAt, slotsAt, slots, exStartAt, exEndAt, outAt, cap, rawAt, rulesAt, secAt, keysAt, keys2At, idx2At, gateAt };
    this.norder = -1;
  }

  /** reserve grows the memory to `size` bytes at least, and remakes the views when it did */
  private reserve(size: number): void {
    const have = this.memory.buffer.byteLength;
    if (have < size) this.memory.grow(pages(size) - have / 65536);
    if (this.u8.buffer !== this.memory.buffer) {
      const buf = this.memory.buffer;
      this.u8 = new Uint8Array(buf);
      this.u32 = new Uint32Array(buf);
      this.i32 = new Int32Array(buf);
    }
  }

  /**
   * kallsyms orders the loaded vmlinux table as the kernel's kallsyms table (kallsyms.ts): the
   * symbols it holds, by address, ties broken as kallsyms.c and nm -n break them. `drop` marks
   * (1) the sections whose symbols nm prints as N/n. Returns the symbol indexes in order (a view,
   * valid until the next load).
   */
  kallsyms(drop: Uint8Array): Uint32Array {
    const L = this.at!, st = L.st, h = st.elf.header;
    const buf = this.memory.buffer;
    this.u8.set(drop, L.secAt);
    const k = new Int32Array(buf, LAYOUT_BASE, K.Size);
    k[K.Strtab] = L.strAt;
    k[K.Count] = st.count;
    k[K.NameOff] = L.nameAt;
    k[K.Info] = L.infoAt;
    k[K.Shndx] = L.shAt;
    k[K.Raw] = L.rawAt;
    k[K.Is64] = h.bits === 64 ? 1 : 0;
    k[K.Le] = h.littleEndian ? 1 : 0;
    k[K.Secdrop] = L.secAt;
    k[K.Nsec] = drop.length;
    k[K.Rules] = L.rulesAt;
    k[K.Maxlen] = KSYM_NAME_LEN;
    k[K.LinkerMin] = LINKER_MIN;
    k[K.Order] = L.orderAt;
    k[K.Keys] = L.keysAt;
    k[K.Keys2] = L.keys2At;
    k[K.Idx2] = L.idx2At;
    k[K.Gate] = L.gateAt;
    this.norder = this.elKallsyms(LAYOUT_BASE);
    return new Uint32Array(buf, L.orderAt, this.norder);
  }

  /**
   * query lays out one symbol (a latin1 name, st_info, section index; `drop` the N/n flag of
   * sections 0 on) as a table of its own and asks el_visible or el_linker about it. It replaces
   * the loaded table.
   */
  query(name: string, info: number, shndx: number, drop: Uint8Array, what: 'visible' | 'linker'): number {
    const ks = LAYOUT_BASE;
    const strAt = align(ks + 4 * K.Size, 16);
    const nameAt = align(strAt + name.length + 32, 16);
    const infoAt = nameAt + 8, shAt = nameAt + 16, rawAt = nameAt + 32, orderAt = rawAt + 48;
    const keysAt = orderAt + 16, rulesAt = keysAt + 16, gateAt = rulesAt + KALLSYMS_RULES.length;
    const secAt = gateAt + 256;
    const size = secAt + drop.length;
    this.reserve(size);
    const buf = this.memory.buffer;
    const u8 = this.u8;
    u8.fill(0, strAt, secAt);
    for (let i = 0; i < name.length; i++) u8[strAt + 1 + i] = name.charCodeAt(i) & 0xff; // offset 0: the null symbol's empty name
    const names = new Uint32Array(buf, nameAt, 2);
    names[1] = 1;
    u8[infoAt + 1] = info;
    new Uint32Array(buf, shAt, 2)[1] = shndx;
    u8.set(KALLSYMS_RULES, rulesAt);
    u8.set(drop, secAt);
    const k = new Int32Array(buf, ks, K.Size);
    k.fill(0);
    k[K.Strtab] = strAt;
    k[K.Count] = 2;
    k[K.NameOff] = nameAt;
    k[K.Info] = infoAt;
    k[K.Shndx] = shAt;
    k[K.Raw] = rawAt;
    k[K.Is64] = 1;
    k[K.Le] = 1;
    k[K.Secdrop] = secAt;
    k[K.Nsec] = drop.length;
    k[K.Rules] = rulesAt;
    k[K.Maxlen] = KSYM_NAME_LEN;
    k[K.LinkerMin] = LINKER_MIN;
    k[K.Order] = orderAt;
    k[K.Keys] = keysAt;
    k[K.Gate] = gateAt;
    this.at = undefined;
    this.norder = -1;
    return what === 'visible' ? this.elVisible(ks, 1) : this.elLinker(ks, 1);
  }

  /**
   * emit appends the loaded object's symbol lines to `out`: the symbols kallsyms() ordered, else
   * every named symbol but sections and files, in table order. `owner` is the file-table index
   * per symbol (-1: none), `init` 1 per section index whose symbols the module loader treats as
   * init, `extra` the names exported by other means (Module.symvers).
   */
  emit(out: Sink, owner: Int32Array, init: Uint8Array, extra: ReadonlySet<string> | undefined): void {
    const L = this.at!, st = L.st, n = st.count;
    if (st.strtab.length === 0) return; // every name is empty: no line (unnamed symbols are never looked up)
    const u8 = this.u8, u32 = this.u32, j = this.i32, jAt = LAYOUT_BASE >> 2;
    j.set(owner, L.ownerAt >> 2);
    const ordered = this.norder >= 0;
    const shAt = L.shAt >> 2, orderAt = L.orderAt >> 2;
    const ex = extra !== undefined && extra.size > 0 ? extra : undefined;
    if (ex !== undefined) {
      // the names Module.symvers exports: decoded only for the globals that get a line
      u8.fill(0, L.xAt, L.xAt + n);
      const each = (i: number): void => {
        if (st.info[i]! >>> 4 !== 0 && u32[shAt + i] !== 0 && ex.has(st.name(i))) u8[L.xAt + i] = 1;
      };
      if (ordered) for (let p = 0; p < this.norder; p++) each(u32[orderAt + p]!);
      else for (let i = 1; i < n; i++) if (named(st, i)) each(i);
    }
    u8.set(init, L.initAt);
    j[jAt + J.Strtab] = L.strAt;
    j[jAt + J.Count] = n;
    j[jAt + J.NameOff] = L.nameAt;
    j[jAt + J.Info] = L.infoAt;
    j[jAt + J.Shndx] = L.shAt;
    j[jAt + J.Owner] = L.ownerAt;
    j[jAt + J.Xflag] = ex !== undefined ? L.xAt : 0;
    j[jAt + J.Init] = L.initAt;
    j[jAt + J.Ninit] = init.length;
    j[jAt + J.Order] = ordered ? L.orderAt : 0;
    j[jAt + J.Norder] = ordered ? this.norder : 0;
    j[jAt + J.Next] = ordered ? 0 : 1;
    j[jAt + J.Out] = L.outAt;
    j[jAt + J.Cap] = L.cap;
    j[jAt + J.Slots] = L.slotsAt;
    j[jAt + J.Mask] = L.slots - 1;
    j[jAt + J.ExStart] = L.exStartAt;
    j[jAt + J.ExEnd] = L.exEndAt;
    j[jAt + J.Lines] = 0;
    this.elExports(LAYOUT_BASE);
    const end = ordered ? this.norder : n;
    while (j[jAt + J.Next]! < end) {
      const len = this.elEmit(LAYOUT_BASE);
      out.reserve(len);
      out.buf.set(u8.subarray(L.outAt, L.outAt + len), out.len);
      out.len += len;
    }
    out.lines += j[jAt + J.Lines]!;
  }
}

export interface SectionInfo {
  flags: number; // low 32 bits of sh_flags
  type: number;
}

/** nmDropped is 1 for a section whose symbols nm prints as N/n: not allocated, and with contents */
export function nmDropped(s: SectionInfo): number {
  return (s.flags & SHF_ALLOC) === 0 && s.type !== SHT_NOBITS ? 1 : 0;
}

/**
 * kallsymsVisible decides whether one defined vmlinux symbol reaches the kallsyms table (the
 * rules of kallsyms.ts, as ExtLines.kallsyms applies them). `rawShndx` is the resolved section
 * index, or the reserved value (SHN_ABS, SHN_COMMON...); `sec` that section.
 */
export function kallsymsVisible(name: string, info: number, rawShndx: number, sec: SectionInfo | undefined): boolean {
  const drop = new Uint8Array(sec !== undefined && rawShndx < SHN_LORESERVE ? rawShndx + 1 : 0);
  if (drop.length > 0) drop[rawShndx] = nmDropped(sec!);
  return threadExtLines().query(name, info, rawShndx, drop, 'visible') !== 0;
}

/** ignoredByName applies the name rules of mksysmap and kallsyms.c (kallsyms.ts) to one name (latin1). */
export function ignoredByName(name: string): boolean {
  return !kallsymsVisible(name, 0x12 /* global function */, 1, { flags: SHF_ALLOC, type: SHT_PROGBITS });
}

/** mayBeLinkerProvided mirrors kallsyms.c's guess for linker-script symbols (a tie-break only). */
export function mayBeLinkerProvided(name: string): boolean {
  return threadExtLines().query(name, 0x12, 1, new Uint8Array(0), 'linker') !== 0;
}

/** named tells whether symbol i gets a line in table order: a name, and not a section or file symbol */
function named(st: SymbolTable, i: number): boolean {
  const ty = st.info[i]! & 0xf;
  return ty !== STT_SECTION && ty !== STT_FILE && st.strtab[st.nameOff[i]!] !== 0;
}

/**
 * checkFilterNames throws, as SymbolTable.nameEnd does, for the first unterminated name but
 * sections' and files' in table order: where the TypeScript filter of vmlinux's symbols met it.
 * Only a string table that does not end with a NUL has one.
 */
export function checkFilterNames(st: SymbolTable): void {
  const t = st.strtab;
  if (t.length === 0 || t[t.length - 1] === 0) return;
  for (let i = 1; i < st.count; i++) {
    const ty = st.info[i]! & 0xf;
    if (ty !== STT_SECTION && ty !== STT_FILE) st.nameEnd(i);
  }
}

/**
 * checkLineNames throws for the first unterminated name where the TypeScript writer met it
 * after the file table: an `__k`/`__e` name while collecting the exports, then a named symbol in
 * table order.
 */
export function checkLineNames(st: SymbolTable): void {
  const t = st.strtab;
  if (t.length === 0 || t[t.length - 1] === 0) return;
  for (let i = 1; i < st.count; i++) {
    const o = st.nameOff[i]!;
    if (t[o] === 0x5f && t[o + 1] === 0x5f && (t[o + 2] === 0x6b || t[o + 2] === 0x65)) st.nameEnd(i);
  }
  for (let i = 1; i < st.count; i++) if (named(st, i)) st.nameEnd(i);
}

const align = (n: number, a: number): number => (n + a - 1) & -a;

let mine: ExtLines | undefined;

/** threadExtLines is this thread's ExtLines (a worker thread loads this module afresh: its own) */
export function threadExtLines(): ExtLines {
  return (mine ??= new ExtLines());
}

/**
 * releaseThreadExtLines lets this thread's ExtLines and its memory go (after vmlinux, whose
 * tables grew it to ~20 MB that no module needs: the next object gets a new, small one).
 */
export function releaseThreadExtLines(): void {
  mine = undefined;
}
