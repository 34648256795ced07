/**
 * Files the user names: reading an input and writing an output atomically, with errors that
 * name the path as the user typed it, say what is wrong and what to do (IoError).
 *
 * A bare Node error repeats the path in its own text (`open: ENOENT: no such file or directory,
 * open 'x.ko'`), or has no path at all (reading a directory: `EISDIR ... read`). inputError
 * words the common cases once.
 *
 * writeFileAtomic writes to a hidden temporary file next to the target and renames it to the
 * target, so a failed run never leaves a half-written file where make would find it. When that
 * fails, Node's own error names the temporary file (`.foo.ko.1234.m3x.tmp: open: ENOENT`) or
 * reads oddly (`rename: EISDIR` for `-o DIR`); the user never typed that name. So every failure
 * here becomes an IoError that names the path the caller was given and what to do, and the
 * common mistakes (the target is a directory, its directory is missing, a part of the path is a
 * file, no permission, a read-only file system) are caught before any byte is written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hasElfIdentMagic } from './constants.js';
import { IoError } from './errors.js';

/** errnoText returns Node's description of a system error without the code, call and path it repeats. */
export function errnoText(e: NodeJS.ErrnoException): string {
  // Node's form: "ENOENT: no such file or directory, open '/x'" (and " -> '/y'" for rename)
  // (or without a path: "EPIPE: broken pipe, write")
  const m = /^[A-Z0-9_]+: (.*?), [a-z_]+(?: '|$)/.exec(e.message);
  return m ? m[1]! : e.message;
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/** statOf returns the stat of `p`, or Node's error code when it cannot be had (ENOENT, ENOTDIR...). */
function statOf(p: string): fs.Stats | string {
  try {
    return fs.statSync(p);
  } catch (e) {
    if (isErrno(e)) return e.code!;
    throw e;
  }
}

/**
 * inputError turns Node's error for reading `file` (or just an errno code found by the caller)
 * into an IoError naming the file once, with what to do. An IoError or anything that is not a
 * system error is returned unchanged.
 */
export function inputError(file: string, e: unknown): unknown {
  if (typeof e === 'string') e = Object.assign(new Error(e), { code: e });
  if (e instanceof IoError || !isErrno(e)) return e;
  const p = file === '' ? '' : `${file}: `;
  let text: string;
  switch (e.code) {
    case 'ENOENT': text = `${p}no such file or directory; check the path`; break;
    case 'ENOTDIR': text = `${p}a part of the path is a file, not a directory; check the path`; break;
    case 'EISDIR': text = `${p}is a directory; name a file`; break;
    case 'ESPIPE': text = `${p}is a pipe, which cannot be read at positions; save what it gives to a file and name that`; break;
    case 'EACCES':
    case 'EPERM': text = `${p}permission denied; make the file readable or run as a user who can read it`; break;
    default: text = `${p}cannot read${e.syscall ? ` (${e.syscall})` : ''}: ${errnoText(e)}`;
  }
  return new IoError(file, 'input', e.code!, text, { cause: e });
}

/**
 * The flags inputs are opened with: O_NONBLOCK, so that opening a FIFO nothing writes to returns
 * at once instead of waiting for a writer (regular files ignore the flag).
 */
export const INPUT_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

/** openInput opens a file the user named for reading, never waiting on a FIFO; failures throw inputError's IoError */
export function openInput(file: string): number {
  try {
    return fs.openSync(file, INPUT_FLAGS);
  } catch (e) {
    throw inputError(file, e);
  }
}

/**
 * notRegular is the IoError for an input that is a device, a FIFO or a socket (ENOTREG, exit 66
 * like an input that cannot be had): a whole-file read of one may never end (/dev/zero, a pipe
 * nothing closes), and positional reads of a pipe fail.
 */
export function notRegular(file: string, st: fs.Stats): IoError {
  const what = st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isFIFO() ? 'a pipe (FIFO)' : 'a socket';
  return new IoError(file, 'input', 'ENOTREG', `${file}: is ${what}, not a regular file; name the file itself (save what a pipe gives to a file first)`);
}

/**
 * readInputFile reads a whole regular file the user named (a directory, a device, a FIFO or a
 * socket is refused before anything is read); failures throw inputError's IoError.
 */
export function readInputFile(file: string): Buffer {
  const fd = openInput(file);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw inputError(file, 'EISDIR');
    if (!st.isFile()) throw notRegular(file, st);
    return fs.readFileSync(fd);
  } catch (e) {
    throw inputError(file, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** readInputText is readInputFile as latin1 text (every byte one character) */
export function readInputText(file: string): string {
  return readInputFile(file).toString('latin1');
}

/**
 * blockingAncestor walks up from `dir` to the first path that exists and returns it when it is
 * not a directory (`out.ko/x/y.ko` with `out.ko` a file), else undefined.
 */
function blockingAncestor(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = statOf(d);
    if (typeof st !== 'string') return st.isDirectory() ? undefined : d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** createError words a failure to create `target` (as the caller typed it) for the error code seen. */
function createError(target: string, code: string, cause?: unknown): IoError {
  const dir = path.dirname(target);
  const other = 'choose another output path';
  const opts = cause === undefined ? undefined : { cause };
  switch (code) {
    case 'EISDIR':
      return new IoError(target, 'output', code,
        `${target}: is a directory; the output must be a file name (for example '${path.join(target, 'NAME')}')`, opts);
    case 'ENOTDIR': {
      const file = blockingAncestor(dir) ?? dir;
      return new IoError(target, 'output', code, `${target}: cannot create: '${file}' is a file, not a directory; ${other}`, opts);
    }
    case 'ENOENT':
      if (typeof statOf(dir) === 'string') {
        return new IoError(target, 'output', code,
          `${target}: cannot create: directory '${dir}' does not exist; create it (mkdir -p '${dir}') or ${other}`, opts);
      }
      break; // the directory exists but refuses new files (/proc): the generic wording below
    case 'EACCES':
    case 'EPERM':
      return new IoError(target, 'output', code, `${target}: cannot create: no permission to create files in '${dir}'; ${other}`, opts);
    case 'EROFS':
      return new IoError(target, 'output', code, `${target}: cannot create: '${dir}' is on a read-only file system; ${other}`, opts);
  }
  const why = isErrno(cause) ? errnoText(cause) : code;
  return new IoError(target, 'output', code, `${target}: cannot create a file in '${dir}': ${why}; ${other}`, opts);
}

/**
 * checkOutputPath throws an IoError when `target` cannot be created as a file: it is a
 * directory, its directory is missing or not a directory, or the directory is not writable
 * (access(2): what root may write is decided by the kernel, so root passes unless the file
 * system is read-only). Callers with a long job ahead run it before starting.
 */
export function checkOutputPath(target: string): void {
  outputKind(target);
}

/** how an output is written: a temporary file renamed into place, or in place through a descriptor */
type OutputKind = { kind: 'file' } | { kind: 'stream'; fd: number | undefined };

/**
 * outputKind is checkOutputPath, telling how `target` is to be written.
 *  - 'stream' for a path that is not a regular file or a link to one: a link to this process's
 *    standard output or error whatever it is (`-o /dev/stdout` into a pipe, a socket as Node's
 *    child processes have, a terminal, or a file the shell redirected to: `fd` says which), or an
 *    existing character device or FIFO (`-o /dev/null`, a named pipe), opened and written where it
 *    is, as a shell redirection would. A temporary file renamed over such a path would replace the
 *    device node or the /dev/stdout link itself (root may create files in /dev).
 *  - 'file' for everything else (a new path, a regular file, a link to none of the above): a
 *    temporary file next to it, renamed into place.
 * A block device or a socket of its own is refused: no map or module belongs on a disk, and a
 * socket cannot be opened.
 */
function outputKind(target: string): OutputKind {
  const st = statOf(target);
  if (typeof st !== 'string') {
    if (st.isDirectory()) throw createError(target, 'EISDIR');
    const link = st.isFile() ? lstatIsLink(target) : true;
    if (link) {
      for (const fd of [1, 2]) if (isDescriptor(st, fd)) return { kind: 'stream', fd };
    }
    if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'stream', fd: undefined };
    if (!st.isFile()) {
      const what = st.isBlockDevice() ? 'a block device' : 'a socket';
      throw new IoError(target, 'output', 'ENOTREG', `${target}: is ${what}; the output must be a file, a character device such as /dev/null, or a pipe`);
    }
  }
  const dir = path.dirname(target);
  const d = statOf(dir);
  if (typeof d === 'string') throw createError(target, d);
  if (!d.isDirectory()) throw createError(target, 'ENOTDIR');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    if (isErrno(e)) throw createError(target, e.code!, e);
    throw e;
  }
  return { kind: 'file' };
}

function lstatIsLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** hasElfMagic: `file` is a regular file that starts with the ELF magic (false when it cannot be read) */
export function hasElfMagic(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, INPUT_FLAGS);
    if (!fs.fstatSync(fd).isFile()) return false;
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && hasElfIdentMagic(b);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

const sameInode = (x: fs.Stats, y: fs.Stats): boolean => x.dev === y.dev && x.ino === y.ino;

/** isSameFile tells whether paths `a` and `b` both exist and are the same file (links followed) */
export function isSameFile(a: string, b: string): boolean {
  const x = statOf(a), y = statOf(b);
  return typeof x !== 'string' && typeof y !== 'string' && sameInode(x, y);
}

/** isDescriptor tells whether descriptor `fd` of this process is the file `st` describes */
function isDescriptor(st: fs.Stats, fd: number): boolean {
  try {
    return sameInode(fs.fstatSync(fd), st);
  } catch {
    return false; // not open
  }
}

/**
 * replaceWith renames the finished file `tmp` to `target`, removing an existing regular file at
 * `target` first. A rename over an existing file makes ext4 (its default auto_da_alloc) and btrfs
 * start writing the new file's data back before rename returns, to spare a crash the empty file
 * a program that forgets fsync would leave: 7.7 ms for an 11 MB map on this project's ext4 build
 * machines, against 0.4 ms for unlink and rename (bench/README.md). Other processes still see the
 * old file, no file, or the whole new one, never a part; after a power loss the new file can be
 * empty, as every file the compiler and the linker write can (GNU ld unlinks its output before
 * writing it too); make rebuilds it. A symbolic link, or anything else not a regular file, is
 * left to rename, which replaces the link itself, as before; a failed unlink is left to rename too.
 */
function replaceWith(tmp: string, target: string): void {
  try {
    if (fs.lstatSync(target).isFile()) fs.unlinkSync(target);
  } catch {
    /* no such file, or it cannot be removed: rename replaces it or says why not */
  }
  fs.renameSync(tmp, target);
}

/**
 * tmpStem is the target's name as the temporary file's name carries it: whole, or its first 200
 * bytes when the temporary name (`.<stem>.<pid>.<stamp>.tmp`, up to 30 bytes more) would pass the
 * 255 bytes a file name may have (a legal output name of 230-255 bytes was refused before)
 */
function tmpStem(base: string): string {
  let s = base;
  while (Buffer.byteLength(s) > 200) s = s.slice(0, -1);
  return s;
}

/**
 * removeStale removes the temporary files that earlier runs left for the same target when they
 * were killed: Node ends at once on SIGINT (Ctrl-C in make) or SIGTERM, before any cleanup could
 * run, and a handler would only run between synchronous stretches of work, deferring Ctrl-C. The
 * names are ours, `.<target>.<pid>.<stamp>.tmp`; a file whose process still exists is left alone.
 */
function removeStale(dir: string, stem: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return; // creating the temporary file reports what is wrong with the directory
  }
  const prefix = `.${stem}.`;
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const m = /^([1-9][0-9]*)\.[0-9a-z]+\.tmp$/.exec(n.slice(prefix.length));
    if (m === null || processExists(Number(m[1]))) continue;
    try {
      fs.unlinkSync(path.join(dir, n));
    } catch {
      /* gone already, or not ours to remove */
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e) && e.code === 'EPERM'; // exists, another user's
  }
}

/** a cell to sleep on (Atomics.wait) while a full non-blocking pipe drains */
let pause: Int32Array | undefined;

/**
 * writeSome writes bytes[from..] to fd once and returns how many were written. A descriptor this
 * process inherited (standard output) may be non-blocking: a full pipe answers EAGAIN, and the
 * write is tried again a millisecond later instead of failing.
 */
function writeSome(fd: number, bytes: Uint8Array, from: number): number {
  for (;;) {
    try {
      return fs.writeSync(fd, bytes, from, bytes.length - from);
    } catch (e) {
      if (!isErrno(e) || e.code !== 'EAGAIN') throw e;
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, 1);
    }
  }
}

/**
 * AtomicFileWriter writes a file in pieces to a temporary file next to `target` and renames it
 * over the target on commit(), so a failed run never leaves a half-written file where make would
 * find it (abort() removes the temporary file). For outputs made as they are written: a symbol map
 * streamed from a reused buffer never holds the whole map in memory. Failures throw IoError naming
 * `target`: creation problems when constructed (checked before anything is written), a failed
 * write (ENOSPC...) or rename later; the temporary file is then removed.
 */
export class AtomicFileWriter {
  /** the temporary file; undefined for a target written in place (outputKind 'stream') */
  private readonly tmp: string | undefined;
  /** false for this process's standard output or error, which are written but never closed */
  private readonly owned: boolean = true;
  /** the target is written where it is (a device, a pipe, standard output): no temporary file, no rename */
  readonly inPlace: boolean = false;
  private fd: number | undefined;
  constructor(readonly target: string, mode = 0o644) {
    const k = outputKind(target);
    if (k.kind === 'stream') {
      this.tmp = undefined;
      this.inPlace = true;
      this.owned = k.fd === undefined;
      try {
        this.fd = k.fd ?? fs.openSync(target, 'w');
      } catch (e) {
        if (!isErrno(e)) throw e;
        throw createError(target, e.code!, e);
      }
      return;
    }
    const dir = path.dirname(path.resolve(target));
    const stem = tmpStem(path.basename(target));
    removeStale(dir, stem);
    this.tmp = path.join(dir, `.${stem}.${process.pid}.${Date.now().toString(36)}.tmp`);
    try {
      this.fd = fs.openSync(this.tmp, 'w', mode);
    } catch (e) {
      if (!isErrno(e)) throw e;
      throw createError(target, e.code!, e);
    }
  }
  /** write appends bytes (the caller may reuse them once this returns). */
  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.target}: write after commit or abort`);
    try {
      for (let done = 0; done < bytes.length;) done += writeSome(this.fd, bytes, done);
    } catch (e) {
      this.abort();
      if (!isErrno(e)) throw e;
      if (e.code === 'EPIPE') {
        throw new IoError(this.target, 'output', e.code, `${this.target}: the reading end of the pipe was closed; the output is incomplete`, { cause: e });
      }
      const full = e.code === 'ENOSPC' || e.code === 'EDQUOT';
      throw new IoError(this.target, 'output', e.code!, `${this.target}: cannot write: ${errnoText(e)}; ${full ? 'free some space or ' : ''}choose another output path`, { cause: e });
    }
  }
  /** commit closes the file and puts it in the target's place (replaceWith). */
  commit(): void {
    if (this.fd === undefined) throw new Error(`${this.target}: commit after abort`);
    try {
      if (this.owned) fs.closeSync(this.fd);
      this.fd = undefined;
      if (this.tmp !== undefined) replaceWith(this.tmp, this.target);
    } catch (e) {
      this.abort();
      if (!isErrno(e)) throw e;
      throw createError(this.target, e.code!, e);
    }
  }
  /**
   * abort closes and removes the temporary file; the target is left as it was (a device or a pipe
   * written in place keeps what was written to it: the caller's error says the output is incomplete).
   */
  abort(): void {
    if (this.fd !== undefined) {
      try {
        if (this.owned) fs.closeSync(this.fd);
      } catch {
        /* closing is all that is left to do */
      }
      this.fd = undefined;
    }
    if (this.tmp === undefined) return;
    try {
      fs.unlinkSync(this.tmp);
    } catch {
      /* already gone */
    }
  }
}

/**
 * writeFileAtomic writes bytes to a temporary file next to `target` and renames it over the
 * target (AtomicFileWriter). `bytes` may be a list of parts, written one after the other (no
 * joined copy). Failures throw IoError naming `target`; the temporary file is removed. Returns
 * the writer's inPlace (a device, a pipe or standard output was written where it is).
 */
export function writeFileAtomic(target: string, bytes: Uint8Array | readonly Uint8Array[], mode = 0o644): boolean {
  const w = new AtomicFileWriter(target, mode);
  for (const p of bytes instanceof Uint8Array ? [bytes] : bytes) w.write(p);
  w.commit();
  return w.inPlace;
}
