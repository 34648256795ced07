#!/usr/bin/env node
// scripts/bundle.mjs — writes dist/klp-convert.cjs, the whole CLI in one CommonJS file (the
// package's bin). Why: Node 20 loads an ES module graph file by file (resolve, package scope,
// asynchronous read, compile, link), ~1 ms of CPU per module on the bench machine; a command
// loads 15-30 modules, and the -j 2 map worker loads its graph again. One CommonJS file skips
// the ES module loader. Node 20.20 has no module.enableCompileCache (22.1+).
//
// No new dependency: each src/**/*.ts is transpiled to CommonJS with the TypeScript compiler the
// build already uses (transpileModule: no type check, tsc does that) and wrapped in a function;
// a small require() resolves the relative imports inside the bundle and passes node: built-ins
// to Node. Two constructs need help: the map worker's URL (the bundle runs as its own worker,
// see the entry at the end) and top-level await (none is allowed; generate-map-worker.ts has none).
// Exports become plain values once their module has run (no module of src/ reassigns an export,
// and no two modules import each other), so a use costs a property load, not a getter call.
// The modules run in the same order and with the same semantics as the ES module build, which
// the tests also run (test/integration/bundle.test.ts compares the two).
import { readFileSync, readdirSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/klp-convert.cjs');

function walk(dir, acc) {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, acc);
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) acc.push(p);
  }
  return acc;
}

const WORKER_URL = "new URL('./generate-map-worker.js', import.meta.url)";
const mods = [];
for (const file of walk(join(root, 'src'), [])) {
  const id = relative(root, file).replace(/\.ts$/, '.js');
  let src = readFileSync(file, 'utf8').replace(/^#!.*\n/, '');
  if (src.includes(WORKER_URL)) src = src.replace(WORKER_URL, '__klpBundleWorker');
  if (/import\.meta/.test(src)) throw new Error(`bundle: ${id} uses import.meta, which the CommonJS bundle cannot provide`);
  const r = ts.transpileModule(src, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false, sourceMap: false, removeComments: true },
  });
  if (r.diagnostics?.length) throw new Error(`bundle: ${id}: ${ts.flattenDiagnosticMessageText(r.diagnostics[0].messageText, '\n')}`);
  mods.push(`${JSON.stringify(id)}: function (exports, require, module) {\n${r.outputText}\n}`);
}

const text = `#!/usr/bin/env node
// klp-convert, bundled by scripts/bundle.mjs from src/ (one CommonJS file: faster start-up).
'use strict';
const __klpModules = {
${mods.join(',\n')}
};
const __klpCache = new Map();
const __klpPath = require('node:path').posix;
const __klpBundleWorker = require('node:url').pathToFileURL(__filename);
function __klpRequire(from, spec) {
  if (!spec.startsWith('.')) return require(spec);
  const id = __klpPath.normalize(__klpPath.join(__klpPath.dirname(from), spec));
  const cached = __klpCache.get(id);
  if (cached !== undefined) return cached.exports;
  const fn = __klpModules[id];
  if (fn === undefined) throw new Error('klp-convert bundle: no module ' + id + ' (required from ' + from + ')');
  const module = { exports: {} };
  __klpCache.set(id, module);
  fn.call(module.exports, module.exports, (s) => __klpRequire(id, s), module);
  // TypeScript re-exports (export * / export { x } from) as getters, for ES live bindings; no
  // export of src/ is reassigned, so plain values do the same, without a getter call per use
  // (a getter per STT_* constant in the map generator's loops cost ~9 % of a run)
  const ex = module.exports;
  if (Object.values(Object.getOwnPropertyDescriptors(ex)).some((d) => d.get !== undefined)) {
    const plain = {};
    for (const k of Object.getOwnPropertyNames(ex)) plain[k] = ex[k];
    module.exports = plain;
  }
  return module.exports;
}
// the map generator starts this file as its worker thread (generate-map-parallel.ts). A worker's
// process.argv is [node, this file] (it is given no argv), so only a run without arguments loads
// node:worker_threads to ask: loading it (with the stream modules it pulls in) is ~1-2 ms.
__klpRequire('', process.argv.length > 2 || require('node:worker_threads').isMainThread ? './src/cli/main.js' : './src/klp/generate-map-worker.js');
`;
// fail the build, not the first run, on what CommonJS cannot hold (top-level await, for one)
try {
  new vm.Script(text.replace(/^#!.*\n/, ''), { filename: out });
} catch (e) {
  throw new Error(`bundle: the bundled CLI does not compile: ${e.message}`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text);
chmodSync(out, 0o755);
