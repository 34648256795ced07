// ChunkRing (src/klp/generate-map-parallel.ts): a worker's finished chunks of the map, put in a
// shared buffer and freed by the main thread in the same order once written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkRing, RING } from '../../src/klp/generate-map-parallel.js';

const chunk = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

test('chunks go in at increasing positions, never wrap, and wait for the main thread to free room', () => {
  const sab = ChunkRing.create();
  const worker = new ChunkRing(sab), main = new ChunkRing(sab);
  const big = RING / 4 + 1; // three fit, a fourth does not
  const placed = [1, 2, 3].map((v) => worker.put(chunk(big, v))!);
  assert.deepEqual(placed.map((p) => p.at), [0, big, 2 * big]);
  assert.equal(worker.put(chunk(big, 4)), undefined, 'full: nothing freed yet');
  for (const [i, p] of placed.entries()) assert.ok(main.bytes.subarray(p.at, p.at + big).every((b) => b === i + 1));
  main.free(placed[0]!.end);
  // the fourth does not fit before the end of the buffer: it starts again at 0, past what was freed
  const fourth = worker.put(chunk(big, 4))!;
  assert.equal(fourth.at, 0);
  assert.equal(fourth.end, RING + big);
  assert.ok(main.bytes.subarray(0, big).every((b) => b === 4));
  assert.equal(worker.put(chunk(1, 5)), undefined, 'the second and third are still unwritten');
  main.free(placed[2]!.end);
  assert.deepEqual(worker.put(chunk(1, 5)), { at: big, end: RING + big + 1 });
  assert.equal(worker.put(chunk(RING + 1, 6)), undefined, 'larger than the ring: sent as a copy');
});

test('the written count survives the 32-bit boundary', () => {
  const sab = ChunkRing.create();
  const worker = new ChunkRing(sab), main = new ChunkRing(sab);
  let end = 0;
  // walk the worker's position past 2^32 bytes, freeing as it goes
  const half = new Uint8Array(RING / 2);
  for (let i = 0; i < 2 ** 32 / half.length + 4; i++) {
    end = (worker.put(half) ?? assert.fail(`chunk ${i} did not fit`)).end;
    main.free(end);
  }
  assert.ok(end > 2 ** 32);
  assert.notEqual(worker.put(new Uint8Array(RING)), undefined, 'everything written: the whole ring is free');
});
