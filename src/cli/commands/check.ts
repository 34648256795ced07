/**
 * klp-convert check [--symbols FILE] [--symvers FILE] [--json] MODULE.ko...
 * Lists the klp relocations of livepatch modules and verifies them against the kernel's rules.
 */
import { ElfFile } from '../../elf/index.js';
import { loadSymbolMap } from '../../klp/symbol-map.js';
import { loadSymvers } from '../../klp/symvers.js';
import { validateKlpModule } from '../../klp/validate.js';
import { symbolNameLimit } from '../../klp/kernel-rules.js';
import { wantedNames } from '../../klp/wanted.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { parseCommandArgs } from '../args.js';
import { PROG } from '../report.js';
import { runTargetChecks } from './check-target.js';

const usage = `usage: klp-convert check [--symbols FILE] [--symvers FILE] [--kernel-version X.Y] [--json] [-q] [--werror] MODULE.ko...
       klp-convert check --target TARGET [--target TARGET...] [--kernel-version X.Y] [--json] [-q] MODULE.ko...

Lists every klp relocation (section, place, type, object, symbol, position) and checks the module
against what the kernel enforces: klp section names, flags, sh_link/sh_info; SHN_LIVEPATCH
symbols with names the kernel can parse; the vmlinux/module object rule; no ordinary relocation
left active on a klp symbol; no klp relocation in sections the kernel consumes at load; zero
bytes at x86 relocation sites; and, given a map or Module.symvers, no undefined unexported symbol
and positions that exist (counted as the kernel does by an extended map, by nm's names in a 0.1 map). Without --symbols or --symvers nothing tells exports
from unexported symbols: the undefined symbols are listed in a warning instead.

  --werror   count warnings as errors (exit 1), e.g. when neither a map nor Module.symvers is given

With --target, runs the same module rules (their errors fail every target), then decides as the
kernel would whether each module loads and binds on each target:
a kernel build tree, a debug-symbol package (its root or usr/lib/debug/lib/modules/<version>),
an extended map (symbols --format ext), or a /proc/kallsyms capture (a 'modules' file next to it
is read as /proc/modules). Findings quote the kernel's own messages (docs/check.md).

exit status: 0 no errors (warnings are printed; with --target: every module loads and binds on
every target), 1 errors found (or warnings, with --werror), 64 usage, 65 malformed ELF, map or
target, 66 missing input or target.`;

export const command: Command = {
  name: 'check',
  usage,
  run(argv) {
    const parsed = parseCommandArgs({
      args: argv, allowPositionals: true,
      options: {
        symbols: { type: 'string' }, symvers: { type: 'string' }, 'kernel-version': { type: 'string' },
        json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, werror: { type: 'boolean' },
        target: { type: 'string', multiple: true },
      },
    }, usage);
    const { values: o, positionals } = parsed;
    if (positionals.length === 0) throw new UsageError(`no module given\n${usage.split('\n')[0]}`);
    // each module is opened once: its symbol table serves the map's name filter and the checks
    const elves: ElfFile[] = [];
    try {
      for (const file of positionals) {
        const elf = ElfFile.open(file);
        elves.push(elf);
        elf.checkRelocationSections(); // the checks below pick relocation sections by sh_link
      }
      if (o.target && o.target.length > 0 && (o.symbols || o.symvers)) throw new UsageError(`--symbols and --symvers are for the check without a target; with --target the target gives the symbols and exports\n${usage.split('\n')[0]}`);
      if (o.target && o.target.length > 0) return runTargetChecks(elves, { targets: o.target, json: o.json, quiet: o.quiet, kernelVersion: o['kernel-version'] });
      return checkModules(elves, o);
    } finally {
      for (const elf of elves) elf.close();
    }
  },
};

interface CheckOptions { symbols?: string | undefined; symvers?: string | undefined; 'kernel-version'?: string | undefined; json?: boolean | undefined; quiet?: boolean | undefined; werror?: boolean | undefined }

function checkModules(elves: readonly ElfFile[], o: CheckOptions): number {
  // load only the names these modules can ask about (a full map has ~1.3 M lines)
  let map;
  if (o.symbols) {
    const want = new Set<string>();
    for (const elf of elves) for (const n of wantedNames(elf)) want.add(n);
    map = loadSymbolMap(o.symbols, want);
  }
  const symvers = o.symvers ? loadSymvers(o.symvers) : undefined;
  let errors = 0;
  const json: unknown[] = [];
  for (const elf of elves) {
    const file = elf.file;
    const r = validateKlpModule(elf, { map, symvers, symMax: symbolNameLimit(o['kernel-version']) });
    errors += r.findings.filter((x) => x.severity === 'error' || o.werror).length;
    if (o.json) {
      json.push({
        file,
        relocations: r.rows.map((x) => ({ ...x, offset: `0x${x.offset.toString(16)}`, addend: x.addend.toString() })),
        findings: r.findings,
      });
      continue;
    }
    if (!o.quiet) {
      process.stdout.write(`${file}: ${r.rows.length} klp relocation${r.rows.length === 1 ? '' : 's'}\n`);
      let last = '';
      for (const x of r.rows) {
        if (x.section !== last) {
          process.stdout.write(`  ${x.section} (object ${x.object}, applies to ${x.base})\n`);
          last = x.section;
        }
        const add = x.addend === 0n ? '' : x.addend < 0n ? ` - 0x${(-x.addend).toString(16)}` : ` + 0x${x.addend.toString(16)}`;
        const who = x.symName !== undefined ? `${x.symObject}:${x.symName} pos ${x.pos}` : x.symbol;
        process.stdout.write(`    ${x.base}+0x${x.offset.toString(16).padEnd(6)} ${x.type.padEnd(22)} ${who}${add}\n`);
      }
    }
    for (const x of r.findings) process.stderr.write(`${PROG}: ${x.severity}: ${x.message}\n${x.names ? nameLines(x.names) : ''}`);
  }
  if (o.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  return errors > 0 ? 1 : 0;
}

/** nameLines lists a finding's symbols, indented, a few to a line */
function nameLines(names: readonly string[]): string {
  let out = '', line = ' ';
  for (const n of names) {
    if (line.length > 1 && line.length + n.length > 100) {
      out += line + '\n';
      line = ' ';
    }
    line += ' ' + n;
  }
  return out + line + '\n';
}
