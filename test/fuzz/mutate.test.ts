// Seeded mutation test over the ELF fixtures (style guide §8, tier 4).
//
// Each case takes a fixture, truncates it (at every header boundary, at every section's start
// and end, and at random points) or mutates header fields (e_shoff, e_shnum, e_shstrndx,
// e_shentsize, sh_offset, sh_size, sh_link, sh_info, sh_entsize, sh_name, sh_type, st_name,
// st_shndx, st_info, r_info, plus random byte flips), then runs everything a user can reach:
// parse, every section's data, every symbol table with names and section indexes, every
// relocation table, every group, dump's records and both text and JSON formatting, and the
// editor's write() with and without re-encoding. Every step must succeed or throw an
// ElfFormatError; anything else (RangeError, TypeError, ElfEditError, a plain Error) fails.
// A per-case time bound catches hangs, and a checking ByteSource fails any read that the
// reader did not bound by the file size first (no read, hence no copy, larger than the file).
//
// The PRNG is mulberry32 with a fixed seed; set KLP_FUZZ_SEED / KLP_FUZZ_CASES to explore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ElfEditor, ElfFile, ElfFormatError, LAYOUT, SHT_DYNSYM, SHT_GROUP, SHT_REL, SHT_RELA, SHT_SYMTAB, type ByteSource,
} from '../../src/elf/index.js';
import { buildDump, formatJson, formatText } from '../../src/cli/commands/dump.js';
import { elfFixtures } from '../helpers/elf-fixtures.js';
import { mulberry32 } from '../helpers/prng.js';

const SEED = Number(process.env['KLP_FUZZ_SEED'] ?? 0x6b6c7021);
const MUTATION_CASES = Number(process.env['KLP_FUZZ_CASES'] ?? 15000);
const CASE_LIMIT_MS = 2000;
const MAX_FIXTURE_BYTES = 256 * 1024;


class ReadOutsideFile extends Error {}

/** CheckingSource serves bytes like BufferSource but fails any read the caller did not bound. */
class CheckingSource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new ReadOutsideFile(`read(0x${offset.toString(16)}, 0x${length.toString(16)}) outside a file of 0x${this.size.toString(16)} bytes`);
    }
    return this.bytes.subarray(offset, offset + length);
  }
  close(): void {}
}

interface Layout {
  bits: 32 | 64;
  le: boolean;
  shoff: number;
  shentsize: number;
  shnum: number;
  /** per section: header offset, type, offset, size, entsize */
  secs: { hdr: number; type: number; off: number; size: number; entsize: number }[];
}

/** layoutOf reads the original (valid) fixture's structure, so mutations can aim at real fields. */
function layoutOf(elf: ElfFile): Layout {
  const h = elf.header;
  return {
    bits: h.bits, le: h.littleEndian, shoff: h.e_shoff, shentsize: h.e_shentsize, shnum: elf.sections.length,
    secs: elf.sections.map((s) => ({ hdr: s.headerOffset, type: s.sh_type, off: s.sh_offset, size: s.sh_type === 8 ? 0 : s.sh_size, entsize: s.sh_entsize })),
  };
}

type Field = { at: number; width: 1 | 2 | 4 | 8; what: string };

function headerFields(L: Layout): Field[] {
  const o = L.bits === 64 ? 48 : 36;
  return [
    { at: L.bits === 64 ? 40 : 32, width: L.bits === 64 ? 8 : 4, what: 'e_shoff' },
    { at: o + 10, width: 2, what: 'e_shentsize' },
    { at: o + 12, width: 2, what: 'e_shnum' },
    { at: o + 14, width: 2, what: 'e_shstrndx' },
    { at: 4, width: 1, what: 'EI_CLASS' },
    { at: 5, width: 1, what: 'EI_DATA' },
  ];
}

function sectionFields(L: Layout, i: number): Field[] {
  const h = L.secs[i]!.hdr;
  const w = L.bits === 64 ? 8 : 4;
  const off = (a64: number, a32: number) => h + (L.bits === 64 ? a64 : a32);
  return [
    { at: h, width: 4, what: `sh_name[${i}]` },
    { at: h + 4, width: 4, what: `sh_type[${i}]` },
    { at: off(8, 8), width: w, what: `sh_flags[${i}]` },
    { at: off(24, 16), width: w, what: `sh_offset[${i}]` },
    { at: off(32, 20), width: w, what: `sh_size[${i}]` },
    { at: off(40, 24), width: 4, what: `sh_link[${i}]` },
    { at: off(44, 28), width: 4, what: `sh_info[${i}]` },
    { at: off(56, 36), width: w, what: `sh_entsize[${i}]` },
  ];
}

function entryFields(L: Layout, rnd: () => number): Field[] {
  const out: Field[] = [];
  const S = LAYOUT[L.bits];
  for (const s of L.secs) {
    if (s.size === 0 || s.entsize === 0) continue;
    const n = Math.floor(s.size / s.entsize);
    if (n === 0) continue;
    const k = Math.floor(rnd() * n);
    const e = s.off + k * s.entsize;
    if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) {
      out.push({ at: e, width: 4, what: `st_name` });
      out.push({ at: e + (L.bits === 64 ? 6 : 14), width: 2, what: `st_shndx` });
      out.push({ at: e + (L.bits === 64 ? 4 : 12), width: 1, what: `st_info` });
    } else if (s.type === SHT_RELA || s.type === SHT_REL) {
      out.push({ at: e + S.addr, width: L.bits === 64 ? 8 : 4, what: `r_info` });
    } else if (s.type === SHT_GROUP) {
      out.push({ at: e, width: 4, what: 'group member' });
    }
  }
  return out;
}

function write(b: Uint8Array, f: Field, v: bigint, le: boolean): void {
  if (f.at + f.width > b.length) return;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (f.width) {
    case 1: b[f.at] = Number(v & 0xffn); break;
    case 2: dv.setUint16(f.at, Number(v & 0xffffn), le); break;
    case 4: dv.setUint32(f.at, Number(v & 0xffffffffn), le); break;
    case 8: dv.setBigUint64(f.at, BigInt.asUintN(64, v), le); break;
  }
}

function read(b: Uint8Array, f: Field, le: boolean): bigint {
  if (f.at + f.width > b.length) return 0n;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (f.width) {
    case 1: return BigInt(b[f.at]!);
    case 2: return BigInt(dv.getUint16(f.at, le));
    case 4: return BigInt(dv.getUint32(f.at, le));
    case 8: return dv.getBigUint64(f.at, le);
  }
}

/** pickValue: a bit flip, a small delta, a boundary value, the file size, or random bits. */
function pickValue(old: bigint, f: Field, size: number, rnd: () => number): bigint {
  const bits = BigInt(f.width * 8);
  const r = rnd();
  // section types: mostly the ones the reader treats specially (symtab, rel, group, shndx, nobits)
  if (f.what.startsWith('sh_type') && r < 0.5) return BigInt([0, 1, 2, 3, 4, 8, 9, 11, 17, 18][Math.floor(rnd() * 10)]!);
  if (r < 0.3) return old ^ (1n << BigInt(Math.floor(rnd() * f.width * 8)));
  if (r < 0.45) return old + BigInt(Math.floor(rnd() * 17) - 8);
  if (r < 0.75) {
    const specials = [0n, 1n, 2n, 3n, 4n, 8n, 0xffn, 0xff00n, 0xff20n, 0xfff1n, 0xfff2n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
      BigInt(size), BigInt(size) - 1n, BigInt(size) + 1n, BigInt(size) / 2n, (1n << 53n) + 1n, (1n << 63n), (1n << 64n) - 1n];
    return specials[Math.floor(rnd() * specials.length)]! & ((1n << bits) - 1n);
  }
  let v = 0n;
  for (let i = 0; i < f.width; i++) v = (v << 8n) | BigInt(Math.floor(rnd() * 256));
  return v;
}

/** exercise runs every reachable path over one (possibly malformed) file. */
function exercise(bytes: Uint8Array, name: string): string {
  let elf: ElfFile;
  try {
    elf = ElfFile.fromSource(new CheckingSource(bytes), name);
  } catch (e) {
    return outcome(e, 'parse');
  }
  const results: string[] = [];
  const step = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      results.push(outcome(e, what));
    }
  };
  for (const s of elf.sections) step('data', () => void elf.data(s.index));
  for (const s of elf.sections) {
    if (s.sh_type === SHT_SYMTAB || s.sh_type === SHT_DYNSYM) {
      step('symbols', () => {
        const t = elf.symbols(s.index);
        for (let i = 0; i < t.count; i++) {
          t.name(i);
          t.nameBytes(i);
          t.sectionIndex(i);
          t.value(i);
          t.size(i);
        }
      });
    } else if (s.sh_type === SHT_REL || s.sh_type === SHT_RELA) {
      step('relocations', () => void elf.relocations(s.index).all());
    } else if (s.sh_type === SHT_GROUP) {
      step('group', () => void elf.group(s.index));
    }
  }
  step('dump', () => {
    const doc = buildDump(elf, { sections: true, symbols: true, relocs: true });
    formatText(doc);
    formatJson([doc]);
  });
  step('dump -S', () => void formatText(buildDump(elf, { sections: true, symbols: false, relocs: false })));
  step('write', () => void new ElfEditor(elf).write());
  step('write reencodeAll', () => void new ElfEditor(elf).write({ reencodeAll: true }));
  // the edits a converter makes, on whatever parsed: rename, LOCAL insert (renumbers every
  // r_info and group signature), append a global, a new RELA section, a move and a NONE
  step('edit', () => {
    const ed = new ElfEditor(elf);
    const st = ed.symtabIndex();
    if (st === undefined || ed.symbols.length < 2) return;
    ed.renameSymbol(1, '.klp.sym.vmlinux.fuzzed,1');
    ed.addSymbol({ name: 'fuzz_local', info: 0x01, shndx: 0xfff1 });
    const g = ed.addSymbol({ name: 'fuzz_global', info: 0x10, shndx: 0 });
    ed.setSymbolShndx(g, 0xff20);
    const rs = ed.sections.findIndex((x, i) => i > 0 && (x.sh_type === SHT_RELA || x.sh_type === SHT_REL) && x.sh_link === st);
    if (rs > 0) {
      const list = ed.relocations(rs);
      const k = ed.createRelaSection('.klp.rela.vmlinux.fuzz', 1, 0x100000n);
      if (list.length > 0) {
        ed.relocations(k).push({ ...list[0]!, sym: g });
        ed.setRelocNone(rs, 0);
      }
    }
    ed.write();
  });
  return results.length === 0 ? 'ok' : results.join(',');
}

function outcome(e: unknown, what: string): string {
  if (e instanceof ElfFormatError) return `ElfFormatError:${e.code}`;
  const err = e as Error;
  throw Object.assign(new Error(`${what}: ${err?.name}: ${err?.message}`), { cause: e });
}

test(`seeded mutation of the ELF fixtures (seed 0x${SEED.toString(16)})`, (t) => {
  const fixtures = elfFixtures().map((f) => ({ f, bytes: f.bytes() })).filter((x) => x.bytes.length <= MAX_FIXTURE_BYTES);
  assert.ok(fixtures.length > 0, 'no fixtures');
  const rnd = mulberry32(SEED);
  const failures: string[] = [];
  const kinds = new Map<string, number>();
  const outcomes = new Map<string, number>();
  let cases = 0;
  let slowest = 0;
  const started = Date.now();

  const run = (bytes: Uint8Array, desc: string) => {
    cases++;
    const t0 = performance.now();
    let res: string;
    try {
      res = exercise(bytes, desc);
    } catch (e) {
      const kind = (e as Error).message.replace(/0x[0-9a-f]+|\d+|'[^']*'/g, '#');
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (failures.length < 30 && (kinds.get(kind) ?? 0) <= 2) failures.push(`case ${cases} ${desc}: ${(e as Error).message}\n    ${((e as Error & { cause?: Error }).cause?.stack ?? '').split('\n').slice(1, 4).join('\n    ')}`);
      return;
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    if (ms > CASE_LIMIT_MS && failures.length < 30) failures.push(`case ${cases} ${desc}: took ${ms.toFixed(0)} ms`);
    for (const r of res.split(',')) outcomes.set(r.replace(/^ElfFormatError:/, ''), (outcomes.get(r.replace(/^ElfFormatError:/, '')) ?? 0) + 1);
  };

  // 1. truncations at every header boundary and at each section's start and end
  for (const { f, bytes } of fixtures) {
    const L = layoutOf(ElfFile.parse(bytes, f.name));
    const cuts = new Set<number>([0, 1, 4, 5, 6, 15, 16, 17, 51, 52, 53, 63, 64, 65, L.shoff, L.shoff + 1]);
    for (let i = 0; i <= L.shnum; i++) cuts.add(L.shoff + i * L.shentsize - 1).add(L.shoff + i * L.shentsize);
    for (const s of L.secs) cuts.add(s.off).add(s.off + s.size - 1).add(s.off + s.size);
    for (let k = 0; k < 8; k++) cuts.add(Math.floor(rnd() * bytes.length));
    for (const c of [...cuts].filter((c) => c >= 0 && c < bytes.length).sort((a, b) => a - b)) {
      run(bytes.subarray(0, c), `${f.name} truncated at 0x${c.toString(16)}`);
    }
  }
  // 2. field mutations (1 to 3 per case), MUTATION_CASES in all
  const perFixture = Math.ceil(MUTATION_CASES / fixtures.length);
  for (const { f, bytes } of fixtures) {
    const L = layoutOf(ElfFile.parse(bytes, f.name));
    for (let k = 0; k < perFixture; k++) {
      const b = bytes.slice();
      const n = 1 + Math.floor(rnd() * rnd() * 3);
      const did: string[] = [];
      for (let m = 0; m < n; m++) {
        const r = rnd();
        let fields: Field[];
        if (r < 0.2) fields = headerFields(L);
        else if (r < 0.7) fields = sectionFields(L, Math.floor(rnd() * L.shnum));
        else if (r < 0.95) fields = entryFields(L, rnd);
        else {
          const at = Math.floor(rnd() * b.length);
          b[at]! ^= 1 << Math.floor(rnd() * 8);
          did.push(`flip byte 0x${at.toString(16)}`);
          continue;
        }
        if (fields.length === 0) continue;
        const fld = fields[Math.floor(rnd() * fields.length)]!;
        const v = pickValue(read(b, fld, L.le), fld, b.length, rnd);
        write(b, fld, v, L.le);
        did.push(`${fld.what}@0x${fld.at.toString(16)}=0x${BigInt.asUintN(fld.width * 8, v).toString(16)}`);
      }
      run(b, `${f.name} ${did.join(' ')}`);
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const top = [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ');
  t.diagnostic(`seed 0x${SEED.toString(16)}: ${cases} cases over ${fixtures.length} fixtures in ${secs} s, slowest ${slowest.toFixed(0)} ms`);
  t.diagnostic(`outcomes: ${top}`);
  console.log(`mutation test: seed 0x${SEED.toString(16)}, ${cases} cases, ${fixtures.length} fixtures, ${secs} s`);
  assert.ok(cases >= 10000 || process.env['KLP_FUZZ_CASES'] !== undefined, `only ${cases} cases`);
  const kindList = [...kinds].map(([k, v]) => `${v} x ${k}`);
  assert.deepEqual([...kindList, ...failures], [], `${[...kinds.values()].reduce((a, b) => a + b, 0)} failing cases by kind, then examples`);
});
