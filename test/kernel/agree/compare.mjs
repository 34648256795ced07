#!/usr/bin/env node
// compare.mjs AW LOGS "LATE..." TARGET...: the verdicts of `check --target --json` (AW/pred/<target>.json)
// against what the booted kernel did (LOGS/agree-<A|B>-<lp>.log). Prints "ok NAME # what" or
// "FAIL NAME: why" per (case, order, target), then a count line. Used by agree.sh.
//
// What the kernel did, read from the serial log (guest-init.sh's protocol):
//   order A (target module loaded, then the patch): the patch's insmod rc and the first
//     "livepatch: " (or "Unknown symbol") kernel line after it; when it loaded: an oops after the
//     print_debug call (an unrelocated site), and the homonym string it printed;
//   order B (the patch first, then the module): the patch's insmod, then the module's insmod rc
//     and its first "livepatch: " line, plus the "refusing to load module" line.
// What check predicted: patchLoad (order A), patchFirst and lateLoads (order B), the findings
// that mean "loads but never relocated" and the homonym a klp symbol binds (with its file).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [aw, logs, lateList, ...targets] = process.argv.slice(2);
const late = new Set((lateList ?? '').split(' ').filter(Boolean));
const lps = readdirSync(join(aw, 'lp')).filter((f) => f.endsWith('.ko')).map((f) => f.slice(0, -3)).sort();
const NEVER_APPLIED = new Set(['KLP_SECTION_UNDECLARED_OBJECT', 'KLP_SECTION_OBJECT_TOO_LONG']);
const OOPS = /BUG: |general protection fault|Oops:|Kernel panic/;

function logLines(c) {
  const p = join(logs, `agree-${c}.log`);
  if (!existsSync(p)) return undefined;
  return readFileSync(p, 'latin1').replace(/\r/g, '').split('\n');
}

/** step(lines, cmd): rc and kernel lines of the guest step "KLPT $ cmd" */
function step(lines, cmd) {
  const i = lines.indexOf(`KLPT $ ${cmd}`);
  if (i < 0) return undefined;
  let rc;
  const kernel = [];
  for (let k = i + 1; k < lines.length; k++) {
    const l = lines[k];
    if (l.startsWith('KLPT rc=')) rc = Number(l.slice(8));
    else if (l.startsWith('K: ')) kernel.push(l.slice(3));
    else if (l.startsWith('KLPT $') || l.startsWith('KLPT enabled') || l.startsWith('KLPT param')) break;
  }
  return { rc, kernel, after: lines.slice(i) };
}
const firstError = (kernel) => kernel.find((l) => l.startsWith('livepatch: ') && !/^livepatch: (enabling|failed to initialize|patch '.*' failed for module)/.test(l)) ?? kernel.find((l) => / Unknown symbol /.test(l));

function observeA(lp) {
  const lines = logLines(`A-${lp}`);
  if (!lines) return { error: 'no log' };
  const s = step(lines, `insmod /lib/klp/${lp}.ko`);
  if (!s || s.rc === undefined) return { error: `no insmod step in the log (${lines.find((l) => OOPS.test(l)) ?? 'no oops'})` };
  if (s.rc !== 0) return { loads: false, message: firstError(s.kernel) ?? `(no livepatch line; rc=${s.rc})` };
  const crash = s.after.find((l) => OOPS.test(l));
  const mod = s.after.find((l) => l.startsWith(`K: ${lp}: mod: `));
  return { loads: true, crash: crash !== undefined, crashLine: crash, value: mod?.slice(`K: ${lp}: mod: `.length) };
}

function observeB(lp) {
  const lines = logLines(`B-${lp}`);
  if (!lines) return { error: 'no log' };
  const p = step(lines, `insmod /lib/klp/${lp}.ko`);
  if (!p || p.rc === undefined) return { error: 'no patch insmod step' };
  if (p.rc !== 0) return { patchLoads: false, message: firstError(p.kernel) };
  const m = step(lines, 'insmod /lib/klp/test_klp_convert_mod.ko');
  if (!m || m.rc === undefined) return { error: 'no module insmod step' };
  if (m.rc === 0) return { patchLoads: true, moduleLoads: true };
  return { patchLoads: true, moduleLoads: false, message: firstError(m.kernel), refusing: m.kernel.find((l) => /refusing to load module/.test(l)) };
}

function predictionsOf(target) {
  const p = join(aw, 'pred', `${target}.json`);
  const text = existsSync(p) ? readFileSync(p, 'utf8') : '';
  if (!text.startsWith('[')) return { error: `check --target printed no JSON: ${readFileSync(join(aw, 'pred', `${target}.err`), 'utf8').split('\n')[0]}` };
  const byLp = new Map();
  for (const m of JSON.parse(text)) byLp.set(m.module.replace(/^.*\//, '').replace(/\.ko$/, ''), m);
  return { byLp };
}

function bindingOf(m, v) {
  const f = [...m.findings, ...v.findings].find((x) => x.code === 'KLP_SYM_BINDS' && /homonym_string/.test(x.message));
  const file = f && /\(([^()]*\.c)\)/.exec(f.message)?.[1];
  if (!file) return undefined;
  return /_a\.c$/.test(file) ? 'homonym string A' : /_b\.c$/.test(file) ? 'homonym string B' : undefined;
}

let agree = 0, disagree = 0, boots = new Set();
const report = (ok, name, what) => {
  if (ok) { agree++; console.log(`ok ${name} # ${what}`); } else { disagree++; console.log(`FAIL ${name}: ${what}`); }
};

for (const target of targets) {
  const pred = predictionsOf(target);
  for (const lp of lps) {
    const nameA = `agree-A-${lp}-${target}`;
    if (pred.error) { report(false, nameA, pred.error); continue; }
    const m = pred.byLp.get(lp);
    const v = m?.targets?.[0];
    if (!v) { report(false, nameA, 'no verdict for this module'); continue; }
    boots.add(`A-${lp}`);
    const o = observeA(lp);
    if (o.error) { report(false, nameA, o.error); continue; }
    const neverApplied = [...m.findings, ...v.findings].some((f) => f.severity === 'error' && NEVER_APPLIED.has(f.code));
    if (!o.loads) {
      const ok = !v.patchLoad.loads && v.patchLoad.kernel === o.message;
      report(ok, nameA, ok ? `refused: ${o.message}` : `kernel refused with "${o.message}", check said ${v.patchLoad.loads ? 'it loads' : `"${v.patchLoad.kernel ?? v.patchLoad.reason}"`}`);
      continue;
    }
    if (!v.patchLoad.loads) { report(false, nameA, `kernel loaded it, check said "${v.patchLoad.kernel ?? v.patchLoad.reason}"`); continue; }
    if (o.crash !== neverApplied) {
      report(false, nameA, o.crash ? `kernel crashed on use (${o.crashLine}), check saw no unapplied section` : 'check said a section is never applied, but the kernel did not crash on use');
      continue;
    }
    if (o.crash) { report(true, nameA, `loads, never relocated, crashes on use: ${o.crashLine}`); continue; }
    const want = bindingOf(m, v);
    if (want !== undefined && o.value !== undefined && want !== o.value) { report(false, nameA, `kernel bound "${o.value}", check said "${want}"`); continue; }
    report(true, nameA, `loads${o.value ? `, binds "${o.value}"${want ? ' as predicted' : ''}` : ''}`);
  }
  for (const lp of lps) {
    if (!late.has(lp)) continue;
    const nameB = `agree-B-${lp}-${target}`;
    const m = pred.byLp?.get(lp);
    const v = m?.targets?.[0];
    if (!v) { report(false, nameB, pred.error ?? 'no verdict'); continue; }
    if (v.patchFirst === undefined) continue; // a live target decides only the order it saw
    boots.add(`B-${lp}`);
    const o = observeB(lp);
    if (o.error) { report(false, nameB, o.error); continue; }
    if (!o.patchLoads) {
      const ok = !v.patchFirst.loads && v.patchFirst.kernel === o.message;
      report(ok, nameB, ok ? `patch refused: ${o.message}` : `kernel refused the patch with "${o.message}", check said ${v.patchFirst.loads ? 'it loads' : `"${v.patchFirst.kernel}"`}`);
      continue;
    }
    const l = v.lateLoads.find((x) => x.module === 'test_klp_convert_mod');
    if (!v.patchFirst.loads || !l) { report(false, nameB, `kernel loaded the patch first, check said "${v.patchFirst.kernel ?? 'no late load'}"`); continue; }
    if (o.moduleLoads) {
      report(l.loads, nameB, l.loads ? 'patch, then module: both load' : `the kernel loaded test_klp_convert_mod, check said it is refused: "${l.kernel}"`);
      continue;
    }
    const ok = !l.loads && l.kernel === o.message && o.refusing !== undefined;
    report(ok, nameB, ok ? `module refused: ${o.message}; ${o.refusing}` : `kernel refused the module with "${o.message}" (${o.refusing ?? 'no refusing line'}), check said ${l.loads ? 'it loads' : `"${l.kernel}"`}`);
  }
}
console.log(`agreement: ${agree} of ${agree + disagree} verdicts agree with the kernel (${lps.length} modules, ${boots.size} boots, targets: ${targets.join(', ')})`);
process.exit(disagree === 0 ? 0 : 1);
