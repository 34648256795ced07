// modinfoHasLivepatch: "livepatch=" counts only at the start of one of .modinfo's NUL-separated strings
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modinfoHasLivepatch } from '../../src/klp/modinfo.js';

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

test('modinfoHasLivepatch finds the key at the start of any string, nowhere else', () => {
  assert.equal(modinfoHasLivepatch(bytes('livepatch=Y\0')), true);
  assert.equal(modinfoHasLivepatch(bytes('license=GPL\0livepatch=Y\0name=lp\0')), true);
  assert.equal(modinfoHasLivepatch(bytes('license=GPL\0livepatch=')), true);
  assert.equal(modinfoHasLivepatch(bytes('license=GPL\0xlivepatch=Y\0')), false);
  assert.equal(modinfoHasLivepatch(bytes('description=livepatch=Y\0')), false);
  assert.equal(modinfoHasLivepatch(bytes('license=GPL\0livepatch\0')), false);
  assert.equal(modinfoHasLivepatch(bytes('livepatc')), false);
  assert.equal(modinfoHasLivepatch(new Uint8Array(0)), false);
  // a view into a larger buffer sees only its own bytes
  const all = bytes('livepatch=Y\0license=GPL\0');
  assert.equal(modinfoHasLivepatch(all.subarray(12)), false);
  assert.equal(modinfoHasLivepatch(all.subarray(0, 10)), true);
});
