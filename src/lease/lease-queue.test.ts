import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../base/prng.js';
import { LeaseQueue } from './lease-queue.js';

test('the queue yields the earliest time first and keeps one entry per lease', () => {
  const q = new LeaseQueue();
  q.set(1n, 30);
  q.set(2n, 10);
  q.set(3n, 20);
  q.set(2n, 40); // moved later
  assert.equal(q.size, 3);
  assert.deepEqual(q.peek(), { id: 3n, atMs: 20 });
  assert.equal(q.delete(3n), true);
  assert.equal(q.delete(3n), false);
  assert.deepEqual(q.peek(), { id: 1n, atMs: 30 });
  q.set(1n, 50);
  assert.deepEqual(q.peek(), { id: 2n, atMs: 40 });
  assert.equal(q.timeOf(1n), 50);
  q.clear();
  assert.equal(q.peek(), undefined);
});

test('random sets and deletes keep the heap in order (seeded)', () => {
  const rnd = new Prng(42);
  const q = new LeaseQueue();
  const model = new Map<bigint, number>();
  for (let step = 0; step < 5000; step++) {
    const id = BigInt(rnd.intBelow(200));
    if (rnd.chance(0.3)) {
      assert.equal(q.delete(id), model.delete(id));
    } else {
      const at = rnd.intBelow(1000);
      q.set(id, at);
      model.set(id, at);
    }
    if (step % 97 === 0) q.checkInvariants();
    const min = Math.min(...model.values());
    const top = q.peek();
    if (model.size === 0) assert.equal(top, undefined);
    else assert.equal(top!.atMs, min);
  }
  q.checkInvariants();
  assert.equal(q.size, model.size);
});
