/**
 * `klp-convert symbols [--objtree DIR] [-o FILE] [--format 0.1|ext] [-j N] [-v]`: write the
 * symbol map of a kernel build tree (default `<objtree>/symbols.klp`, format 0.1, the 2022
 * recipe's bytes). kbuild runs it once after modpost; see docs/symbols-format.md.
 *
 * Output goes through writeFileAtomic: a failed run leaves no partial symbols.klp. Progress goes
 * to stderr only when stderr is a terminal; otherwise one kbuild-style quiet line is printed on
 * stdout, like make's other `  CC      foo.o` lines.
 *
 * -j N: threads, the main one included (default: 2 when there are 2 CPUs; at most 4). With two, a
 * worker thread reads modules while this thread reads vmlinux, then both take modules and this
 * one writes them in order; -j 1 runs everything on this thread. The map is written as it is
 * made (AtomicFileWriter), except for ext -v. The bytes never depend on -j (generate-map-parallel.ts).
 */
import * as path from 'node:path';
import { AtomicFileWriter, checkOutputPath, hasElfMagic, isSameFile, writeFileAtomic } from '../../elf/index.js';
import { type MapFormat } from '../../klp/generate-map.js';
import { describeKernelTree, findKernelTree, type KernelTree } from '../../klp/kernel-tree.js';
import { defaultJobs, generateSymbolMapParallel, MAX_JOBS } from '../../klp/generate-map-parallel.js';
import { fileTableStats } from '../../klp/path-recovery.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { parseCommandArgs } from '../args.js';

const usage = `usage: klp-convert symbols [--objtree DIR] [-o FILE] [--format 0.1|ext] [-j N] [-v]

Write the symbol map of a kernel: vmlinux, then every module of modules.order (livepatch
modules left out), as symbols.klp.

  --objtree DIR    the kernel (default: .): a build (output) tree holding vmlinux and
                   modules.order; or a distribution debug package, unpacked or installed:
                   the directory holding usr/lib/debug (e.g. / or a dpkg -x directory), or
                   its usr/lib/debug/lib/modules/<release> directory. Without modules.order
                   the modules are kernel/**.ko(.xz/.zst/.gz), in path order
  -o, --output F   where to write the map (default: <objtree>/symbols.klp; ./symbols.klp
                   for a debug package or a lib/modules/<release> directory; /dev/stdout,
                   a device or a pipe is written in place)
  --format F       0.1 (default; byte-identical to the 2022 kbuild recipe) or ext
                   (klp-convert-symbol-data-ext.2: kernel sympos order, binding, type, init,
                   exports, source file as a path from DWARF or the tree's .o files; see
                   docs/symbols-format.md)
  -j N             threads to use, this one included (default: 2 with 3 or more CPUs, else 1;
                   at most ${MAX_JOBS}). With 2, a worker thread reads modules while the main
                   thread reads vmlinux, then both read modules; -j 1 reads everything on
                   one thread. The output is the same for every N.
  -v, --verbose    list the livepatch modules left out and a summary on stderr (with ext:
                   how many source files got a path)

exit status: 0 written, 1 cannot write the map (a module cannot be decompressed, a debug
package root holds several kernels), 64 usage, 65 a malformed ELF object, 66 the directory,
vmlinux, modules.order or a listed module is missing, or vmlinux has no symbols (stripped,
or BTF-only like a linux-headers package's: use the unstripped one of the kernel's debug
package), 73 cannot create the output.
`;

export const command: Command = {
  name: 'symbols',
  usage,
  async run(argv: string[]): Promise<number> {
    const parsed = parseCommandArgs({
      args: argv,
      options: {
        objtree: { type: 'string' },
        output: { type: 'string', short: 'o' },
        format: { type: 'string' },
        jobs: { type: 'string', short: 'j' },
        verbose: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
      strict: true,
    }, usage);
    const o = parsed.values;
    const format = (o.format ?? '0.1') as MapFormat;
    if (format !== '0.1' && format !== 'ext') {
      throw new UsageError(`--format must be 0.1 or ext, not '${o.format}'`);
    }
    if (o.jobs !== undefined && !/^[1-9][0-9]*$/.test(o.jobs)) {
      throw new UsageError(`-j expects a positive number, not '${o.jobs}'`);
    }
    // a bad -o fails now, not after reading every module (and before the tree is looked at)
    if (o.output !== undefined) checkOutputPath(o.output);
    // a build tree keeps its map (kbuild's place for it); a distribution's package directories
    // (a package root, a .../lib/modules/<release>) are not ours to write into: the current one.
    // With the default output a missing objtree is reported by the tree check (the real mistake)
    const tree = findKernelTree(o.objtree ?? '.');
    const inPackage = tree.kind === 'debug-package' || (tree.kind === 'modules-dir' && tree.release !== undefined);
    const output = o.output ?? (inPackage ? 'symbols.klp' : path.join(tree.dir, 'symbols.klp'));
    if (o.output === undefined) checkOutputPath(output);
    refuseInputAsOutput(output, tree);
    const tty = process.stderr.isTTY === true;
    let lastDraw = 0;
    // the map is written as it is made (a temporary file renamed at the end), except for ext -v,
    // whose file table summary reads the finished map
    const stats = format === 'ext' && o.verbose === true;
    const writer = stats ? undefined : new AtomicFileWriter(output);
    const res = await generateSymbolMapParallel({
      objtree: tree,
      format,
      jobs: o.jobs === undefined ? defaultJobs() : Number(o.jobs),
      ...(writer !== undefined ? { write: (b: Uint8Array) => writer.write(b) } : {}),
      ...(tty
        ? {
            onProgress: (done: number, total: number): void => {
              const now = Date.now();
              if (done !== total && now - lastDraw < 100) return;
              lastDraw = now;
              process.stderr.write(`\r  KLP     symbols.klp: ${done}/${total} objects`);
              if (done === total) process.stderr.write('\r\x1b[K');
            },
          }
        : {}),
    }).catch((e: unknown) => {
      writer?.abort();
      throw e;
    });
    let inPlace: boolean;
    if (writer !== undefined) {
      writer.commit();
      inPlace = writer.inPlace;
    } else {
      inPlace = writeFileAtomic(output, res.parts);
    }
    if (o.verbose) {
      process.stderr.write(`klp-convert: symbols: ${describeKernelTree(res.plan.tree)}\n`);
      for (const l of res.plan.livepatch) process.stderr.write(`klp-convert: symbols: skipped livepatch module ${l.entry} (${l.why})\n`);
      process.stderr.write(`klp-convert: symbols: ${output}: format ${format}, ${res.plan.modules.length + 1} objects, ${res.lines} lines, ${res.size} bytes\n`);
      if (format === 'ext') {
        const t = fileTableStats(res.parts);
        process.stderr.write(`klp-convert: symbols: source files: ${t.paths} of ${t.entries} with a path (from DWARF or the tree's .o files), the rest by STT_FILE name only\n`);
      }
    }
    // not after a map written to a device or a pipe (-o /dev/stdout: the map is the output)
    if (!tty && !inPlace) process.stdout.write(`  KLP     ${path.basename(output)}\n`);
    return 0;
  },
};

/**
 * refuseInputAsOutput: the map must not replace what it is made from. vmlinux and modules.order
 * are compared as files; a module is known by what the existing output holds (an ELF file is
 * never a map), which spares a stat of every module.
 */
function refuseInputAsOutput(output: string, tree: KernelTree): void {
  const what = isSameFile(output, tree.vmlinux) ? 'the vmlinux of the tree the map is made from'
    : tree.modulesOrder !== undefined && isSameFile(output, tree.modulesOrder) ? 'the modules.order of the tree the map is made from'
    : hasElfMagic(output) ? 'an ELF file (a module?), which a map must not replace' : undefined;
  if (what !== undefined) throw new UsageError(`-o ${output} is ${what}; choose another output path`);
}

