// Lists the ELF fixtures the ELF-layer tests run over: every ELF file under test/fixtures/bin
// (committed gcc outputs for each architecture), plus any directories named in
// KLP_EXTRA_FIXTURES (colon-separated; KLP_FIXTURE_DIRS replaces the default), which lets a developer point the same tests at a local
// corpus without committing it.
import { readdirSync, readFileSync, statSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { join, resolve, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** repoRoot is the checkout root (tests run from dist/test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function isElf(p: string): boolean {
  const fd = openSync(p, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b[0] === 0x7f && b.toString('latin1', 1, 4) === 'ELF';
  } finally {
    closeSync(fd);
  }
}

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile() && st.size >= 16 && isElf(p)) out.push(p);
  }
  return out;
}

export interface Fixture {
  /** short name for test titles, e.g. "aarch64/lp_basic.o" */
  name: string;
  path: string;
  bytes(): Uint8Array;
}

/** elfFixtures returns every ELF fixture, sorted, each with a lazy byte loader. */
export function elfFixtures(): Fixture[] {
  const bin = join(repoRoot, 'test/fixtures/bin');
  const only = (process.env['KLP_FIXTURE_DIRS'] ?? '').split(':').filter(Boolean);
  const dirs = only.length > 0 ? only : [bin, ...(process.env['KLP_EXTRA_FIXTURES'] ?? '').split(':').filter(Boolean)];
  const out: Fixture[] = [];
  for (const d of dirs) {
    for (const p of walk(d, [])) {
      const base = d === bin ? bin : dirname(d);
      out.push({ name: relative(base, p), path: p, bytes: () => new Uint8Array(readFileSync(p)) });
    }
  }
  return out;
}

/** fixtureArch names the directory a fixture sits in (x86_64, ppc32, ...). */
export function fixtureArch(f: Fixture): string {
  return f.name.split('/').slice(-2, -1)[0] ?? '';
}
