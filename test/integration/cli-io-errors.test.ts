// Everyday mistakes with paths (issue 12 item 7), run as a user runs them: the CLI as a child
// process in a scratch directory, paths typed relative to it. Each error must name the path as
// typed (never the hidden temporary file, never Node's text twice), say what to do, exit 66 for
// an input that cannot be read and 73 for an output that cannot be created, and leave nothing
// behind. The tests run as root, which ignores mode bits: a "read-only" place is made with a
// regular file used as a directory (ENOTDIR) and /sys (sysfs refuses new files even to root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { repoRoot } from '../helpers/elf-fixtures.js';

const CLI = join(repoRoot, 'dist/src/cli/main.js');
const FIX = join(repoRoot, 'test/fixtures/bin/x86_64');
let d: string;

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: d });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** the error lines of a run (a failed run prints exactly one `klp-convert: error:` line here) */
function errorLine(r: { stderr: string }): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^klp-convert: error: /);
  return lines[0]!;
}

function count(s: string, sub: string): number {
  return s.split(sub).length - 1;
}

/** no hidden temporary file left anywhere under the scratch directory */
function noTempFiles(): void {
  const walk = (p: string): string[] => readdirSync(p, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(p, e.name)) : e.name.endsWith('.tmp') ? [join(p, e.name)] : []);
  assert.deepEqual(walk(d), []);
}

before(() => {
  d = mkdtempSync(join(tmpdir(), 'klp-ioerr-'));
  copyFileSync(join(FIX, 'lp_minimal.ko'), join(d, 'lp.ko'));
  copyFileSync(join(FIX, 'symbols.klp'), join(d, 'symbols.klp'));
  mkdirSync(join(d, 'outdir'));
  writeFileSync(join(d, 'plain'), 'a regular file\n');
});
after(() => rmSync(d, { recursive: true, force: true }));

test('convert -o DIR (an existing directory): exit 73, names DIR, says to name a file, DIR untouched', () => {
  const r = cli(['convert', 'lp.ko', '-o', 'outdir']);
  assert.equal(r.status, 73, r.stderr);
  const l = errorLine(r);
  assert.match(l, /^klp-convert: error: outdir: is a directory; the output must be a file name \(for example 'outdir\/NAME'\)$/);
  assert.doesNotMatch(l, /\.tmp|rename|EISDIR/);
  assert.deepEqual(readdirSync(join(d, 'outdir')), []);
  noTempFiles();
});

test('convert -o in a missing directory: exit 73, names the output and the directory, suggests mkdir -p', () => {
  const r = cli(['convert', 'lp.ko', '-o', 'no/such/dir/out.ko']);
  assert.equal(r.status, 73, r.stderr);
  const l = errorLine(r);
  assert.equal(l, "klp-convert: error: no/such/dir/out.ko: cannot create: directory 'no/such/dir' does not exist; create it (mkdir -p 'no/such/dir') or choose another output path");
  assert.equal(existsSync(join(d, 'no')), false);
  noTempFiles();
});

test('convert -o under a regular file (ENOTDIR, the read-only case root cannot bypass): exit 73, names the file', () => {
  for (const out of ['plain/out.ko', 'plain/deeper/out.ko']) {
    const r = cli(['convert', 'lp.ko', '-o', out]);
    assert.equal(r.status, 73, r.stderr);
    assert.equal(errorLine(r), `klp-convert: error: ${out}: cannot create: 'plain' is a file, not a directory; choose another output path`);
  }
  noTempFiles();
});

test('convert -o in a directory that refuses new files: exit 73, names the output and the directory', (t) => {
  // sysfs refuses to create regular files, to root too (EACCES; EROFS where /sys is mounted read-only)
  if (!statSync('/sys', { throwIfNoEntry: false })?.isDirectory()) {
    t.skip('no /sys on this machine: nothing that refuses new files to root');
    return;
  }
  const r = cli(['convert', 'lp.ko', '-o', '/sys/klp-convert-test.ko']);
  assert.equal(r.status, 73, r.stderr);
  assert.match(errorLine(r), /^klp-convert: error: \/sys\/klp-convert-test\.ko: cannot create: (no permission to create files in '\/sys'|'\/sys' is on a read-only file system); choose another output path$/);
  assert.equal(existsSync('/sys/klp-convert-test.ko'), false);
});

test('convert -o in a directory without write permission (mode 0555) exits 73, unless run as root', (t) => {
  const ro = join(d, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  try {
    if (process.getuid?.() === 0) {
      t.skip('running as root, which ignores mode bits (the ENOTDIR and /sys tests cover the refusal)');
      return;
    }
    const r = cli(['convert', 'lp.ko', '-o', 'ro/out.ko']);
    assert.equal(r.status, 73, r.stderr);
    assert.equal(errorLine(r), "klp-convert: error: ro/out.ko: cannot create: no permission to create files in 'ro'; choose another output path");
  } finally {
    chmodSync(ro, 0o755);
    rmSync(ro, { recursive: true });
  }
});

test('symbols refuses a bad -o before reading the tree: exit 73 with the same wording', () => {
  // the objtree does not even exist: the output path is checked first when -o is given
  let r = cli(['symbols', '--objtree', 'no-tree', '-o', 'outdir']);
  assert.equal(r.status, 73, r.stderr);
  assert.match(errorLine(r), /^klp-convert: error: outdir: is a directory; /);
  r = cli(['symbols', '--objtree', 'no-tree', '-o', 'missing/symbols.klp']);
  assert.equal(r.status, 73, r.stderr);
  assert.match(errorLine(r), /^klp-convert: error: missing\/symbols\.klp: cannot create: directory 'missing' does not exist; /);
  // without -o, a missing objtree is the mistake to report (the default output lies inside it)
  r = cli(['symbols', '--objtree', 'no-tree']);
  assert.equal(r.status, 66, r.stderr);
  assert.match(errorLine(r), /^klp-convert: error: no-tree: no such directory; pass a kernel build tree, a debug package root/);
  noTempFiles();
});

test('a missing input is named once, as typed, with what to do, exit 66 (convert, check, dump, every option)', () => {
  const cases: { args: string[]; path: string }[] = [
    { args: ['convert', 'nope.ko', '-o', 'out.ko'], path: 'nope.ko' },
    { args: ['convert', '--symbols', 'nope.klp', 'lp.ko', '-o', 'out.ko'], path: 'nope.klp' },
    { args: ['convert', '--symvers', 'nope.symvers', 'lp.ko', '-o', 'out.ko'], path: 'nope.symvers' },
    { args: ['convert', '--resolve', 'nope.rules', 'lp.ko', '-o', 'out.ko'], path: 'nope.rules' },
    { args: ['check', 'nope.ko'], path: 'nope.ko' },
    { args: ['check', '--symbols', 'nope.klp', 'lp.ko'], path: 'nope.klp' },
    { args: ['dump', 'nope.ko'], path: 'nope.ko' },
    { args: ['klp-missing.klp', 'lp.ko', 'out.ko'], path: 'klp-missing.klp' }, // the kbuild drop-in form
  ];
  for (const c of cases) {
    const r = cli(c.args);
    assert.equal(r.status, 66, `${c.args.join(' ')}: ${r.stderr}`);
    const l = errorLine(r);
    assert.equal(l, `klp-convert: error: ${c.path}: no such file or directory; check the path`, c.args.join(' '));
    assert.equal(count(l, c.path), 1, 'the path is printed once');
  }
  assert.equal(existsSync(join(d, 'out.ko')), false);
});

test('an input that is a directory or sits under a file is named, exit 66', () => {
  // (--symbols DIR is not among them: src/klp/symbol-map.ts reads the map with fs directly, and
  // Node's EISDIR from read(2) carries no path)
  for (const args of [['convert', 'outdir', '-o', 'out.ko'], ['check', 'outdir'], ['dump', 'outdir'], ['convert', '--resolve', 'outdir', 'lp.ko', '-o', 'out.ko']]) {
    const r = cli(args);
    assert.equal(r.status, 66, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(errorLine(r), 'klp-convert: error: outdir: is a directory; name a file', args.join(' '));
  }
  const r = cli(['check', 'plain/lp.ko']);
  assert.equal(r.status, 66, r.stderr);
  assert.equal(errorLine(r), 'klp-convert: error: plain/lp.ko: a part of the path is a file, not a directory; check the path');
});

test('convert -o a device or a pipe writes there and leaves the node as it was; a block device is refused, exit 73', (t) => {
  const file = cli(['convert', 'lp.ko', '-o', 'lp-file.ko']);
  assert.equal(file.status, 0, file.stderr);
  const want = readFileSync(join(d, 'lp-file.ko'));
  // /dev/stdout: a link to this process's standard output (a pipe here)
  const r = spawnSync(process.execPath, [CLI, 'convert', 'lp.ko', '-o', '/dev/stdout'], { cwd: d });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, want);
  assert.ok(lstatSync('/dev/stdout').isSymbolicLink());
  // a character device node of our own (as root; the same node as /dev/null)
  const nul = join(d, 'nul');
  if (spawnSync('mknod', [nul, 'c', '1', '3']).status !== 0) {
    t.diagnostic('mknod refused (not root): the character device case is not run');
  } else {
    const n = cli(['convert', 'lp.ko', '-o', 'nul']);
    assert.equal(n.status, 0, n.stderr);
    assert.ok(statSync(nul).isCharacterDevice(), 'still a character device, not a regular file renamed over it');
    rmSync(nul);
    const blk = join(d, 'blk');
    assert.equal(spawnSync('mknod', [blk, 'b', '7', '200']).status, 0);
    const b = cli(['convert', 'lp.ko', '-o', 'blk']);
    assert.equal(b.status, 73, b.stderr);
    assert.equal(errorLine(b), 'klp-convert: error: blk: is a block device; the output must be a file, a character device such as /dev/null, or a pipe');
    assert.ok(statSync(blk).isBlockDevice());
    rmSync(blk);
  }
  rmSync(join(d, 'lp-file.ko'));
  noTempFiles();
});

test('an input that is a device or a pipe is refused at once, named, exit 66 (never an endless read or a wait)', () => {
  const fifo = join(d, 'in.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const cases: { args: string[]; want: string }[] = [
    { args: ['convert', '--symbols', '/dev/zero', 'lp.ko', '-o', 'out.ko'], want: '/dev/zero: is a character device, not a regular file' },
    { args: ['convert', '--symbols', 'in.fifo', 'lp.ko', '-o', 'out.ko'], want: 'in.fifo: is a pipe (FIFO), not a regular file' },
    { args: ['convert', '--symvers', '/dev/zero', 'lp.ko', '-o', 'out.ko'], want: '/dev/zero: is a character device, not a regular file' },
    { args: ['convert', '/dev/zero', '-o', 'out.ko'], want: '/dev/zero: is a character device, not a regular file' },
    { args: ['check', 'in.fifo'], want: 'in.fifo: is a pipe, which cannot be read at positions' },
    { args: ['dump', 'in.fifo'], want: 'in.fifo: is a pipe, which cannot be read at positions' },
  ];
  for (const c of cases) {
    const r = spawnSync(process.execPath, [CLI, ...c.args], { encoding: 'utf8', cwd: d, timeout: 30_000 });
    assert.equal(r.signal, null, `${c.args.join(' ')}: did not finish`);
    assert.equal(r.status, 66, `${c.args.join(' ')}: ${r.stderr}`);
    assert.ok(errorLine(r).startsWith(`klp-convert: error: ${c.want}`), `${c.args.join(' ')}: ${r.stderr}`);
  }
  assert.equal(existsSync(join(d, 'out.ko')), false);
  rmSync(fifo);
  noTempFiles();
});

test('an option given twice, an empty value or an empty file name is a usage error (exit 64), never a run without that input', () => {
  const cases: { args: string[]; want: RegExp }[] = [
    { args: ['convert', '--symbols', 'junk.klp', '--symbols', 'symbols.klp', 'lp.ko', '-o', 'out.ko'], want: /^klp-convert: error: --symbols given twice; give it once$/ },
    { args: ['convert', '--symbols', 'symbols.klp', 'lp.ko', '-o', 'a.ko', '-o', 'out.ko'], want: /^klp-convert: error: -o given twice; give it once$/ },
    { args: ['convert', '--symbols', '', 'lp.ko', '-o', 'out.ko'], want: /^klp-convert: error: --symbols: empty value$/ },
    { args: ['convert', '--symbols=', 'lp.ko', '-o', 'out.ko'], want: /^klp-convert: error: --symbols: empty value$/ },
    { args: ['convert', '--symvers', '', 'lp.ko', '-o', 'out.ko'], want: /^klp-convert: error: --symvers: empty value$/ },
    { args: ['convert', '--symbols', 'symbols.klp', '', '-o', 'out.ko'], want: /^klp-convert: error: an empty argument where a file name belongs$/ },
    { args: ['symbols', '--format', '0.1', '--format', 'ext', '-o', 'out.klp'], want: /^klp-convert: error: --format given twice; give it once$/ },
    { args: ['dump', ''], want: /^klp-convert: error: dump: an empty argument where a file name belongs$/ },
    { args: ['', 'lp.ko', 'out.ko'], want: /^klp-convert: error: argument 1 of 3 is empty; the drop-in form is 'klp-convert SYMBOLS\.klp INPUT\.ko OUTPUT\.ko'$/ },
    { args: ['lp.ko', 'symbols.klp', 'out.ko'], want: /^klp-convert: error: 'lp\.ko' is an ELF file and 'symbols\.klp' is not: the drop-in form is/ },
  ];
  for (const c of cases) {
    const r = cli(c.args);
    assert.equal(r.status, 64, `${JSON.stringify(c.args)}: ${r.stderr}`);
    assert.match(r.stderr.split('\n')[0]!, c.want, JSON.stringify(c.args));
  }
  assert.equal(existsSync(join(d, 'out.ko')), false);
});

test('an output that is an input of the run is refused (exit 64) and the input kept; INPUT.ko itself may be the output', () => {
  const map = readFileSync(join(d, 'symbols.klp'));
  for (const args of [['convert', '--symbols', 'symbols.klp', 'lp.ko', '-o', 'symbols.klp'], ['symbols.klp', 'lp.ko', 'symbols.klp']]) {
    const r = cli(args);
    assert.equal(r.status, 64, r.stderr);
    assert.equal(errorLine(r), 'klp-convert: error: -o symbols.klp is the --symbols file of this run; choose another output path');
    assert.deepEqual(readFileSync(join(d, 'symbols.klp')), map);
  }
  const t = join(d, 'tree');
  mkdirSync(t);
  for (const f of ['vmlinux', 'target_mod.ko', 'keys-mod.ko']) copyFileSync(join(FIX, f), join(t, f));
  writeFileSync(join(t, 'modules.order'), 'keys-mod.ko\ntarget_mod.ko\n');
  const before = Object.fromEntries(readdirSync(t).map((f) => [f, readFileSync(join(t, f))]));
  const want: Record<string, string> = {
    'tree/vmlinux': 'the vmlinux of the tree the map is made from',
    'tree/modules.order': 'the modules.order of the tree the map is made from',
    'tree/target_mod.ko': 'an ELF file (a module?), which a map must not replace',
  };
  for (const [out, what] of Object.entries(want)) {
    const r = cli(['symbols', '--objtree', 'tree', '-o', out]);
    assert.equal(r.status, 64, r.stderr);
    assert.equal(errorLine(r), `klp-convert: error: -o ${out} is ${what}; choose another output path`);
  }
  for (const [f, b] of Object.entries(before)) assert.deepEqual(readFileSync(join(t, f)), b, f);
  copyFileSync(join(d, 'lp.ko'), join(d, 'inplace.ko'));
  const r = cli(['symbols.klp', 'inplace.ko', 'inplace.ko']);
  assert.equal(r.status, 0, r.stderr);
  rmSync(t, { recursive: true });
  rmSync(join(d, 'inplace.ko'));
  noTempFiles();
});

test('a map that is an ELF file or has CRLF line endings is named for what it is (exit 65)', () => {
  writeFileSync(join(d, 'crlf.klp'), readFileSync(join(d, 'symbols.klp'), 'latin1').replaceAll('\n', '\r\n'), 'latin1');
  let r = cli(['convert', '--symbols', 'crlf.klp', 'lp.ko', '-o', 'out.ko']);
  assert.equal(r.status, 65, r.stderr);
  assert.equal(errorLine(r), "klp-convert: error: crlf.klp:1: the map has CRLF (DOS) line endings; convert it back (dos2unix) or regenerate the map with 'klp-convert symbols'");
  r = cli(['convert', '--symbols', 'lp.ko', 'lp.ko', '-o', 'out.ko']);
  assert.equal(r.status, 65, r.stderr);
  assert.match(errorLine(r), /^klp-convert: error: lp\.ko:1: an ELF file, not a symbol map; /);
  rmSync(join(d, 'crlf.klp'));
});

test('an output name of 250 bytes is written (the temporary name stays under the 255-byte limit)', () => {
  const name = 'b'.repeat(247) + '.ko';
  const r = cli(['symbols.klp', 'lp.ko', name]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(statSync(join(d, name)).size > 0);
  rmSync(join(d, name));
  noTempFiles();
});

test('standard output that fails: a full device is one line and exit 74, a reader that went away ends the run quietly', () => {
  const full = spawnSync('bash', ['-c', `node ${JSON.stringify(CLI)} dump lp.ko > /dev/full`], { encoding: 'utf8', cwd: d });
  assert.equal(full.status, 74, full.stderr);
  assert.equal(full.stderr, 'klp-convert: error: standard output: cannot write: no space left on device\n');
  for (const cmd of ['check lp.ko', 'dump lp.ko', 'convert --json --symbols symbols.klp lp.ko -o out.ko']) { // `| true`: the reader is gone before the first write
    const r = spawnSync('bash', ['-c', `node ${JSON.stringify(CLI)} ${cmd} 2>err.txt | true; cat err.txt`], { encoding: 'utf8', cwd: d });
    assert.doesNotMatch(r.stdout, /Unhandled|at .*\.js:\d+|EPIPE/, cmd);
  }
  rmSync(join(d, 'err.txt'));
  rmSync(join(d, 'out.ko'), { force: true });
});

test('an empty Module.symvers is taken, with a warning saying what it does', () => {
  writeFileSync(join(d, 'empty.symvers'), '');
  const r = cli(['convert', '--symbols', 'symbols.klp', '--symvers', 'empty.symvers', 'lp.ko', '-o', 'out.ko']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^klp-convert: warning: empty\.symvers: lists no exported symbols, so every export this module uses becomes a klp relocation; /m);
  rmSync(join(d, 'empty.symvers'));
  rmSync(join(d, 'out.ko'));
});

test('a good run next to these mistakes still writes its output (the checks refuse only what is wrong)', () => {
  const r = cli(['convert', 'lp.ko', '-o', 'outdir/lp-out.ko']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(statSync(join(d, 'outdir/lp-out.ko')).size > 0);
  rmSync(join(d, 'outdir/lp-out.ko'));
  noTempFiles();
});
