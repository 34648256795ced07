/**
 * Byte sources for the reader: a whole file in memory, or an open file read at known positions.
 * The positional source lets openElf() look at a 400 MB debug vmlinux while reading only its
 * headers, .symtab and .strtab (synchronous positional reads measured fastest for this job).
 */
import * as fs from 'node:fs';

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

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | undefined;
  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
  }
  read(offset: number, length: number): Uint8Array {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const buf = Buffer.allocUnsafe(length);
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
