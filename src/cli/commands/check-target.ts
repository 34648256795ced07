/**
 * `klp-convert check --target TARGET... MODULE.ko...`: will each module load and bind on each
 * target kernel? One target and one module: the verdict and every finding. Several: a matrix
 * (module x target, ✓ or the first reason), findings on stderr. `--json`: everything.
 */
import type { ElfFile } from '../../elf/index.js';
import { readPatchTables } from '../../klp/patch-tables.js';
import { bindingDifferences, checkAgainstTarget, declaredObjectFindings, readPatchModule, type PatchModule, type TargetFinding, type TargetVerdict } from '../../klp/target-check.js';
import { loadTarget, type KernelTarget } from '../../klp/target.js';
import { symbolNameLimit } from '../../klp/kernel-rules.js';
import { validateKlpModule, type Finding } from '../../klp/validate.js';
import { PROG } from '../report.js';

export interface TargetCheckOptions {
  targets: readonly string[];
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  kernelVersion?: string | undefined;
}

/** runTargetChecks prints the verdicts and returns the exit status (0 all load and bind, 1 not). */
export function runTargetChecks(elves: readonly ElfFile[], o: TargetCheckOptions): number {
  const mods: PatchModule[] = elves.map((e) => readPatchModule(e, readPatchTables(e)));
  const names = new Set<string>();
  const objects = new Set<string>();
  for (const m of mods) {
    for (const n of m.names) names.add(n);
    for (const x of m.objects) objects.add(x);
  }
  const targets: KernelTarget[] = o.targets.map((t) => loadTarget(t, { names, objects }));
  const labels = uniqueLabels(targets);
  const verdicts: TargetVerdict[][] = mods.map((m) => targets.map((t, i) => ({ ...checkAgainstTarget(m, t, o.kernelVersion, moduleRules(m, t, o.kernelVersion)), target: labels[i]! })));
  const general = mods.map((m, i) => [...declaredObjectFindings(m), ...bindingDifferences(m.file, verdicts[i]!)]);
  const bad = verdicts.some((row) => row.some((v) => !v.ok)) || general.some((g) => g.some((f) => f.severity === 'error'));
  if (o.json) {
    process.stdout.write(JSON.stringify(mods.map((m, i) => ({
      module: m.file, name: m.name,
      objects: m.tables.objects.map((x) => ({ name: x.name, funcs: x.funcs.map((f) => ({ old_name: f.oldName, old_sympos: f.oldSympos.toString() })) })),
      findings: general[i],
      targets: verdicts[i]!.map((v) => ({ target: v.target, kind: targets[verdicts[i]!.indexOf(v)]!.kind, ok: v.ok, patchLoad: v.patchLoad, ...(v.patchFirst ? { patchFirst: v.patchFirst } : {}), lateLoads: v.lateLoads, findings: v.findings })),
    })), null, 2) + '\n');
    return bad ? 1 : 0;
  }
  for (const g of general) printFindings(g, o.quiet);
  if (mods.length === 1 && targets.length === 1) {
    const v = verdicts[0]![0]!;
    process.stdout.write(`${v.module} on ${v.target}: ${summary(v)}\n`);
    printFindings(v.findings, o.quiet);
  } else {
    printMatrix(mods, labels, verdicts, general);
    for (const row of verdicts) for (const v of row) printFindings(v.findings.map((f) => ({ ...f, message: `[${v.target}] ${f.message}` })), o.quiet);
  }
  return bad ? 1 : 0;
}

/** moduleRules: plain check's rules (validate.ts) under the target's name limits; the target judges exports */
function moduleRules(m: PatchModule, t: KernelTarget, kernelVersion: string | undefined): Finding[] {
  return validateKlpModule(m.elf, { againstTarget: true, symMax: symbolNameLimit(t.release ?? kernelVersion) }).findings;
}

function uniqueLabels(targets: readonly KernelTarget[]): string[] {
  const labels = targets.map((t) => t.label);
  return labels.map((l, i) => (labels.indexOf(l) === labels.lastIndexOf(l) ? l : `${l}#${i + 1}`));
}

function summary(v: TargetVerdict): string {
  if (v.ok) return 'loads and binds';
  if (!v.patchLoad.loads) return `insmod fails: ${v.patchLoad.kernel ?? v.patchLoad.reason}`;
  // the module-level rules (validate.ts): wrong before any symbol of the target is looked at
  const any = v.findings.find((f) => f.anyTarget && f.severity === 'error');
  if (any) return `refused on any kernel: ${any.code}${any.kernel ? ` (${any.kernel})` : ''}`;
  const late = v.lateLoads.find((l) => !l.loads);
  if (late) return `loads, but ${late.module} is then refused: ${late.kernel ?? late.reason}`;
  const e = v.findings.find((f) => f.severity === 'error');
  return `loads, but does not bind: ${e?.code ?? 'error'}`;
}

function cell(v: TargetVerdict, general: readonly TargetFinding[]): string {
  const g = general.find((f) => f.severity === 'error');
  if (v.ok && !g) return '✓';
  if (!v.ok) return `✗ ${summary(v)}`;
  return `✗ ${g!.code}`;
}

function printMatrix(mods: readonly PatchModule[], labels: readonly string[], verdicts: TargetVerdict[][], general: TargetFinding[][]): void {
  const header = ['module', ...labels];
  const rowsOut = mods.map((m, i) => [m.file, ...verdicts[i]!.map((v) => cell(v, general[i]!))]);
  const width = header.map((h, c) => Math.max(h.length, ...rowsOut.map((r) => Math.min(r[c]!.length, c === 0 ? 80 : 60))));
  const fmt = (r: readonly string[]): string => r.map((x, c) => (c === r.length - 1 ? x : x.length > width[c]! ? x : x.padEnd(width[c]!))).join('  ');
  process.stdout.write(fmt(header) + '\n');
  for (const r of rowsOut) process.stdout.write(fmt(r) + '\n');
}

function printFindings(findings: readonly TargetFinding[], quiet: boolean | undefined): void {
  for (const f of findings) {
    if (f.severity === 'info' && quiet) continue;
    const sev = f.severity === 'info' ? 'note' : f.severity;
    process.stderr.write(`${PROG}: ${sev}: ${f.message}\n`);
    if (f.kernel && f.fails) process.stderr.write(`  the kernel says: ${f.kernel}\n`);
    if (f.candidates && f.candidates.length > 0 && f.severity !== 'info') {
      process.stderr.write('  candidates (position as the kernel counts it):\n');
      for (const c of f.candidates) process.stderr.write(`    ${c.object}  pos ${c.count === 1 ? '0 (unique) or 1' : c.pos}${c.file ? `  (file ${c.file})` : ''}${c.init ? '  (init section)' : ''}\n`);
    }
  }
}
