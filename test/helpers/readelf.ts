// Runs GNU readelf and parses `readelf -W -S -s -r` into plain records, for oracle tests.
// Everything is kept as readelf prints it (hex strings, names) except numbers the tests compare
// numerically; the tests normalise our side to the same shape.
import { spawnSync } from 'node:child_process';

export interface RSection { index: number; name: string; type: string; addr: string; offset: number; size: number; entsize: number; flags: string; link: number; info: number; align: number }
export interface RSymbol { num: number; value: bigint; size: bigint; type: string; bind: string; vis: string; ndx: string; name: string }
export interface RReloc { offset: bigint; info: bigint; type: string; symValue: bigint | undefined; symName: string; addend: bigint }
export interface ReadelfOut {
  sections: RSection[];
  symtabs: { name: string; symbols: RSymbol[] }[];
  relocs: { name: string; offset: number; relocs: RReloc[] }[];
  stderr: string;
  status: number;
}

let available: boolean | undefined;
/** haveReadelf says whether GNU readelf can be run. */
export function haveReadelf(): boolean {
  if (available === undefined) {
    const r = spawnSync('readelf', ['--version'], { encoding: 'utf8' });
    available = r.status === 0 && /GNU readelf/.test(r.stdout);
  }
  return available;
}

/** runReadelf runs `readelf -W <args> file` and returns stdout, stderr and the exit status. */
export function runReadelf(file: string, args: string[] = ['-S', '-s', '-r']): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('readelf', ['-W', ...args, file], { encoding: 'latin1', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

const SEC = /^\s*\[\s*(\d+)\] (.*?) +(\S+) +([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) +([A-Za-z]*) +(\d+) +(\d+) +(\d+)$/;
const SYM = /^\s*(\d+): ([0-9a-f]+) +(\d+|0x[0-9a-f]+) +(\S+) +(\S+) +(\S+)(?: +\[[^\]]*\])? +((?:OS|PRC|RSV) \[0x[0-9a-f]+\]|\S+) ?(.*)$/;
const REL = /^([0-9a-f]+) +([0-9a-f]+) +(\S+)(?: +(.*))?$/;

/** parseReadelf parses the text of `readelf -W -S -s -r`. */
export function readelf(file: string): ReadelfOut {
  const { stdout, stderr, status } = runReadelf(file);
  const out: ReadelfOut = { sections: [], symtabs: [], relocs: [], stderr, status };
  let mode: 'none' | 'sec' | 'sym' | 'rel' = 'none';
  for (const line of stdout.split('\n')) {
    let m: RegExpMatchArray | null;
    if (line.startsWith('Section Headers:')) { mode = 'sec'; continue; }
    if ((m = line.match(/^Symbol table '(.*)' contains \d+ entr/))) { mode = 'sym'; out.symtabs.push({ name: m[1]!, symbols: [] }); continue; }
    if ((m = line.match(/^Relocation section '(.*)' at offset 0x([0-9a-f]+) contains/))) {
      mode = 'rel'; out.relocs.push({ name: m[1]!, offset: parseInt(m[2]!, 16), relocs: [] }); continue;
    }
    if (line.startsWith('Key to Flags') || line.trim() === '') { if (mode === 'sec') mode = 'none'; continue; }
    if (mode === 'sec' && (m = line.match(SEC))) {
      out.sections.push({
        index: Number(m[1]), name: m[2]!, type: m[3]!, addr: m[4]!, offset: parseInt(m[5]!, 16), size: parseInt(m[6]!, 16),
        entsize: parseInt(m[7]!, 16), flags: m[8]!, link: Number(m[9]), info: Number(m[10]), align: Number(m[11]),
      });
    } else if (mode === 'sym' && (m = line.match(SYM))) {
      out.symtabs.at(-1)!.symbols.push({
        num: Number(m[1]), value: BigInt('0x' + m[2]), size: BigInt(m[3]!), type: m[4]!, bind: m[5]!, vis: m[6]!, ndx: m[7]!, name: m[8]!,
      });
    } else if (mode === 'rel' && (m = line.match(REL))) {
      const rest = (m[4] ?? '').trim();
      let symValue: bigint | undefined;
      let symName = '';
      let addend = 0n;
      let k: RegExpMatchArray | null;
      if ((k = rest.match(/^([0-9a-f]{8,16}) +(.*?) ([+-]) ([0-9a-f]+)$/))) {
        symValue = BigInt('0x' + k[1]); symName = k[2]!; addend = BigInt('0x' + k[4]) * (k[3] === '-' ? -1n : 1n);
      } else if ((k = rest.match(/^([0-9a-f]{8,16})(?: +(.*))?$/)) && rest.length > 8 && / /.test(rest)) {
        symValue = BigInt('0x' + k[1]); symName = k[2] ?? '';
      } else if ((k = rest.match(/^(-?)([0-9a-f]+)$/))) {
        addend = BigInt('0x' + k[2]) * (k[1] === '-' ? -1n : 1n);
      } else if (rest !== '') {
        symName = rest;
      }
      out.relocs.at(-1)!.relocs.push({ offset: BigInt('0x' + m[1]), info: BigInt('0x' + m[2]), type: m[3]!, symValue, symName, addend });
    }
  }
  return out;
}

/** readelfWarnings returns readelf's complaints about a file ("" when it is happy). */
export function readelfWarnings(file: string, args: string[] = ['-S', '-s', '-r']): string {
  const r = runReadelf(file, args);
  const bad = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const inline = r.stdout.split('\n').filter((l) => /^readelf: (Warning|Error)/.test(l));
  return [...bad, ...inline, ...(r.status !== 0 ? [`exit status ${r.status}`] : [])].join('\n');
}
