/**
 * Byte sources for the reader: a whole file in memory, or an open file read at known positions.
 * The positional source lets openElf() look at a 400 MB debug vmlinux while reading only its
 * headers, .symtab and .strtab (synchronous positional reads measured fastest for this job).
 */
import * as fs from 'node:fs';
import { inputError } from './file-io.js';

export interface ByteSource {
  readonly size: number;
  /** read returns exactly `length` bytes at `offset`; the caller has checked the range. */
  read(offset: number, length: number): Uint8Array;
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
  private used = 0;
  constructor(initial: number | Buffer = 1 << 20) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
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
  /** reset makes the whole arena free again: earlier views must no longer be used. */
  reset(): void {
    this.used = 0;
  }
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;
  /** reads go into `arena` when given (see ReadArena), else into a new Buffer each */
  constructor(readonly path: string, private readonly arena?: ReadArena) {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (e) {
      throw inputError(path, e);
    }
    try {
      const st = fs.fstatSync(this.fd);
      // open(2) accepts a directory; say so here rather than fail the first read without a path
      if (st.isDirectory()) throw inputError(path, 'EISDIR');
      this.size = st.size;
    } catch (e) {
      fs.closeSync(this.fd);
      throw inputError(path, e);
    }
  }
  read(offset: number, length: number): Uint8Array {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const buf = this.arena !== undefined ? this.arena.take(length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    if (done !== length) throw new Error(`${this.path}: short read at ${offset} (${done} of ${length} bytes)`);
    return buf;
  }
  close(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
