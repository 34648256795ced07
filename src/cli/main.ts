#!/usr/bin/env node
/**
 * klp-convert command line: a table of subcommands. The 2023 kbuild form
 * `klp-convert SYMBOLS.klp INPUT.ko OUTPUT.ko` (three plain arguments) is accepted as-is.
 */
import { EXIT, PROG, UsageError } from './errors.js';
import type { Command } from './command.js';

/**
 * report.js is loaded when there is an error to report: it pulls in the ELF layer (for its error
 * classes), ~6 ms of module loading that `--version` need not pay (a command loads it anyway).
 */
async function reportError(e: unknown): Promise<number> {
  return (await import('./report.js')).reportError(e);
}

/**
 * The subcommands with the line --help prints for each, loaded on demand: a run imports only the
 * command it runs, and --help none (importing all four and the modules behind them cost ~15 ms
 * of start-up, a twentieth of a `symbols` run; --help ~7 ms).
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  symbols: { summary: 'write symbols.klp from a kernel build tree or a debug package (vmlinux + modules)', load: () => import('./commands/symbols.js') },
  convert: { summary: 'turn relocations against unexported symbols into klp relocations', load: () => import('./commands/convert.js') },
  check: { summary: 'list and verify the klp relocations of livepatch modules', load: () => import('./commands/check.js') },
  dump: { summary: 'list sections, symbols and relocations (a readelf that understands livepatch)', load: () => import('./commands/dump.js') },
};

async function loadCommand(name: string): Promise<Command | undefined> {
  return Object.hasOwn(COMMANDS, name) ? (await COMMANDS[name]!.load()).command : undefined;
}

function help(): string {
  const lines = [`usage: ${PROG} <command> [options]`, `       ${PROG} SYMBOLS.klp INPUT.ko OUTPUT.ko`, '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', `Run '${PROG} <command> --help' for a command's options.`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '-h' || first === '--help') {
      process.stdout.write(help());
      return first === undefined ? 64 : 0;
    }
    if (first === '--version') {
      process.stdout.write('klp-convert 0.1.0\n');
      return 0;
    }
    const cmd = await loadCommand(first);
    if (cmd) {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(cmd.usage.endsWith('\n') ? cmd.usage : cmd.usage + '\n');
        return 0;
      }
      return await cmd.run(rest);
    }
    // drop-in form of the 2023 kbuild patch: klp-convert symbols.klp input.ko output.ko
    if (argv.length === 3 && !first.startsWith('-')) {
      const empty = argv.findIndex((a) => a === '');
      if (empty >= 0) throw new UsageError(`argument ${empty + 1} of 3 is empty; the drop-in form is '${PROG} SYMBOLS.klp INPUT.ko OUTPUT.ko'`);
      const { hasElfMagic } = await import('../elf/index.js');
      if (hasElfMagic(argv[0]!) && !hasElfMagic(argv[1]!)) {
        throw new UsageError(`'${argv[0]}' is an ELF file and '${argv[1]}' is not: the drop-in form is '${PROG} SYMBOLS.klp INPUT.ko OUTPUT.ko'`);
      }
      const convert = await loadCommand('convert');
      if (convert) return await convert.run(['--symbols', argv[0]!, argv[1]!, '-o', argv[2]!]);
    }
    throw new UsageError(`unknown command '${first}'; run '${PROG} --help'`);
  } catch (e) {
    return await reportError(e);
  }
}

/**
 * guardStream keeps a failed write to standard output or error from ending the run with Node's
 * stack trace ("Unhandled 'error' event"): a reader that went away (`check ... | head`: EPIPE)
 * ends the run quietly with the status it had so far, as `dump | head` always did; any other
 * failure (`> /dev/full`: ENOSPC) is one line on standard error and exit 74.
 */
function guardStream(s: NodeJS.WriteStream, name: string): void {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (s !== process.stderr) {
      try {
        process.stderr.write(`${PROG}: error: ${name}: cannot write: ${e.message.replace(/^[A-Z0-9_]+: /, '').replace(/, write$/, '')}\n`);
      } catch {
        /* standard error is gone too */
      }
    }
    process.exit(EXIT.IOERR);
  });
}
guardStream(process.stdout, 'standard output');
guardStream(process.stderr, 'standard error');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (e: unknown) => {
    process.exitCode = await reportError(e);
  },
);
