// The fake kernel world of test/fixtures (see its README): per arch a vmlinux, target_mod.ko,
// keys-mod.ko and the 0.1 symbols.klp made by the 2022 recipe. makeExtMap() builds the extended
// map of that world with our own `symbols` command.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './elf-fixtures.js';

export const CLI = join(repoRoot, 'dist/src/cli/main.js');
export const fixtureDir = (arch: string): string => join(repoRoot, 'test/fixtures/bin', arch);
export const fixture = (arch: string, name: string): string => join(fixtureDir(arch), name);

/** the fixture world as a build tree (vmlinux, target_mod.ko, keys-mod.ko, modules.order) */
export function fixtureTree(dir: string): string {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  for (const f of ['vmlinux', 'target_mod.ko', 'keys-mod.ko']) copyFileSync(fixture('x86_64', f), join(tree, f));
  writeFileSync(join(tree, 'modules.order'), 'target_mod.ko\nkeys-mod.ko\n');
  writeFileSync(join(tree, 'Makefile'), '# a kernel tree has one\n');
  return tree;
}

export function tmp(prefix = 'klpt-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cli(args: string[], opts: { cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd, maxBuffer: 1 << 26 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const extCache = new Map<string, string>();
/** makeExtMap writes the extended map of an arch's fake kernel and returns its path. */
export function makeExtMap(arch: string): string {
  const hit = extCache.get(arch);
  if (hit) return hit;
  const d = tmp('klpworld-');
  const tree = join(d, 'tree');
  mkdirSync(tree);
  for (const f of ['vmlinux', 'target_mod.ko', 'keys-mod.ko']) copyFileSync(fixture(arch, f), join(tree, f));
  writeFileSync(join(tree, 'modules.order'), 'target_mod.ko\nkeys-mod.ko\n');
  const out = join(d, 'symbols.klpx');
  const r = cli(['symbols', '--objtree', tree, '--format', 'ext', '-o', out]);
  if (r.status !== 0) throw new Error(`symbols --format ext failed for ${arch}: ${r.stderr}`);
  extCache.set(arch, out);
  return out;
}
