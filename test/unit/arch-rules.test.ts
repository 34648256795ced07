// The per-architecture rule for module references from .data..ro_after_init (src/klp/arch-rules.ts):
// converted where real kernels write late relocations into read-only module memory (booted by
// test/kernel's roai and roai-late cases), refused elsewhere and when the machine is unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EM_386, EM_AARCH64, EM_PPC, EM_PPC64, EM_RISCV, EM_S390, EM_X86_64 } from '../../src/elf/index.js';
import { checkBaseSection } from '../../src/klp/sections.js';
import { lateWriteArches, lateWriteRule } from '../../src/klp/arch-rules.js';

test('.data..ro_after_init module references convert on architectures that poke late relocations', () => {
  for (const m of [EM_X86_64, EM_AARCH64, EM_S390]) {
    assert.deepEqual(checkBaseSection('.data..ro_after_init', 'target_mod', m), { ok: true }, `machine ${m}`);
    assert.ok(lateWriteRule(m)?.helper, `machine ${m} names its helper`);
  }
});

test('.data..ro_after_init module references are refused elsewhere, naming the architectures shown to cope', () => {
  for (const m of [EM_386, EM_PPC, EM_PPC64, EM_RISCV, undefined]) {
    const v = checkBaseSection('.data..ro_after_init', 'target_mod', m);
    assert.equal(v.ok, false, `machine ${m}`);
    assert.equal(v.code, 'RO_AFTER_INIT_MODULE');
    if (m !== EM_PPC64) for (const a of lateWriteArches()) assert.ok(v.why!.includes(a), v.why);
  }
});

test('.data..ro_after_init vmlinux references convert everywhere; other section rules do not depend on the machine', () => {
  for (const m of [EM_X86_64, EM_PPC, undefined]) {
    assert.ok(checkBaseSection('.data..ro_after_init', 'vmlinux', m).ok);
    assert.equal(checkBaseSection('__jump_table', 'target_mod', m).code, 'JUMP_TABLE_MODULE_KEY');
    assert.equal(checkBaseSection('__ex_table', 'vmlinux', m).code, 'LOAD_TIME_SECTION');
  }
});

test('on ppc64 the refusal quotes what the kernel did', () => {
  const v = checkBaseSection('.data..ro_after_init', 'target_mod', EM_PPC64);
  assert.equal(v.code, 'RO_AFTER_INIT_MODULE');
  assert.match(v.why!, /Unable to handle kernel data access on write/);
  assert.match(v.why!, /Oops/);
});
