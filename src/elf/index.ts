/**
 * The generic ELF layer's only entry point. Nothing here knows about livepatch: flag bits and
 * reserved section indexes that livepatch gives meaning to are carried as plain numbers.
 */
export * from './constants.js';
export { ElfFormatError, ElfEditError, IoError } from './errors.js';
export { loadBuiltin } from './builtin.js';
export { ElfFile, LAYOUT, NEARBY, hasFlag, readCString, latin1, isSectionIndex } from './read.js';
export type { ElfHeader, SectionHeader } from './read.js';
export { SymbolTable, nameOffsets, namePastTable, hasDefined } from './symtab.js';
export type { SymbolBytes } from './symtab.js';
export { RelocTable } from './reloc.js';
export type { Reloc } from './reloc.js';
export { ElfEditor } from './edit.js';
export { writeFileAtomic, AtomicFileWriter, checkOutputPath, isSameFile, hasElfMagic, errnoText, INPUT_FLAGS, inputError, notRegular, openInput, readInputFile, readInputText } from './file-io.js';
export type { EditSymbol, EditSection, NewSection, WriteOptions } from './edit.js';
export { relocTypeName, relocNoneType, isKnownMachine, isRelocType } from './arch/relocs.js';
export { BufferSource, FileSource, ReadArena } from './source.js';
export type { ByteSource } from './source.js';
export { sectionContents, isCompressed, compressionHeader, ELFCOMPRESS_ZLIB, ELFCOMPRESS_ZSTD } from './compress.js';
export type { CompressionHeader } from './compress.js';
export { DwarfInfo } from './dwarf.js';
export type { DwarfUnit, DwarfAddress, DwarfRange } from './dwarf.js';
