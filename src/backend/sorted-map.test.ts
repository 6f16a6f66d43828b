import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SortedMap } from './sorted-map.js';

const cmp = (a: number, b: number): number => a - b;

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(m: SortedMap<number, unknown>, start?: number, end?: number): number[] {
  const out: number[] = [];
  m.forEachRange(start, end, (k) => {
    out.push(k);
  });
  return out;
}

void describe('SortedMap (B+tree)', () => {
  void it('keeps entries sorted and answers get/has after random inserts', () => {
    const m = new SortedMap<number, string>(cmp, 8);
    const rnd = prng(1);
    const ref = new Map<number, string>();
    for (let i = 0; i < 5000; i++) {
      const k = Math.floor(rnd() * 3000);
      assert.equal(m.set(k, `v${i}`), !ref.has(k));
      ref.set(k, `v${i}`);
    }
    m.assertValid();
    assert.equal(m.size, ref.size);
    for (const [k, v] of ref) assert.equal(m.get(k), v);
    assert.equal(m.get(-1), undefined);
    assert.deepEqual(
      collect(m),
      [...ref.keys()].sort((a, b) => a - b),
    );
  });

  void it('stays valid and matches a reference under interleaved inserts and deletes', () => {
    const m = new SortedMap<number, number>(cmp, 8);
    const rnd = prng(7);
    const ref = new Set<number>();
    for (let round = 0; round < 20000; round++) {
      const k = Math.floor(rnd() * 1000);
      if (rnd() < 0.45) {
        assert.equal(m.delete(k), ref.delete(k));
      } else {
        m.set(k, k);
        ref.add(k);
      }
      if (round % 997 === 0) m.assertValid();
    }
    m.assertValid();
    assert.deepEqual(
      [...m.entries()].map(([k]) => k),
      [...ref].sort((a, b) => a - b),
    );
  });

  void it('shrinks back to a valid empty tree when everything is deleted', () => {
    const m = new SortedMap<number, number>(cmp, 8);
    for (let i = 0; i < 2000; i++) m.set(i, i);
    for (let i = 0; i < 2000; i += 2) m.delete(i);
    m.assertValid();
    for (let i = 1999; i >= 0; i--) m.delete(i);
    m.assertValid();
    assert.equal(m.size, 0);
    assert.deepEqual(collect(m), []);
    m.set(5, 5);
    assert.deepEqual(collect(m), [5]);
  });

  void it('ranges over [start, end) from any starting point, across leaves', () => {
    const m = new SortedMap<number, string>(cmp, 8);
    for (let i = 0; i < 500; i += 5) m.set(i, String(i));
    assert.deepEqual(collect(m, 12, 31), [15, 20, 25, 30]);
    assert.deepEqual(collect(m, 15, 16), [15]);
    assert.deepEqual(collect(m, 490, undefined), [490, 495]);
    assert.deepEqual(collect(m, 496, undefined), []);
    assert.deepEqual(collect(m, 40, 40), []);
    assert.deepEqual(collect(m, undefined, 11), [0, 5, 10]);
    const firstThree: number[] = [];
    m.forEachRange(100, undefined, (k) => {
      firstThree.push(k);
      return firstThree.length < 3;
    });
    assert.deepEqual(firstThree, [100, 105, 110]);
  });

  void it('refuses mutation during iteration', () => {
    const m = new SortedMap<number, number>(cmp, 8);
    for (let i = 0; i < 20; i++) m.set(i, i);
    assert.throws(() => m.forEachRange(0, undefined, (k) => void m.delete(k)), /mutated during iteration/);
  });

  void it('handles 200k random keys with the default node size', () => {
    const m = new SortedMap<number, number>(cmp);
    const rnd = prng(3);
    for (let i = 0; i < 200000; i++) m.set(Math.floor(rnd() * 1e9), i);
    m.assertValid();
    let prev = -1;
    let n = 0;
    m.forEachRange(undefined, undefined, (k) => {
      assert.ok(k > prev);
      prev = k;
      n++;
    });
    assert.equal(n, m.size);
  });
});
