/**
 * RelocTable: an index-based view of one SHT_REL or SHT_RELA section.
 *
 * r_info packing differs by class: ELF64 keeps the symbol in the high 32 bits and the type in the
 * low 32; ELF32 keeps the symbol in the high 24 bits and the type in the low 8. (MIPS64's
 * split r_info is not supported; no livepatch architecture uses it.)
 */
import { SHT_RELA } from './constants.js';
import type { ElfHeader, SectionHeader } from './read.js';

export interface Reloc {
  /** r_offset */
  offset: bigint;
  /** symbol index from r_info */
  sym: number;
  /** relocation type from r_info */
  type: number;
  /** r_addend (0n for SHT_REL) */
  addend: bigint;
}

export class RelocTable {
  readonly count: number;
  readonly isRela: boolean;
  readonly entsize: number;
  private readonly view: DataView;
  private readonly le: boolean;
  private readonly is64: boolean;

  constructor(readonly header: ElfHeader, readonly section: SectionHeader, readonly raw: Uint8Array) {
    this.isRela = section.sh_type === SHT_RELA;
    this.is64 = header.bits === 64;
    this.le = header.littleEndian;
    this.entsize = this.is64 ? (this.isRela ? 24 : 16) : (this.isRela ? 12 : 8);
    this.count = raw.length / this.entsize;
    this.view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  }

  offset(i: number): bigint {
    const o = i * this.entsize;
    return this.is64 ? this.view.getBigUint64(o, this.le) : BigInt(this.view.getUint32(o, this.le));
  }

  sym(i: number): number {
    const o = i * this.entsize;
    return this.is64 ? this.view.getUint32(o + (this.le ? 12 : 8), this.le) : this.view.getUint32(o + 4, this.le) >>> 8;
  }

  type(i: number): number {
    const o = i * this.entsize;
    return this.is64 ? this.view.getUint32(o + (this.le ? 8 : 12), this.le) : this.view.getUint32(o + 4, this.le) & 0xff;
  }

  addend(i: number): bigint {
    if (!this.isRela) return 0n;
    const o = i * this.entsize;
    return this.is64 ? this.view.getBigInt64(o + 16, this.le) : BigInt(this.view.getInt32(o + 8, this.le));
  }

  /** entryOffset is the byte offset of entry i in the file, for messages. */
  entryOffset(i: number): number {
    return this.section.sh_offset + i * this.entsize;
  }

  get(i: number): Reloc {
    return { offset: this.offset(i), sym: this.sym(i), type: this.type(i), addend: this.addend(i) };
  }

  all(): Reloc[] {
    const out: Reloc[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.get(i));
    return out;
  }
}
