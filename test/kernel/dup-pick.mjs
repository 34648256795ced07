// dup-pick.mjs MAP TREE OUT: chooses, for the "dup" livepatch, which copies of vmlinux's
// homonyms it reads on THIS kernel, and writes the files that depend on the choice into OUT:
//   test_klp_convert_dup_pick.h    the asm names the module references
//   test_klp_convert_dup.resolve   the file= rules that pick the copies
//   dup.case                       cases/dup.case with the strings the kernel must print
//
// Why: gcc numbers a function's __func__ string per translation unit (__func__.0, .1, ...), so which
// numbers a file has changes with the kernel version; a case that names __func__.2 of
// microcode/amd.c holds on 6.12 only.  The choice uses the extended map (MAP, from `klp-convert
// symbols --format ext` of TREE: it knows each copy's source path); the strings the kernel must
// print are read from vmlinux with readelf, not from our map, and each is checked against the
// source text (a __func__ string names a function defined in that file, ucode_path's string is a
// literal in it), so a wrong pick or a wrong copy fails here instead of passing silently.
//
// The copies: ucode_path (microcode/intel.c and microcode/amd.c; the amd.c one), a __func__.N of
// arch/x86/kernel/cpu/microcode/amd.c and a __func__.M (M != N) of arch/x86/kernel/cpu/amd.c, each
// with many copies in vmlinux; N and M are the lowest numbers both files have where possible, so
// that the basename amd.c alone is ambiguous and only the path tells them apart.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [mapPath, tree, out] = process.argv.slice(2);
if (!out) {
  process.stderr.write('usage: node dup-pick.mjs MAP TREE OUT\n');
  process.exit(64);
}
const here = new URL('.', import.meta.url).pathname;
const UCODE_FILE = 'arch/x86/kernel/cpu/microcode/amd.c';
const CPU_FILE = 'arch/x86/kernel/cpu/amd.c';

function die(msg) {
  process.stderr.write(`dup-pick: ${msg}\n`);
  process.exit(1);
}

// vmlinux's block of the ext map: name -> [{ ordinal, path }] in map (= .symtab) order
function vmlinuxCopies(text) {
  const copies = new Map();
  const files = new Map();
  let inVmlinux = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      if (inVmlinux) break;
      inVmlinux = line.startsWith('*vmlinux ');
      continue;
    }
    if (!inVmlinux || line === '') continue;
    if (line.startsWith('@')) {
      const sp = line.indexOf(' ');
      files.set(line.slice(1, sp), line.slice(sp + 1));
      continue;
    }
    const f = line.split(' ');
    const file = /^\d+$/.test(f[f.length - 1]) ? files.get(f.pop()) : undefined;
    const name = f[0];
    let list = copies.get(name);
    if (!list) copies.set(name, (list = []));
    list.push({ ordinal: list.length, path: file });
  }
  if (!inVmlinux && copies.size === 0) die(`${mapPath}: no *vmlinux block`);
  return copies;
}

const copies = vmlinuxCopies(readFileSync(mapPath, 'latin1'));
const inFile = (name, path) => (copies.get(name) ?? []).filter((c) => c.path === path);
const funcNumbers = (path) =>
  [...copies.keys()]
    .filter((n) => /^__func__\.\d+$/.test(n) && inFile(n, path).length === 1 && copies.get(n).length > 1)
    .map((n) => Number(n.slice('__func__.'.length)))
    .sort((a, b) => a - b);

const ucodeNums = funcNumbers(UCODE_FILE);
const cpuNums = funcNumbers(CPU_FILE);
if (ucodeNums.length === 0) die(`no __func__.N defined once in ${UCODE_FILE} (map ${mapPath})`);
const n1 = ucodeNums.find((n) => cpuNums.includes(n)) ?? ucodeNums[0];
const cpuRest = cpuNums.filter((n) => n !== n1);
if (cpuRest.length === 0) die(`no __func__.M (M != ${n1}) defined once in ${CPU_FILE} (map ${mapPath})`);
const n2 = cpuRest.find((n) => ucodeNums.includes(n)) ?? cpuRest[0];

// readelf's view of vmlinux: sections by index, symbols by name in .symtab order
const vmlinux = join(tree, 'vmlinux');
const readelf = (args) => execFileSync('readelf', [...args, vmlinux], { encoding: 'latin1', maxBuffer: 1 << 30 });
const sections = new Map();
for (const m of readelf(['-SW']).matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)) {
  sections.set(Number(m[1]), { name: m[2], addr: BigInt('0x' + m[3]), off: BigInt('0x' + m[4]), size: BigInt('0x' + m[5]) });
}
const wanted = new Set(['ucode_path', `__func__.${n1}`, `__func__.${n2}`]);
const symtab = new Map();
for (const line of readelf(['-sW']).split('\n')) {
  const f = line.trim().split(/\s+/);
  if (f.length < 8 || !wanted.has(f[7])) continue;
  let list = symtab.get(f[7]);
  if (!list) symtab.set(f[7], (list = []));
  list.push({ value: BigInt('0x' + f[1]), ndx: f[6] });
}

const fd = openSync(vmlinux, 'r');
function stringOf(name, path) {
  const mine = inFile(name, path);
  if (mine.length !== 1) die(`${name}: ${mine.length} copies from ${path} in ${mapPath}, want 1`);
  const all = symtab.get(name) ?? [];
  if (all.length !== copies.get(name).length) {
    die(`${name}: readelf lists ${all.length} copies in ${vmlinux}, the map ${copies.get(name).length}`);
  }
  const sym = all[mine[0].ordinal];
  const sec = sections.get(Number(sym.ndx));
  if (!sec) die(`${name}: section index ${sym.ndx} of copy ${mine[0].ordinal} is not a section`);
  const buf = Buffer.alloc(512);
  const n = readSync(fd, buf, 0, buf.length, Number(sec.off + (sym.value - sec.addr)));
  const end = buf.subarray(0, n).indexOf(0);
  if (end <= 0) die(`${name}: no NUL-terminated string at ${sec.name}+0x${(sym.value - sec.addr).toString(16)}`);
  return buf.subarray(0, end).toString('latin1');
}
function checkSource(path, str, what) {
  const src = readFileSync(join(tree, path), 'latin1');
  const esc = str.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = what === 'function' ? new RegExp(`\\b${esc}\\s*\\(`) : new RegExp(`"${esc}"`);
  if (!re.test(src)) die(`the string read from vmlinux, "${str}", is not a ${what} of ${path}: the copy is not that file's`);
}

const ucodeStr = stringOf('ucode_path', UCODE_FILE);
checkSource(UCODE_FILE, ucodeStr, 'string literal');
const s1 = stringOf(`__func__.${n1}`, UCODE_FILE);
checkSource(UCODE_FILE, s1, 'function');
const s2 = stringOf(`__func__.${n2}`, CPU_FILE);
checkSource(CPU_FILE, s2, 'function');
closeSync(fd);

const subst = (text) =>
  text
    .replaceAll('@UCODE_FUNC@', `__func__.${n1}`)
    .replaceAll('@CPU_FUNC@', `__func__.${n2}`)
    .replaceAll('@UCODE_PATH_STR@', ucodeStr)
    .replaceAll('@UCODE_FUNC_STR@', s1)
    .replaceAll('@CPU_FUNC_STR@', s2);
writeFileSync(
  join(out, 'test_klp_convert_dup_pick.h'),
  `/* written by test/kernel/dup-pick.mjs for ${tree} */\n` +
    `#define DUP_UCODE_FUNC "__func__.${n1}"\n#define DUP_CPU_FUNC "__func__.${n2}"\n`,
);
writeFileSync(
  join(out, 'test_klp_convert_dup.resolve'),
  '# written by test/kernel/dup-pick.mjs from the map of this kernel\n' +
    'vmlinux ucode_path file=amd.c\n' +
    `vmlinux __func__.${n1} file=microcode/amd.c\nvmlinux __func__.${n2} file=cpu/amd.c\n`,
);
writeFileSync(join(out, 'dup.case'), subst(readFileSync(join(here, 'cases', 'dup.case'), 'utf8')));
process.stdout.write(
  `__func__.${n1} of microcode/amd.c ("${s1}", ${copies.get(`__func__.${n1}`).length} copies), ` +
    `__func__.${n2} of cpu/amd.c ("${s2}", ${copies.get(`__func__.${n2}`).length} copies)\n`,
);
