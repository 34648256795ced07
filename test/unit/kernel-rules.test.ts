// kernel-rules.ts against the kernel's own parsing (kernel/livepatch/core.c: sscanf
// ".klp.sym.%55[^.].%511[^,],%lu" and ".klp.rela.%55[^.]"; klp_find_object_symbol()).
// The expected values are worked out from the C semantics: a scanset stops at its width and the
// next literal must then match; %lu skips white space and wraps at 64 bits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atLeast, checkKlpNameParts, kernelLimits, kernelSays, parseKlpSymName, positionMessage, positionOutcome, scanKlpRelaObject, symbolNameLimit,
} from '../../src/klp/kernel-rules.js';

test('parseKlpSymName() reads what the kernel sscanf reads', () => {
  const a = (s: string, max?: number) => {
    const p = parseKlpSymName(s, max);
    return p && [p.object, p.name, p.pos64.toString(), p.loose ?? false];
  };
  assert.deepEqual(a('.klp.sym.vmlinux.foo,0'), ['vmlinux', 'foo', '0', false]);
  assert.deepEqual(a('.klp.sym.mod.foo.isra.0,2'), ['mod', 'foo.isra.0', '2', false]);
  assert.deepEqual(a('.klp.sym.mod.foo, 3'), ['mod', 'foo', '3', true], 'white space before %lu is skipped');
  assert.deepEqual(a('.klp.sym.mod.foo,3x'), ['mod', 'foo', '3', true], 'text after the number is ignored');
  assert.deepEqual(a('.klp.sym.mod.foo,18446744073709551616'), ['mod', 'foo', '0', false], '%lu wraps at 64 bits');
  assert.equal(a('.klp.sym.mod.foo,'), undefined, 'no digits: 2 conversions');
  assert.equal(a('.klp.sym.mod.foo'), undefined);
  assert.equal(a('.klp.sym..foo,0'), undefined, 'empty object: %[ needs one character');
  assert.equal(a('.klp.sym.mod.,0'), undefined, 'empty name');
  assert.equal(a(`.klp.sym.${'m'.repeat(56)}.foo,0`), undefined, '56-character object: %55 stops, "." does not match');
  assert.ok(a(`.klp.sym.${'m'.repeat(55)}.foo,0`));
  assert.ok(a(`.klp.sym.vmlinux.${'f'.repeat(511)},0`));
  assert.equal(a(`.klp.sym.vmlinux.${'f'.repeat(512)},0`), undefined, '%511');
  assert.equal(a(`.klp.sym.vmlinux.${'f'.repeat(128)},0`, symbolNameLimit('5.15')), undefined, '%127 before 6.1');
  assert.ok(a(`.klp.sym.vmlinux.${'f'.repeat(127)},0`, symbolNameLimit('5.15')));
});

test('scanKlpRelaObject() reads at most 55 characters up to the first dot', () => {
  assert.deepEqual(scanKlpRelaObject('.klp.rela.vmlinux.text'), { object: 'vmlinux', truncated: false });
  assert.deepEqual(scanKlpRelaObject('.klp.rela.vmlinux..text'), { object: 'vmlinux', truncated: false });
  assert.equal(scanKlpRelaObject('.klp.rela..text'), undefined);
  assert.deepEqual(scanKlpRelaObject(`.klp.rela.${'m'.repeat(60)}.text`), { object: 'm'.repeat(55), truncated: true });
});

test('symbolNameLimit() and atLeast() by kernel version', () => {
  assert.equal(symbolNameLimit('5.15.0'), 127);
  assert.equal(symbolNameLimit('6.0'), 127);
  assert.equal(symbolNameLimit('6.1.20'), 511);
  assert.equal(symbolNameLimit('7.2.13-1'), 511);
  assert.equal(symbolNameLimit(undefined), 511);
  assert.equal(atLeast('6.12.117', 7, 0), false);
  assert.equal(atLeast('7.2.13', 7, 0), true);
  assert.deepEqual(kernelLimits('6.0'), { objName: 55, symName: 127 });
});

test('positionOutcome() follows klp_find_object_symbol()', () => {
  assert.equal(positionOutcome(0, 0), 'not-found');
  assert.equal(positionOutcome(0, 1), 'not-found');
  assert.equal(positionOutcome(1, 0), 'ok');
  assert.equal(positionOutcome(1, 1), 'ok', 'position 1 on a unique name is accepted');
  assert.equal(positionOutcome(2, 0), 'ambiguous');
  assert.equal(positionOutcome(2, 2), 'ok');
  assert.equal(positionOutcome(2, 3), 'no-such-position');
  assert.equal(positionOutcome(2, (1n << 64n) - 1n), 'no-such-position');
});

test('the kernel\'s messages, vmlinux printed as the kernel prints it', () => {
  assert.equal(positionMessage('ambiguous', 'c_start', 'vmlinux', 0), "livepatch: unresolvable ambiguity for symbol 'c_start' in object '(null)'");
  assert.equal(positionMessage('no-such-position', 'x', 'vmlinux', (1n << 64n) - 1n), "livepatch: symbol position 18446744073709551615 for symbol 'x' in object 'vmlinux' not found");
  assert.equal(positionMessage('not-found', 'x', 'm', 0), "livepatch: symbol 'x' not found in symbol table");
  assert.equal(positionMessage('ok', 'x', 'm', 0), undefined);
  assert.equal(kernelSays.notLivepatchSym('s', 40, 3, '6.12.1'), 'livepatch: symbol s is not marked as a livepatch symbol');
  assert.equal(kernelSays.notLivepatchSym('s', 40, 3, '7.2.13'), 'livepatch: symbol s at rela sec 40 idx 3 is not marked as a livepatch symbol');
});

test('checkKlpNameParts() refuses what the kernel cannot parse', () => {
  const l = kernelLimits();
  assert.equal(checkKlpNameParts(['vmlinux'], 'foo', l), undefined);
  assert.equal(checkKlpNameParts(['a.b'], 'foo', l)?.code, 'BAD_OBJECT_NAME');
  assert.equal(checkKlpNameParts(['m'.repeat(56)], 'foo', l)?.code, 'BAD_OBJECT_NAME');
  assert.equal(checkKlpNameParts(['vmlinux'], 'f,o', l)?.code, 'NAME_HAS_COMMA');
  assert.equal(checkKlpNameParts(['vmlinux'], 'f'.repeat(128), kernelLimits('5.10'))?.code, 'NAME_TOO_LONG');
});
