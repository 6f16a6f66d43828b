import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from './prng.js';

test('the same seed gives the same sequence; different seeds differ', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  const sb = Array.from({ length: 8 }, () => b.nextUint32());
  const sc = Array.from({ length: 8 }, () => c.nextUint32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('intBelow stays in range and reaches every value', () => {
  const p = new Prng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = p.intBelow(10);
    assert.ok(v >= 0 && v < 10);
    seen.add(v);
  }
  assert.equal(seen.size, 10);
  assert.throws(() => p.intBelow(0), RangeError);
});

test('fork gives an independent but reproducible stream', () => {
  const x = new Prng(1).fork();
  const y = new Prng(1).fork();
  assert.equal(x.nextUint32(), y.nextUint32());
});
