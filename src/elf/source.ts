/**
 * Byte sources for the reader: a whole file in memory, or an open file read at known positions.
 * The positional source lets openElf() look at a 400 MB debug vmlinux while reading only its
 * headers, .symtab and .strtab (synchronous positional reads measured fastest for this job).
 */
import * as fs from 'node:fs';
import { inputError, notRegular, openInput } from './file-io.js';

export interface ByteSource {
  readonly size: number;
  /** read returns exactly `length` bytes at `offset`; the caller has checked the range. */
  read(offset: number, length: number): Uint8Array;
  /**
   * readUpTo (optional) returns the bytes at `offset`, `length` of them or fewer where the source
   * ends: a reader can look before it knows the size, and a file source that reads to its end
   * learns its size without asking the file system (FileSource).
   */
  readUpTo?(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

/**
 * ReadArena: one reusable buffer that a FileSource reads into, bump-allocated, so a caller that
 * opens thousands of files one after another allocates (and page-faults in) its read buffers
 * once instead of per read. Every view handed out is valid until reset(); the caller resets only
 * after it is done with the file (and everything read from it). Growing allocates a larger
 * buffer; views into the old one stay valid. The first buffer may be the caller's (`initial`: a
 * region of memory where it wants the bytes to land, such as a WebAssembly module's memory).
 */
export class ReadArena {
  private buf: Buffer;
  /** the first buffer, which reset() returns to (a caller's region stays where reads land) */
  private readonly first: Buffer;
  private used = 0;
  constructor(initial: number | Buffer = 1 << 20) {
    this.buf = this.first = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
  }
  /** take returns `length` bytes of the arena, 8-byte aligned (typed-array views can be laid over them). */
  take(length: number): Buffer {
    const at = (this.used + 7) & ~7;
    if (at + length > this.buf.length) {
      this.buf = Buffer.allocUnsafe(Math.max(length, this.buf.length * 2));
      this.used = length;
      return this.buf.subarray(0, length);
    }
    this.used = at + length;
    return this.buf.subarray(at, at + length);
  }
  /**
   * reset makes the whole arena free again: earlier views must no longer be used. It goes back to
   * the first buffer: one object that outgrew it does not move every later one's reads elsewhere.
   */
  reset(): void {
    this.buf = this.first;
    this.used = 0;
  }
}

/**
 * FileSource reads an open file at known positions. Its size is learnt from a read that reaches
 * the end of the file (readUpTo: the ELF reader reads the section header table, which linkers
 * put last, with one byte more), else from fstat when first asked: a map run opens ~4,200 files
 * and a stat of each (a syscall and a Stats object with four Dates) was one of its costs.
 */
export class FileSource implements ByteSource {
  private fd: number | undefined;
  /** the file's size once known, else -1 */
  private known = -1;
  /** reads go into `arena` when given (see ReadArena), else into a new Buffer each */
  constructor(readonly path: string, private readonly arena?: ReadArena) {
    try {
      this.fd = openInput(path);
    } catch (e) {
      throw inputError(path, e);
    }
  }
  get size(): number {
    if (this.known < 0) {
      try {
        // open(2) accepts a directory; say so here rather than fail the first read without a path
        const st = this.fd !== undefined ? fs.fstatSync(this.fd) : fs.statSync(this.path);
        if (st.isDirectory()) throw inputError(this.path, 'EISDIR');
        if (!st.isFile()) throw notRegular(this.path, st);
        this.known = st.size;
      } catch (e) {
        throw inputError(this.path, e);
      }
    }
    return this.known;
  }
  read(offset: number, length: number): Uint8Array {
    const buf = this.take(length);
    let done = 0;
    while (done < length) {
      const n = this.pread(buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== length) throw new Error(`${this.path}: short read at ${offset} (${done} of ${length} bytes)`);
    return buf;
  }
  /**
   * readUpTo stops at the first read that comes back short: a regular file's read of less than
   * 2 GiB is short only at the end of the file, so no second read is made to see 0 there.
   */
  readUpTo(offset: number, length: number): Uint8Array {
    const buf = this.take(length);
    const done = this.pread(buf, 0, length, offset);
    if (done < length && (done > 0 || offset === 0)) this.known = offset + done;
    return done === length ? buf : buf.subarray(0, done);
  }
  private take(length: number): Buffer {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    return this.arena !== undefined ? this.arena.take(length) : Buffer.allocUnsafe(length);
  }
  private pread(buf: Buffer, at: number, length: number, position: number): number {
    try {
      return fs.readSync(this.fd!, buf, at, length, position);
    } catch (e) {
      // a directory opens but does not read, a pipe does not read at positions (ESPIPE): say so
      // with the path (Node's errors for reads have none)
      throw inputError(this.path, e);
    }
  }
  close(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
