import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8, utf8 } from '../base/bytes.js';
import { revId, type Revision } from './revision.js';
import { TreeIndex } from './tree-index.js';

const r = (main: bigint, sub = 0n): Revision => ({ main, sub });
const Z = new Uint8Array([0]);

function keysAt(ti: TreeIndex, key: string, end: Uint8Array | string | undefined, atRev: bigint): string[] {
  const e = typeof end === 'string' ? utf8(end) : end;
  return ti.range(utf8(key), e, atRev).keys.map(fromUtf8);
}

/** foo@1, foo1@2, foo2@3, foo2@4 (second put), foo1 deleted @5, bar@6. */
function sample(): TreeIndex {
  const ti = new TreeIndex();
  ti.put(utf8('foo'), r(1n));
  ti.put(utf8('foo1'), r(2n));
  ti.put(utf8('foo2'), r(3n));
  ti.put(utf8('foo2'), r(4n));
  assert.ok(ti.tombstone(utf8('foo1'), r(5n)));
  ti.put(utf8('bar'), r(6n));
  return ti;
}

void describe('tree index', () => {
  void it('an empty end means the single key', () => {
    const ti = sample();
    assert.deepEqual(keysAt(ti, 'foo', undefined, 6n), ['foo']);
    assert.deepEqual(keysAt(ti, 'foo', '', 6n), ['foo']);
    assert.deepEqual(keysAt(ti, 'foo1', undefined, 6n), []);
    assert.deepEqual(keysAt(ti, 'foo1', undefined, 4n), ['foo1']);
    assert.deepEqual(keysAt(ti, 'nope', undefined, 6n), []);
  });

  void it('[key, end) ranges over the keys alive at the revision', () => {
    const ti = sample();
    assert.deepEqual(keysAt(ti, 'foo', 'foo3', 6n), ['foo', 'foo2']);
    assert.deepEqual(keysAt(ti, 'foo', 'foo3', 4n), ['foo', 'foo1', 'foo2']);
    assert.deepEqual(keysAt(ti, 'foo', 'foo3', 2n), ['foo', 'foo1']);
    assert.deepEqual(keysAt(ti, 'a', 'foo1', 6n), ['bar', 'foo']);
    assert.deepEqual(keysAt(ti, 'foo3', 'foo', 6n), []);
    const revs = ti.range(utf8('foo'), utf8('foo3'), 6n).revs.map(revId);
    assert.deepEqual(revs, ['1_0', '4_0']);
  });

  void it('an end of "\\0" means every key from key on', () => {
    const ti = sample();
    assert.deepEqual(keysAt(ti, 'foo', Z, 6n), ['foo', 'foo2']);
    assert.deepEqual(keysAt(ti, '\0', Z, 6n), ['bar', 'foo', 'foo2']);
    assert.deepEqual(keysAt(ti, 'foo2', Z, 3n), ['foo2']);
  });

  void it('revisions honours the limit but counts the whole range', () => {
    const ti = sample();
    const res = ti.revisions(utf8('\0'), Z, 6n, 2);
    assert.deepEqual(res.revs.map(revId), ['6_0', '1_0']);
    assert.equal(res.count, 3);
    assert.equal(ti.revisions(utf8('\0'), Z, 6n, -1).revs.length, 0);
    assert.equal(ti.revisions(utf8('\0'), Z, 6n, 0).revs.length, 3);
  });

  void it('tombstone of a missing or already deleted key reports nothing deleted', () => {
    const ti = sample();
    assert.equal(ti.tombstone(utf8('nope'), r(7n)), false);
    assert.equal(ti.tombstone(utf8('foo1'), r(7n)), false);
  });

  void it('rangeSince lists every revision from rev on in revision order', () => {
    const ti = sample();
    assert.deepEqual(ti.rangeSince(utf8('\0'), Z, 1n).map(revId), ['1_0', '2_0', '3_0', '4_0', '5_0', '6_0']);
    assert.deepEqual(ti.rangeSince(utf8('foo'), utf8('foo3'), 3n).map(revId), ['3_0', '4_0', '5_0']);
    assert.deepEqual(ti.rangeSince(utf8('foo2'), undefined, 4n).map(revId), ['4_0']);
  });

  void it('compact drops history, removes deleted keys and reports what it kept', () => {
    const ti = sample();
    const kept = ti.compact(5n);
    assert.deepEqual([...kept].sort(), ['1_0', '4_0']);
    assert.deepEqual(
      [...ti.entries()].map((ki) => fromUtf8(ki.key)),
      ['bar', 'foo', 'foo2'],
    );
    assert.deepEqual(keysAt(ti, '\0', Z, 6n), ['bar', 'foo', 'foo2']);
    assert.deepEqual([...ti.keep(6n)].sort(), ['1_0', '4_0', '6_0']);
  });

  void it('copies the key of a new entry so the caller may reuse its buffer', () => {
    const ti = new TreeIndex();
    const k = utf8('abc');
    ti.put(k, r(1n));
    k[0] = 0x7a;
    assert.deepEqual(keysAt(ti, 'abc', undefined, 1n), ['abc']);
  });

  void it('handles 100k keys inserted in random order', () => {
    const ti = new TreeIndex();
    const n = 100000;
    const order = Array.from({ length: n }, (_, i) => i);
    let seed = 12345;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const keyOf = (i: number): Uint8Array => utf8(`key-${String(i).padStart(6, '0')}`);
    order.forEach((i, at) => ti.put(keyOf(i), r(BigInt(at + 1))));
    assert.equal(ti.size, n);
    assert.deepEqual(ti.get(keyOf(4242), BigInt(n))?.modified, r(BigInt(order.indexOf(4242) + 1)));
    const res = ti.revisions(keyOf(500), keyOf(600), BigInt(n), 10);
    assert.equal(res.count, 100);
    assert.equal(res.revs.length, 10);
    assert.equal(ti.revisions(utf8('key-'), Z, BigInt(n), -1).count, n);
  });
});
