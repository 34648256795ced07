// read-floor-node: bench/read-floor.c's work done by Node's synchronous fs calls, for bench/speed.sh.
//
//   node bench/read-floor-node.mjs TREE
//
// For vmlinux and every modules.order entry (<stem>.o if it exists, else <stem>.ko): open, read the
// ELF header, the section header table, .symtab and its string table at their offsets (fs.readSync
// with a position: one pread each), close; one reused buffer; the same checksum as the C program
// (every 64th byte of each table pair), so the two are seen to read the same bytes. Nothing else: it is
// what a Node program cannot go below with these calls, one thread. ELF64 little-endian only.
import * as fs from 'node:fs';

const tree = process.argv[2];
if (process.argv.length !== 3) {
  process.stderr.write('usage: read-floor-node TREE\n');
  process.exit(2);
}
let buf = Buffer.allocUnsafe(1 << 20);
const eh = Buffer.allocUnsafe(64);

function readAt(fd, path, dst, n, at) {
  for (let done = 0; done < n;) {
    const r = fs.readSync(fd, dst, done, n - done, at + done);
    if (r <= 0) throw new Error(`read-floor-node: ${path}: short read at ${at}`);
    done += r;
  }
}

function object(path) {
  const fd = fs.openSync(path, 'r');
  readAt(fd, path, eh, 64, 0);
  if (eh.readUInt32BE(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) throw new Error(`read-floor-node: ${path}: not ELF64 little-endian`);
  const shoff = Number(eh.readBigUInt64LE(40)), shn = eh.readUInt16LE(60);
  const sh = Buffer.allocUnsafe(shn * 64);
  readAt(fd, path, sh, shn * 64, shoff);
  let s = 0;
  for (let i = 0; i < shn; i++) {
    const link = sh.readUInt32LE(i * 64 + 40);
    if (sh.readUInt32LE(i * 64 + 4) !== 2 /* SHT_SYMTAB */ || link >= shn) continue;
    const off = Number(sh.readBigUInt64LE(i * 64 + 24)), size = Number(sh.readBigUInt64LE(i * 64 + 32));
    const soff = Number(sh.readBigUInt64LE(link * 64 + 24)), ssize = Number(sh.readBigUInt64LE(link * 64 + 32));
    if (buf.length < size + ssize) buf = Buffer.allocUnsafe((size + ssize) * 2);
    readAt(fd, path, buf, size, off);
    readAt(fd, path, buf.subarray(size), ssize, soff);
    for (let j = 0; j < size + ssize; j += 64) s += buf[j];
    break;
  }
  fs.closeSync(fd);
  return s;
}

let s = object(`${tree}/vmlinux`);
let n = 1;
for (let line of fs.readFileSync(`${tree}/modules.order`, 'latin1').split('\n')) {
  if (line.length === 0) continue;
  if (line.length > 3 && line.endsWith('.ko')) line = line.slice(0, -3);
  else if (line.length > 2 && line.endsWith('.o')) line = line.slice(0, -2);
  const o = `${tree}/${line}.o`;
  s += object(fs.existsSync(o) ? o : `${tree}/${line}.ko`);
  n++;
}
process.stdout.write(`${n} objects, checksum ${s}\n`);
