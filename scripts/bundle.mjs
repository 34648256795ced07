#!/usr/bin/env node
// scripts/bundle.mjs — writes the package's bin: dist/klp-convert.body.cjs, the whole CLI in one
// CommonJS function, dist/klp-convert.body.cache, V8's code cache of it, and dist/klp-convert.cjs,
// the bin, which compiles the one with the other. Why one file: Node 20 loads an ES module graph
// file by file (resolve, package scope, asynchronous read, compile, link), ~1 ms of CPU per module
// on the bench machine; a command loads 15-30 modules, and the -j 2 map worker loads its graph
// again. One CommonJS file skips the ES module loader. Why the cache: compiling the 400 KB body
// and then, lazily, each function a run calls is ~10 ms of a convert run; the cache holds the
// bytecode of the functions a convert of a fixture compiled (taken at its end, not after the
// top-level compile, which holds little), so a run deserializes instead. Node 20 has no
// module.enableCompileCache (22.1+), which does the same per file.
//
// No new dependency: each src/**/*.ts is transpiled to CommonJS with the TypeScript compiler the
// build already uses (transpileModule: no type check, tsc does that) and wrapped in a function;
// its relative imports are resolved here, at build time, and its require() passes node: built-ins
// to Node. Two constructs need help: the map worker's URL (the bin runs as its own worker,
// see the entry at the end) and top-level await (none is allowed; generate-map-worker.ts has none).
// Exports become plain values once their module has run (no module of src/ reassigns an export,
// and no two modules import each other), so a use costs a property load, not a getter call.
// The modules run in the same order and with the same semantics as the ES module build, which
// the tests also run (test/integration/bundle.test.ts compares the two).
import { readFileSync, readdirSync, statSync, writeFileSync, chmodSync, mkdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/klp-convert.cjs');
const bodyFile = join(root, 'dist/klp-convert.body.cjs');
const cacheFile = join(root, 'dist/klp-convert.body.cache');

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
  // each relative require of the CommonJS output resolved here, once, not by path arithmetic at
  // every require (a module of src/ that is not in the bundle fails the build below)
  const deps = {};
  for (const [, , spec] of r.outputText.matchAll(/\brequire\((["'])(\.[^"']*)\1\)/g)) {
    deps[spec] = posix.normalize(posix.join(posix.dirname(id), spec));
  }
  // TypeScript writes re-exports (export * / export { x } from) as getters: see __klpLoad
  const reexports = /\bget: function\b|__exportStar\(/.test(r.outputText);
  mods.push({ id, text: `${JSON.stringify(id)}: [function (exports, require, module) {\n${r.outputText}\n}, ${JSON.stringify(deps)}, ${reexports}]`, deps });
}
const ids = new Set(mods.map((m) => m.id));
for (const m of mods) {
  for (const [spec, dep] of Object.entries(m.deps)) if (!ids.has(dep)) throw new Error(`bundle: ${m.id} imports ${spec}, which is not in src/`);
}

// The body: the modules and their require, as one function expression that the bin compiles and
// calls with CommonJS's five arguments (the lines of a stack trace are the lines of this file).
let body = `(function (exports, require, module, __filename, __dirname) {
// klp-convert, bundled by scripts/bundle.mjs from src/: run by klp-convert.cjs, not by itself.
'use strict';
const __klpModules = {
${mods.map((m) => m.text).join(',\n')}
};
const __klpCache = new Map();
const __klpBundleWorker = require('node:url').pathToFileURL(__filename);
/** __klpLoad runs a module of the bundle once; the entries are [module, its imports resolved, re-exports?] */
function __klpLoad(id) {
  const cached = __klpCache.get(id);
  if (cached !== undefined) return cached.exports;
  const [fn, deps, reexports] = __klpModules[id];
  const module = { exports: {} };
  __klpCache.set(id, module);
  fn.call(module.exports, module.exports, (s) => {
    if (!s.startsWith('.')) return require(s);
    if (deps[s] === undefined) throw new Error('klp-convert bundle: no module ' + s + ' (required from ' + id + ')');
    return __klpLoad(deps[s]);
  }, module);
  // TypeScript re-exports (export * / export { x } from) as getters, for ES live bindings; no
  // export of src/ is reassigned, so plain values do the same, without a getter call per use
  // (a getter per STT_* constant in the map generator's loops cost ~9 % of a run)
  if (reexports) {
    const ex = module.exports;
    const plain = {};
    for (const k of Object.getOwnPropertyNames(ex)) plain[k] = ex[k];
    module.exports = plain;
  }
  return module.exports;
}
// the map generator starts this file as its worker thread (generate-map-parallel.ts). A worker's
// process.argv is [node, this file] (it is given no argv), so only a run without arguments loads
// node:worker_threads to ask: loading it (with the stream modules it pulls in) is ~1-2 ms.
__klpLoad(process.argv.length > 2 || require('node:worker_threads').isMainThread ? 'src/cli/main.js' : 'src/klp/generate-map-worker.js');
})
`;
// ASCII only, so that the bin reads it as latin1 (~1 ms less than decoding 400 KB of UTF-8): the
// few other characters (check's ✓ and ✗) are in string literals, where a \u escape is the same
// character (not so in String.raw, which src/ does not use)
if (body.includes('String.raw')) throw new Error('bundle: String.raw would see the \\u escapes that keep the body ASCII');
body = body.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
// fail the build, not the first run, on what CommonJS cannot hold (top-level await, for one)
try {
  new vm.Script(body, { filename: bodyFile });
} catch (e) {
  throw new Error(`bundle: the bundled CLI does not compile: ${e.message}`);
}
const build = createHash('sha256').update(body).digest('hex');

// The bin: compiles the body with the V8 code cache made below. V8 checks that the cache was made
// by the same V8 with the same flags for a source of the same length (not the same text: the
// build hash at the cache's head ties it to this body); a cache it refuses, or none, costs only
// the compile it would have saved.
const bin = `#!/usr/bin/env node
// klp-convert, written by scripts/bundle.mjs: runs klp-convert.body.cjs (the CLI, bundled from src/)
// with the V8 code cache of its build, klp-convert.body.cache. Edit src/ and rebuild, not these.
'use strict';
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const BUILD = '${build}';
let cachedData;
try {
  const c = readFileSync(__dirname + '/klp-convert.body.cache');
  if (c.toString('latin1', 0, BUILD.length) === BUILD) cachedData = c.subarray(BUILD.length);
} catch {
  // no cache: compile as usual
}
const file = __dirname + '/klp-convert.body.cjs';
new Script(readFileSync(file, 'latin1'), { filename: file, cachedData }).runInThisContext()(exports, require, module, __filename, __dirname);
`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(bodyFile, body);
writeFileSync(out, bin);
chmodSync(out, 0o755);
rmSync(cacheFile, { force: true });

// The code cache: V8's bytecode of every function a run compiled, taken at the end of a convert
// of a committed fixture (the functions of map reading, conversion and verification: the
// compile of the body and of those functions is ~10 ms of a convert run, see bench/README.md).
// Made by the same compile as the bin's, in a process with no NODE_OPTIONS (V8 flags differ
// otherwise, and V8 would refuse the cache for a run without them).
const fixtures = join(root, 'test/fixtures/bin/x86_64');
if (existsSync(join(fixtures, 'symbols.klp')) && existsSync(join(fixtures, 'lp_main.ko'))) {
  const tmp = mkdtempSync(join(tmpdir(), 'klp-bundle-'));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const train = `'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const [file, bin, cacheFile, build, ...args] = process.argv.slice(1);
process.argv = [process.argv[0], bin, ...args];
const script = new Script(readFileSync(file, 'latin1'), { filename: file });
process.on('exit', (code) => { if (code === 0) writeFileSync(cacheFile, Buffer.concat([Buffer.from(build, 'latin1'), script.createCachedData()])); });
script.runInThisContext()(exports, require, module, bin, require('node:path').dirname(bin));`;
  const args = ['convert', '--symbols', join(fixtures, 'symbols.klp'), join(fixtures, 'lp_main.ko'), '-o', join(tmp, 'out.ko')];
  const r = spawnSync(process.execPath, ['-e', train, bodyFile, out, cacheFile, build, ...args], { env, encoding: 'utf8' });
  rmSync(tmp, { recursive: true, force: true });
  if (r.status !== 0 || !existsSync(cacheFile)) throw new Error(`bundle: the code cache's training run failed (${r.status}): ${r.stderr}`);
  const check = `const { readFileSync } = require('node:fs'); const { Script } = require('node:vm');
const [file, cacheFile, build] = process.argv.slice(1);
const s = new Script(readFileSync(file, 'latin1'), { filename: file, cachedData: readFileSync(cacheFile).subarray(build.length) });
process.exit(s.cachedDataRejected ? 1 : 0);`;
  if (spawnSync(process.execPath, ['-e', check, bodyFile, cacheFile, build], { env }).status !== 0) throw new Error('bundle: V8 refuses the code cache it just made');
}
