// src/elf/file-io.ts: an output replaces what was at its path only once it is whole, and
// leaves no temporary file. The existing regular file is unlinked before the rename (replaceWith:
// a rename over it would make ext4 write the new data back before returning); these tests hold
// what a user sees of that to what a plain rename gives.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import { AtomicFileWriter, ElfFile, IoError, readInputFile, writeFileAtomic } from '../../src/elf/index.js';

let d: string;
before(() => { d = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-fileio-')); });
after(() => fs.rmSync(d, { recursive: true, force: true }));

const temps = (): string[] => fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));

test('an existing file is replaced by the new bytes and mode; no temporary file is left', () => {
  const t = path.join(d, 'map.klp');
  fs.writeFileSync(t, 'old contents, longer than the new ones\n', { mode: 0o600 });
  writeFileAtomic(t, [Buffer.from('new\n'), Buffer.from('lines\n')], 0o644);
  assert.equal(fs.readFileSync(t, 'utf8'), 'new\nlines\n');
  assert.equal(fs.statSync(t).mode & 0o777, 0o644 & ~process.umask());
  assert.deepEqual(temps(), []);
});

test('the old file stays whole under its other names: a hard link and an open descriptor keep the old bytes', () => {
  const t = path.join(d, 'linked.ko'), other = path.join(d, 'other-name.ko');
  fs.writeFileSync(t, 'old\n');
  fs.linkSync(t, other);
  const fd = fs.openSync(t, 'r');
  try {
    writeFileAtomic(t, Buffer.from('new\n'));
    assert.equal(fs.readFileSync(t, 'utf8'), 'new\n');
    assert.equal(fs.readFileSync(other, 'utf8'), 'old\n');
    assert.equal(fs.readFileSync(fd, 'utf8'), 'old\n');
  } finally {
    fs.closeSync(fd);
  }
});

test('until commit the target keeps its old bytes; abort leaves it as it was', () => {
  const t = path.join(d, 'pending.klp');
  fs.writeFileSync(t, 'old\n');
  const w = new AtomicFileWriter(t);
  w.write(Buffer.from('half'));
  assert.equal(fs.readFileSync(t, 'utf8'), 'old\n');
  assert.equal(temps().length, 1);
  w.abort();
  assert.equal(fs.readFileSync(t, 'utf8'), 'old\n');
  assert.deepEqual(temps(), []);
});

test('a symbolic link at the target is replaced by the file; what it pointed at is untouched', () => {
  const dest = path.join(d, 'pointed-at'), t = path.join(d, 'link.klp');
  fs.writeFileSync(dest, 'keep\n');
  fs.symlinkSync(dest, t);
  writeFileAtomic(t, Buffer.from('new\n'));
  assert.equal(fs.lstatSync(t).isFile(), true);
  assert.equal(fs.readFileSync(t, 'utf8'), 'new\n');
  assert.equal(fs.readFileSync(dest, 'utf8'), 'keep\n');
});

test('a new path is created', () => {
  const t = path.join(d, 'fresh.klp');
  writeFileAtomic(t, Buffer.from('x\n'));
  assert.equal(fs.readFileSync(t, 'utf8'), 'x\n');
  assert.deepEqual(temps(), []);
});

test('a symbolic link to a character device is written through: the link and the device stay as they were', () => {
  const t = path.join(d, 'to-null.klp');
  fs.symlinkSync('/dev/null', t);
  writeFileAtomic(t, Buffer.from('gone\n'));
  assert.equal(fs.lstatSync(t).isSymbolicLink(), true);
  assert.equal(fs.statSync('/dev/null').isCharacterDevice(), true);
  assert.deepEqual(temps(), []);
});

test('a named pipe is written in place, in pieces, to the process reading it', async () => {
  const fifo = path.join(d, 'map.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const reader = spawn('cat', [fifo]);
  const got: Buffer[] = [];
  reader.stdout.on('data', (b: Buffer) => got.push(b));
  const done = new Promise((resolve) => reader.on('close', resolve));
  const w = new AtomicFileWriter(fifo); // opens once cat has opened its end
  w.write(Buffer.from('first\n'));
  w.write(Buffer.from('second\n'));
  w.commit();
  await done;
  assert.equal(Buffer.concat(got).toString(), 'first\nsecond\n');
  assert.equal(fs.statSync(fifo).isFIFO(), true);
  assert.deepEqual(temps(), []);
});

test("a run killed while writing left its temporary file: the next write of that target removes it, and nothing a live process or another target owns", () => {
  const t = path.join(d, 'killed.klp');
  const dead = spawnSync('true').pid!; // exited: no such process any more
  const stale = `.killed.klp.${dead}.mx7abc.tmp`, live = `.killed.klp.${process.pid}.mx7abd.tmp`;
  const other = `.other.klp.${dead}.mx7abe.tmp`, odd = '.killed.klp.notours.tmp';
  for (const n of [stale, live, other, odd]) fs.writeFileSync(path.join(d, n), 'partial');
  writeFileAtomic(t, Buffer.from('whole\n'));
  assert.equal(fs.readFileSync(t, 'utf8'), 'whole\n');
  assert.deepEqual(temps().sort(), [live, other, odd].sort());
  for (const n of [live, other, odd]) fs.rmSync(path.join(d, n));
});

test('an input that is a device, a pipe or a directory is refused before it is read, naming it: no endless read of /dev/zero, no wait on a FIFO', () => {
  const fifo = path.join(d, 'input.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const cases: [string, RegExp][] = [
    ['/dev/zero', /^\/dev\/zero: is a character device, not a regular file; /],
    [fifo, /input\.fifo: is a pipe \(FIFO\), not a regular file; /],
    [d, /: is a directory; name a file$/],
  ];
  for (const [file, want] of cases) {
    assert.throws(() => readInputFile(file), (e: unknown) => e instanceof IoError && e.role === 'input' && want.test(e.message), file);
  }
  // read at positions (ElfFile): a FIFO opens at once and its first read names it
  assert.throws(() => ElfFile.open(fifo), (e: unknown) => e instanceof IoError && /input\.fifo: is a pipe, which cannot be read at positions/.test(e.message));
  fs.rmSync(fifo);
});
