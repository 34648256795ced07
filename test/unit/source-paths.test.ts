// file= matching (src/klp/source-paths.ts) and unit-name normalisation (src/klp/path-recovery.ts),
// table tests: which recorded files a user-written name picks, and the shortest name per copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchFile, pickByFile, shortestFileName } from '../../src/klp/source-paths.js';
import { cuSourcePath } from '../../src/klp/path-recovery.js';

test('matchFile() accepts any trailing, component-aligned part of the recorded path', () => {
  const rows: [string, string, ReturnType<typeof matchFile>][] = [
    ['fs/proc/consoles.c', 'consoles.c', 'strong'],
    ['fs/proc/consoles.c', 'proc/consoles.c', 'strong'],
    ['fs/proc/consoles.c', 'fs/proc/consoles.c', 'strong'],
    ['fs/proc/consoles.c', './fs/proc/consoles.c', 'strong'],
    ['fs/proc/consoles.c', 'fs//proc/./consoles.c', 'strong'],
    ['fs/proc/consoles.c', '/usr/src/linux/fs/proc/consoles.c', 'strong'],
    ['fs/proc/consoles.c', 'oc/consoles.c', undefined],
    ['fs/proc/consoles.c', 'nsoles.c', undefined],
    ['fs/proc/consoles.c', 'net/proc/consoles.c', undefined],
    ['consoles.c', 'consoles.c', 'strong'],
    ['consoles.c', 'fs/proc/consoles.c', 'weak'],
    ['consoles.c', 'proc.c', undefined],
  ];
  for (const [recorded, wanted, want] of rows) assert.equal(matchFile(recorded, wanted), want, `${recorded} vs ${wanted}`);
});

test('pickByFile() prefers strong matches; weak ones count only when nothing matches strongly', () => {
  const c = [{ file: 'arch/x86/kernel/cpu/proc.c' }, { file: 'crypto/proc.c' }, { file: 'proc.c' }];
  assert.deepEqual(pickByFile(c, 'proc.c'), { matches: c, weak: false });
  assert.deepEqual(pickByFile(c, 'cpu/proc.c'), { matches: [c[0]], weak: false });
  assert.deepEqual(pickByFile(c, 'net/ipv4/proc.c'), { matches: [c[2]], weak: true });
  assert.deepEqual(pickByFile([{ file: 'a.c' }, { file: undefined }], 'b.c'), { matches: [], weak: true });
});

test('shortestFileName() gives the shortest trailing path that picks one copy, or nothing', () => {
  const c = [{ file: 'arch/x86/kernel/cpu/proc.c' }, { file: 'crypto/proc.c' }, { file: 'fs/proc/consoles.c' }];
  assert.deepEqual(c.map((x) => shortestFileName(x, c)), ['cpu/proc.c', 'crypto/proc.c', 'consoles.c']);
  const same = [{ file: 'kernel/a.c' }, { file: 'kernel/a.c' }];
  assert.equal(shortestFileName(same[0]!, same), undefined);
  // a bare basename next to a path that ends with it: the basename cannot be told apart
  const mixed = [{ file: 'lib/x.c' }, { file: 'x.c' }];
  assert.deepEqual(mixed.map((x) => shortestFileName(x, mixed)), ['lib/x.c', undefined]);
});

test('cuSourcePath() makes DW_AT_name tree-relative', () => {
  assert.equal(cuSourcePath('init/main.c', 'debian/build/build_amd64_none_cloud-amd64'), 'init/main.c');
  assert.equal(cuSourcePath('/home/k/linux/fs/proc/consoles.c', '/home/k/linux'), 'fs/proc/consoles.c');
  assert.equal(cuSourcePath('/home/k/linux/fs/proc/consoles.c', '/home/k/linux/'), 'fs/proc/consoles.c');
  assert.equal(cuSourcePath('../fs/proc/consoles.c', '/home/k/build'), 'fs/proc/consoles.c');
  assert.equal(cuSourcePath('./kernel/./sched/../fork.c', '/k'), 'kernel/fork.c');
  assert.equal(cuSourcePath('/usr/src/x/y.c', '/home/k/linux'), '/usr/src/x/y.c');
  assert.equal(cuSourcePath('a\nb.c', '/k'), undefined);
  assert.equal(cuSourcePath('', '/k'), undefined);
});
