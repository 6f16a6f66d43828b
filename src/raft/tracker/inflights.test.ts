import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';

function indexesOf(inf: Inflights): bigint[] {
  // Observe the window through its public API only: free one at a time from a clone.
  const c = inf.clone();
  const out: bigint[] = [];
  while (c.count() > 0) {
    const before = c.count();
    for (let probe = 0n; ; probe++) {
      const trial = c.clone();
      trial.freeLE(probe);
      if (trial.count() < before) {
        out.push(probe);
        c.freeFirstOne();
        break;
      }
    }
  }
  return out;
}

test('the window fills at size messages and add into a full window throws', () => {
  const inf = new Inflights(4, 0);
  for (let i = 1n; i <= 4n; i++) {
    assert.equal(inf.full(), false);
    inf.add(i * 10n, 100);
  }
  assert.equal(inf.full(), true);
  assert.equal(inf.count(), 4);
  assert.equal(inf.bytes(), 400);
  assert.throws(() => inf.add(50n, 1), /cannot add into a full inflights/);
});

test('freeLE frees every message up to and including the index', () => {
  const inf = new Inflights(10, 0);
  for (let i = 0n; i < 10n; i++) inf.add(i, 1);
  inf.freeLE(4n);
  assert.equal(inf.count(), 5);
  assert.equal(inf.bytes(), 5);
  inf.freeLE(3n); // below the window: nothing
  assert.equal(inf.count(), 5);
  inf.freeLE(8n);
  assert.equal(inf.count(), 1);
  assert.deepEqual(indexesOf(inf), [9n]);
  inf.freeLE(9n);
  assert.equal(inf.count(), 0);
  assert.equal(inf.bytes(), 0);
});

test('the ring wraps around and keeps order', () => {
  const inf = new Inflights(5, 0);
  for (let i = 1n; i <= 5n; i++) inf.add(i);
  inf.freeLE(3n);
  inf.add(6n);
  inf.add(7n);
  inf.add(8n);
  assert.equal(inf.full(), true);
  assert.deepEqual(indexesOf(inf), [4n, 5n, 6n, 7n, 8n]);
  inf.freeLE(6n);
  assert.deepEqual(indexesOf(inf), [7n, 8n]);
  inf.freeFirstOne();
  assert.deepEqual(indexesOf(inf), [8n]);
});

test('freeFirstOne frees exactly the oldest message and is a no-op when empty', () => {
  const inf = new Inflights(3, 0);
  inf.freeFirstOne();
  assert.equal(inf.count(), 0);
  inf.add(5n, 7);
  inf.add(6n, 9);
  inf.freeFirstOne();
  assert.equal(inf.count(), 1);
  assert.equal(inf.bytes(), 9);
});

test('the byte limit makes the window full before the count limit', () => {
  const inf = new Inflights(100, 1000);
  inf.add(1n, 400);
  inf.add(2n, 500);
  assert.equal(inf.full(), false, '900 of 1000 bytes');
  inf.add(3n, 200);
  assert.equal(inf.full(), true, '1100 bytes reach the limit');
  assert.throws(() => inf.add(4n, 0), /full/);
  inf.freeLE(1n);
  assert.equal(inf.bytes(), 700);
  assert.equal(inf.full(), false);
  inf.add(4n, 300);
  assert.equal(inf.full(), true, 'exactly maxBytes is full');
});

test('a maxBytes of 0 means no byte limit', () => {
  const inf = new Inflights(2, 0);
  inf.add(1n, 1e9);
  assert.equal(inf.full(), false);
});

test('reset empties the window and its bytes', () => {
  const inf = new Inflights(2, 10);
  inf.add(1n, 10);
  assert.equal(inf.full(), true);
  inf.reset();
  assert.equal(inf.count(), 0);
  assert.equal(inf.bytes(), 0);
  assert.equal(inf.full(), false);
  inf.add(1n, 1); // lower indexes are fine after a reset
});

test('indexes must not decrease between resets', () => {
  const inf = new Inflights(4, 0);
  inf.add(10n);
  assert.throws(() => inf.add(9n), /below the last inflight/);
});

test('clone shares no state', () => {
  const a = new Inflights(3, 0);
  a.add(1n, 2);
  const b = a.clone();
  b.add(2n, 3);
  assert.equal(a.count(), 1);
  assert.equal(a.bytes(), 2);
  assert.equal(b.count(), 2);
});

test('invalid limits are rejected', () => {
  assert.throws(() => new Inflights(0, 0));
  assert.throws(() => new Inflights(1, -1));
});
