/**
 * Compressed modules (`.ko.gz`, `.ko.xz`, `.ko.zst`), as distributions ship them. The map
 * generator reads such a module whole into memory, decompressed, and parses the ELF from there.
 * gzip uses Node's zlib; xz and zstd are not in Node 20's zlib, so they go through the `xz` and
 * `zstd` programs that every kernel build host has (the kernel's own Makefiles call them for
 * CONFIG_MODULE_COMPRESS_*). No dependency is added: a JS xz/zstd decoder would be several times
 * slower than the C tools on multi-megabyte debug modules, and compressed modules are rare in
 * build trees (they appear after `make modules_install`).
 */
import * as fs from 'node:fs';
import { loadBuiltin, readInputFile } from '../elf/index.js';
import { KlpError } from './errors.js';

// node:zlib and node:child_process are loaded when a compressed module is met (~2 ms and ~3 ms of
// start-up otherwise, in the main thread and again in each map worker)
function zlib(): typeof import('node:zlib') {
  return loadBuiltin<typeof import('node:zlib')>('node:zlib');
}
function childProcess(): typeof import('node:child_process') {
  return loadBuiltin<typeof import('node:child_process')>('node:child_process');
}

export type Compression = 'gz' | 'xz' | 'zst';

/** compressionOf returns the compression implied by a file name, or undefined. */
export function compressionOf(path: string): Compression | undefined {
  if (path.endsWith('.gz')) return 'gz';
  if (path.endsWith('.xz')) return 'xz';
  if (path.endsWith('.zst')) return 'zst';
  return undefined;
}

const TOOLS: Record<Exclude<Compression, 'gz'>, { cmd: string; args: string[] }> = {
  xz: { cmd: 'xz', args: ['-dc', '--'] },
  zst: { cmd: 'zstd', args: ['-dcq', '--'] },
};

/**
 * decompressFile returns the decompressed bytes of a .gz/.xz/.zst file. Throws KlpError
 * DECOMPRESS_TOOL_MISSING when xz or zstd is not installed, DECOMPRESS_FAILED on corrupt data.
 */
export function decompressFile(path: string, kind: Compression): Uint8Array {
  if (kind === 'gz') {
    const raw = readInputFile(path);
    try {
      return zlib().gunzipSync(raw);
    } catch (e) {
      throw new KlpError('DECOMPRESS_FAILED', `${path}: cannot decompress (gzip): ${(e as Error).message}`);
    }
  }
  const t = TOOLS[kind];
  fs.accessSync(path, fs.constants.R_OK); // a missing file is an I/O error naming the path
  const r = childProcess().spawnSync(t.cmd, [...t.args, path], { maxBuffer: 2 ** 31 - 1, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new KlpError('DECOMPRESS_TOOL_MISSING', `${path}: cannot decompress: '${t.cmd}' is not installed; install it or decompress the module first`);
    }
    throw new KlpError('DECOMPRESS_FAILED', `${path}: cannot run '${t.cmd}': ${r.error.message}`);
  }
  if (r.status !== 0) {
    const msg = r.stderr.toString('utf8').trim().split('\n')[0] ?? '';
    throw new KlpError('DECOMPRESS_FAILED', `${path}: '${t.cmd}' failed (status ${r.status}): ${msg}`);
  }
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}
