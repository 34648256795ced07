// src/elf/builtin.ts: built-ins loaded on first use, on Node 20.16+ (process.getBuiltinModule)
// and on earlier Node 20 releases, which lack it (the package's engines say Node >= 20).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlibStatic from 'node:zlib';
import { loadBuiltin } from '../../src/elf/index.js';

test('loadBuiltin returns the built-in itself, with and without process.getBuiltinModule', () => {
  assert.equal(loadBuiltin<typeof import('node:zlib')>('node:zlib').inflateSync, zlibStatic.inflateSync);
  const p = process as { getBuiltinModule?: unknown };
  const saved = p.getBuiltinModule;
  delete p.getBuiltinModule;
  try {
    assert.equal(typeof p.getBuiltinModule, 'undefined');
    assert.equal(loadBuiltin<typeof import('node:zlib')>('node:zlib').inflateSync, zlibStatic.inflateSync);
    assert.equal(typeof loadBuiltin<typeof import('node:child_process')>('node:child_process').spawnSync, 'function');
  } finally {
    p.getBuiltinModule = saved;
  }
});
