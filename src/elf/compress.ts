/**
 * Section contents as a consumer wants them: SHF_COMPRESSED sections (gABI "Section Compression",
 * Elf32_Chdr / Elf64_Chdr) are inflated, everything else is returned as stored.
 *
 * Distribution debug files and `gcc -gz` objects compress their .debug_* sections this way. Only
 * ELFCOMPRESS_ZLIB is read here (Node's zlib); ELFCOMPRESS_ZSTD (2) is reported as unsupported so
 * that the caller can say what to do (`objcopy --decompress-debug-sections`). The inflated size
 * is the header's ch_size, checked before inflating against a ratio bound, so a lying header
 * cannot make the reader allocate without limit.
 */
import { loadBuiltin } from './builtin.js';
import { SHF_COMPRESSED } from './constants.js';
import type { ElfFile } from './read.js';

export const ELFCOMPRESS_ZLIB = 1;
export const ELFCOMPRESS_ZSTD = 2;

/**
 * node:zlib, loaded when the first compressed section is met: loading it (and the stream modules
 * it pulls in) is ~2 ms of every command's start-up, and most runs meet no compressed section.
 */
function zlib(): typeof import('node:zlib') {
  return loadBuiltin<typeof import('node:zlib')>('node:zlib');
}

/** deflate cannot do better than about 1032:1; a header claiming more is lying */
const MAX_RATIO = 1100;

export interface CompressionHeader {
  type: number;
  size: number;
  addralign: number;
  /** size of the Chdr itself: the compressed stream starts here */
  headerSize: number;
}

/** isCompressed tells whether section `index` has SHF_COMPRESSED. */
export function isCompressed(elf: ElfFile, index: number): boolean {
  return (elf.section(index).sh_flags & BigInt(SHF_COMPRESSED)) !== 0n;
}

/** compressionHeader decodes the Chdr at the start of a compressed section's contents. */
export function compressionHeader(elf: ElfFile, index: number, raw: Uint8Array): CompressionHeader {
  const s = elf.section(index);
  const h = elf.header;
  const need = h.bits === 64 ? 24 : 12;
  if (raw.length < need) {
    throw elf.error('ELF_BAD_CHDR', `section ${index} '${s.name}': SHF_COMPRESSED but ${raw.length} bytes, too short for a compression header (${need})`, s.headerOffset);
  }
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = h.littleEndian;
  const type = v.getUint32(0, le);
  let size: number, addralign: number;
  if (h.bits === 64) {
    const hi = v.getUint32(le ? 12 : 8, le), lo = v.getUint32(le ? 8 : 12, le);
    if (hi > 0x1fffff) throw elf.error('ELF_BAD_CHDR', `section ${index} '${s.name}': ch_size is too large`, s.sh_offset + 8);
    size = hi * 0x100000000 + lo;
    addralign = Number(v.getBigUint64(16, le) & 0xffffffffn);
  } else {
    size = v.getUint32(4, le);
    addralign = v.getUint32(8, le);
  }
  return { type, size, addralign, headerSize: need };
}

/**
 * sectionContents returns a section's bytes, inflated when it is SHF_COMPRESSED (zlib). Throws
 * ElfFormatError for a malformed header or stream, or an unsupported compression type
 * (code ELF_UNSUPPORTED_COMPRESSION).
 */
export function sectionContents(elf: ElfFile, index: number): Uint8Array {
  const raw = elf.data(index);
  if (!isCompressed(elf, index)) return raw;
  const s = elf.section(index);
  const ch = compressionHeader(elf, index, raw);
  if (ch.type !== ELFCOMPRESS_ZLIB) {
    const what = ch.type === ELFCOMPRESS_ZSTD ? 'zstd (ELFCOMPRESS_ZSTD)' : `type ${ch.type}`;
    throw elf.error('ELF_UNSUPPORTED_COMPRESSION',
      `section ${index} '${s.name}': compressed with ${what}, which this reader cannot inflate; decompress it with 'objcopy --decompress-debug-sections'`, s.sh_offset);
  }
  const body = raw.subarray(ch.headerSize);
  if (ch.size > (body.length + 64) * MAX_RATIO) {
    throw elf.error('ELF_BAD_CHDR', `section ${index} '${s.name}': ch_size ${ch.size} is implausible for ${body.length} compressed bytes`, s.sh_offset);
  }
  let out: Buffer;
  try {
    out = zlib().inflateSync(body, { maxOutputLength: Math.max(1, ch.size) });
  } catch (e) {
    throw elf.error('ELF_BAD_COMPRESSED_DATA', `section ${index} '${s.name}': zlib stream does not inflate to ch_size ${ch.size} bytes (${(e as Error).message})`, s.sh_offset + ch.headerSize);
  }
  if (out.length !== ch.size) {
    throw elf.error('ELF_BAD_COMPRESSED_DATA', `section ${index} '${s.name}': inflated to ${out.length} bytes, ch_size says ${ch.size}`, s.sh_offset + ch.headerSize);
  }
  return out;
}

