import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesMap, hashBytes } from './bytes-map.js';

const bytes = (n: number): Uint8Array => new TextEncoder().encode(`key-${n}`);

void describe('BytesMap', () => {
  void it('matches murmur3 reference values', () => {
    assert.equal(hashBytes(new Uint8Array(0)) >>> 0, 0);
    assert.equal(hashBytes(new TextEncoder().encode('hello')) >>> 0, 0x248bfa47);
    assert.equal(
      hashBytes(new TextEncoder().encode('The quick brown fox jumps over the lazy dog')) >>> 0,
      0x2e4ff723,
    );
  });

  void it('agrees with a Map under random sets and deletes, through many resizes', () => {
    const m = new BytesMap<number>();
    const ref = new Map<number, number>();
    let seed = 99;
    for (let step = 0; step < 50000; step++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = seed % 3000;
      if (seed % 5 < 2) {
        assert.equal(m.delete(bytes(n)), ref.delete(n));
      } else {
        m.set(bytes(n), step);
        ref.set(n, step);
      }
    }
    assert.equal(m.size, ref.size);
    for (let n = 0; n < 3000; n++) assert.equal(m.get(bytes(n)), ref.get(n));
  });

  void it('tells apart keys that differ only in length or in one byte', () => {
    const m = new BytesMap<string>();
    m.set(new Uint8Array([1, 2, 3]), 'a');
    m.set(new Uint8Array([1, 2, 3, 0]), 'b');
    m.set(new Uint8Array([1, 2, 4]), 'c');
    assert.equal(m.get(new Uint8Array([1, 2, 3])), 'a');
    assert.equal(m.get(new Uint8Array([1, 2, 3, 0])), 'b');
    assert.equal(m.get(new Uint8Array([1, 2, 4])), 'c');
    assert.equal(m.get(new Uint8Array([1, 2])), undefined);
  });
});
