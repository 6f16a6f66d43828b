// The watcher group and its interval tree: stabbing finds exactly the ranges that contain a key
// (checked against a brute-force scan under random inserts and deletes), keys compare in byte
// order, and a group finds single-key, prefix, range and from-key watchers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareBytes, utf8 } from '../base/bytes.js';
import { Prng } from '../base/prng.js';
import { keyString, WatcherGroup } from './watch-group.js';
import { INFINITE_END, IntervalTree } from './watch-interval-tree.js';
import type { WatchSpec } from './watch-types.js';

function member(key: string, end = ''): { spec: WatchSpec; name: string } {
  const e = end === '\0' ? new Uint8Array([0]) : utf8(end);
  const s = { key: utf8(key), end: e, startRev: 0n, prevKv: false, noPut: false, noDelete: false };
  return { spec: s, name: `${key}..${end}` };
}

void describe('keyString', () => {
  void it('orders as the bytes do, high bytes included', () => {
    const rng = new Prng(7);
    for (let i = 0; i < 2000; i++) {
      const a = Uint8Array.from({ length: rng.intBelow(5) }, () =>
        rng.pick([0, 1, 0x7f, 0x80, 0x9f, 0xfe, 0xff]),
      );
      const b = Uint8Array.from({ length: rng.intBelow(5) }, () =>
        rng.pick([0, 1, 0x7f, 0x80, 0x9f, 0xfe, 0xff]),
      );
      const sa = keyString(a);
      const sb = keyString(b);
      assert.equal(Math.sign(compareBytes(a, b)), sa < sb ? -1 : sa > sb ? 1 : 0);
      assert.ok(sa < INFINITE_END);
    }
    const long = new Uint8Array(20000).map((_, i) => i % 251);
    assert.equal(keyString(long).length, 20000);
    assert.equal(keyString(long).charCodeAt(19999), 19999 % 251);
  });
});

void describe('IntervalTree', () => {
  void it('stabs exactly the intervals containing a point under random inserts and deletes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Prng(seed);
      const tree = new IntervalTree<string>();
      const live = new Map<string, [string, string]>();
      const point = (): string => String.fromCharCode(97 + rng.intBelow(12)) + (rng.chance(0.5) ? 'x' : '');
      for (let op = 0; op < 400; op++) {
        if (rng.chance(0.6) || live.size === 0) {
          const a = point();
          const b = rng.chance(0.1) ? INFINITE_END : point();
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const id = `${lo}|${hi}`;
          if (live.has(id)) {
            assert.equal(tree.find(lo, hi), id);
            continue;
          }
          tree.insert(lo, hi, id);
          live.set(id, [lo, hi]);
        } else {
          const id = rng.pick([...live.keys()]);
          const [lo, hi] = live.get(id)!;
          assert.equal(tree.delete(lo, hi), true);
          assert.equal(tree.delete(lo, hi), false);
          live.delete(id);
        }
        tree.check();
        assert.equal(tree.size, live.size);
        const p = point();
        const got: string[] = [];
        tree.stab(p, (v) => got.push(v));
        const want = [...live].filter(([, [lo, hi]]) => lo <= p && p < hi).map(([id]) => id);
        assert.deepEqual(got.sort(), want.sort(), `seed ${seed} op ${op} point ${p}`);
      }
    }
  });
});

void describe('WatcherGroup', () => {
  void it('matches single keys, prefixes, ranges and from-key; deletes; counts', () => {
    const g = new WatcherGroup<ReturnType<typeof member>>();
    const ws = [
      member('foo'),
      member('foo'),
      member('fo', 'fp'),
      member('fo', 'fp'),
      member('a', 'c'),
      member('e', '\0'),
      member('\0', '\0'),
    ];
    ws.forEach((w) => g.add(w));
    assert.throws(() => g.add(ws[0]!), /twice/);
    const match = (key: string): string[] => {
      const out: string[] = [];
      g.match(keyString(utf8(key)), (w) => out.push(w.name));
      return out.sort();
    };
    assert.deepEqual(match('foo'), ['\0..\0', 'e..\0', 'fo..fp', 'fo..fp', 'foo..', 'foo..']);
    assert.deepEqual(match('b'), ['\0..\0', 'a..c']);
    assert.deepEqual(match('c'), ['\0..\0']);
    assert.equal(g.size, 7);
    assert.equal(g.delete(ws[0]!), true);
    assert.equal(g.delete(ws[0]!), false);
    assert.equal(g.delete(ws[2]!), true);
    assert.equal(g.delete(member('zzz')), false);
    assert.deepEqual(match('foo'), ['\0..\0', 'e..\0', 'fo..fp', 'foo..']);
    assert.equal(g.size, 5);
    assert.equal(g.toArray().length, 5);
    g.clear();
    assert.deepEqual(match('foo'), []);
    assert.equal(g.size, 0);
  });
});
