/**
 * klp-convert convert [--symbols FILE] [--symvers FILE] [--resolve FILE] [--kernel-version X.Y]
 *                     [--json] [-v] INPUT.ko -o OUTPUT.ko
 * and the kbuild drop-in form: klp-convert SYMBOLS.klp INPUT.ko OUTPUT.ko
 */
import { ElfFile, isSameFile, readInputFile, writeFileAtomic } from '../../elf/index.js';
import { convertModule } from '../../klp/convert.js';
import { isKlpBuildModule } from '../../klp/convert-klp-build.js';
import { verifyConverted } from '../../klp/convert-verify.js';
import { loadRules } from '../../klp/rules.js';
import { loadSymbolMap } from '../../klp/symbol-map.js';
import { loadSymvers } from '../../klp/symvers.js';
import { wantedNames } from '../../klp/wanted.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { parseCommandArgs } from '../args.js';
import { warn } from '../report.js';

const usage = `usage: klp-convert convert [options] INPUT.ko -o OUTPUT.ko
       klp-convert SYMBOLS.klp INPUT.ko OUTPUT.ko

Rewrites a livepatch module so that every relocation against an unexported symbol becomes a
klp relocation (.klp.rela.<obj>.<sec>, .klp.sym.<obj>.<name>,<pos>). OUTPUT may equal INPUT.
A klp-build pre-post-link module (__klp_relocs.<obj> tables, x86_64) is finished as
'objtool klp post-link' would: no map needed; with --symbols its positions are verified.

options:
  --symbols FILE        symbols.klp (format 0.1 or the extended format); without it only
                        annotated and minimal-form (.klp.sym.rela.*) symbols are converted
  --symvers FILE        Module.symvers: the exported names (else taken from the map)
  --resolve FILE        rules naming object and position or source file of ambiguous symbols:
                          <object> <symbol> pos=<n>   |   <object> <symbol> file=<path>
                        (<path>: the source file or any trailing part of its path,
                        e.g. fs/proc/consoles.c, proc/consoles.c or consoles.c)
  --kernel-version X.Y  target kernel (symbol names are limited to 127 characters before 6.1)
  --allow-untagged      accept a module without MODULE_INFO(livepatch, "Y")
  --json                print what was converted as JSON on stdout
  -v, --verbose         print each converted symbol on stderr
  -o, --output FILE     where to write the result (required; a file is replaced only once
                        it is whole; /dev/stdout, a device or a pipe is written in place)

exit status: 0 converted (or nothing to do), 1 cannot convert (ambiguous or unknown symbol,
refused section, bad annotation, a klp-build module that is not x86_64), 64 usage, 65 malformed
ELF or map or __klp_relocs table, 66 missing input,
73 cannot create the output.`;

export const command: Command = {
  name: 'convert',
  usage,
  run(argv) {
    const parsed = parseCommandArgs({
      args: argv,
      allowPositionals: true,
      options: {
        symbols: { type: 'string' }, symvers: { type: 'string' }, resolve: { type: 'string' },
        'kernel-version': { type: 'string' }, 'allow-untagged': { type: 'boolean' }, json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' }, output: { type: 'string', short: 'o' },
      },
    }, usage);
    const { values: o, positionals } = parsed;
    if (positionals.length !== 1) throw new UsageError(`expected one input module, got ${positionals.length}\n${usage.split('\n')[0]}`);
    if (!o.output) throw new UsageError(`missing -o OUTPUT\n${usage.split('\n')[0]}`);
    if (o['kernel-version'] !== undefined && !/^\d+\.\d+/.test(o['kernel-version'])) throw new UsageError(`--kernel-version expects X.Y, got '${o['kernel-version']}'`);
    const input = positionals[0]!;
    // OUTPUT may be INPUT.ko (rewritten in place), never another input of the run
    for (const [opt, file] of [['--symbols', o.symbols], ['--symvers', o.symvers], ['--resolve', o.resolve]] as const) {
      if (file !== undefined && isSameFile(o.output, file)) throw new UsageError(`-o ${o.output} is the ${opt} file of this run; choose another output path`);
    }
    const bytes = readInputFile(input);
    const elf = ElfFile.parse(bytes, input);
    // klp-build's pre-post-link module: klp-build chose every object and position, so there is
    // nothing for rules to decide; a map or Module.symvers only verifies the result
    if (o.resolve && isKlpBuildModule(elf)) throw new UsageError(`${input}: --resolve does not apply to a klp-build module (its __klp_relocs tables already name every object and position)`);
    const map = o.symbols ? loadSymbolMap(o.symbols, wantedNames(elf)) : undefined;
    const symvers = o.symvers ? loadSymvers(o.symvers) : undefined;
    // an empty file (a Module.symvers of a build that has not run modpost yet) would make every export look unexported
    if (symvers !== undefined && symvers.size === 0) warn(`${o.symvers}: lists no exported symbols, so every export this module uses becomes a klp relocation; is it the kernel's Module.symvers after 'make modules'?`);
    const rules = o.resolve ? loadRules(o.resolve) : undefined;
    const result = convertModule(elf, {
      file: input, map, symvers, rules, kernelVersion: o['kernel-version'], allowUntagged: o['allow-untagged'],
    });
    for (const w of result.warnings) warn(w);
    // check our own output independently before it can reach make
    verifyConverted(result.bytes, o.output, { map, symvers, kernelVersion: o['kernel-version'], allowUntagged: o['allow-untagged'] });
    writeFileAtomic(o.output, result.bytes);
    if (o.verbose) {
      for (const c of result.converted) {
        process.stderr.write(`  ${c.klpName}  (${c.via}; ${c.relocations.length} relocation${c.relocations.length === 1 ? '' : 's'})\n`);
      }
      if (!result.changed) process.stderr.write(`  ${input}: nothing to convert\n`);
    }
    if (o.json) {
      process.stdout.write(JSON.stringify({
        input, output: o.output, form: result.form, changed: result.changed, converted: result.converted,
        klpSections: result.klpSections, removedSections: result.removedSections, warnings: result.warnings,
      }, null, 2) + '\n');
    }
    return 0;
  },
};
