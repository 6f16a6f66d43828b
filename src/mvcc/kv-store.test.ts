// KVStore behaviour: revisions, versions, generations, reads at revisions, write transactions and
// their events. Every case runs against the memory and the LMDB backend.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8 } from '../base/bytes.js';
import { Err } from '../base/errors.js';
import { EventType } from './key-value.js';
import {
  ALL_END,
  backendImpls,
  del,
  dump,
  k,
  open,
  put,
  show,
  storedRevisions,
} from './store-harness.test.js';

const impls = backendImpls();
after(() => impls.forEach((i) => i.cleanup()));

for (const impl of impls) {
  void describe(`KVStore on ${impl.name}`, () => {
    void it('starts at revision 1 and gives each put the next revision', () => {
      const s = open(impl.make());
      assert.equal(s.currentRev, 1n);
      assert.equal(s.compactRev, -1n);
      put(s, 'foo', 'bar');
      assert.equal(s.currentRev, 2n);
      put(s, 'foo', 'baz');
      put(s, 'other', 'x');
      assert.equal(s.currentRev, 4n);
      assert.deepEqual(dump(s), ['foo=baz c2 m3 v2', 'other=x c4 m4 v1']);
      const r = s.range(k('foo'));
      assert.equal(r.rev, 4n);
      assert.equal(r.count, 1);
    });

    void it('put returns the previous KeyValue and emits PUT events carrying it', () => {
      const s = open(impl.make());
      const first = put(s, 'a', '1', 7n);
      assert.equal(first.length, 1);
      assert.equal(first[0]!.type, EventType.PUT);
      assert.equal(show(first[0]!.kv), 'a=1 c2 m2 v1 l7');
      assert.equal(first[0]!.prevKv, undefined);
      const second = put(s, 'a', '2');
      assert.equal(show(second[0]!.kv), 'a=2 c2 m3 v2');
      assert.equal(show(second[0]!.prevKv!), 'a=1 c2 m2 v1 l7');
      s.backend.write((tx) => {
        const txn = s.write(tx);
        assert.equal(show(txn.put(k('a'), k('3'))!), 'a=2 c2 m3 v2');
        assert.equal(txn.put(k('new'), k('n')), undefined);
        txn.end();
      });
      const skipped = s.backend.write((tx) => {
        const txn = s.write(tx);
        assert.equal(txn.put(k('a'), k('4'), 0n, { prevKv: false }), undefined);
        return txn.end();
      });
      assert.equal(show(skipped[0]!.kv), 'a=4 c2 m5 v4');
      assert.equal(skipped[0]!.prevKv, undefined);
    });

    void it('a transaction with several writes takes one main revision and a sub revision each', () => {
      const s = open(impl.make());
      put(s, 'c', 'old');
      const events = s.backend.write((tx) => {
        const txn = s.write(tx);
        assert.equal(txn.beginRev, 2n);
        assert.equal(txn.rev, 2n);
        txn.put(k('a'), k('1'));
        txn.put(k('b'), k('2'));
        assert.deepEqual(txn.deleteRange(k('c')).map(show), ['c=old c2 m2 v1']);
        txn.put(k('a'), k('again'));
        assert.equal(txn.rev, 3n);
        // Reads inside the transaction see its own writes, at the revision it will commit.
        const r = txn.range(k('a'), k('z'));
        assert.equal(r.rev, 3n);
        assert.deepEqual(r.kvs.map(show), ['a=again c3 m3 v2', 'b=2 c3 m3 v1']);
        return txn.end();
      });
      assert.equal(s.currentRev, 3n);
      assert.deepEqual(
        events.map((e) => [e.type, show(e.kv)]),
        [
          [EventType.PUT, 'a=1 c3 m3 v1'],
          [EventType.PUT, 'b=2 c3 m3 v1'],
          [EventType.DELETE, 'c= c0 m3 v0'],
          [EventType.PUT, 'a=again c3 m3 v2'],
        ],
      );
      assert.equal(show(events[2]!.prevKv!), 'c=old c2 m2 v1');
      assert.deepEqual(storedRevisions(s.backend), ['2.0', '3.0', '3.1', '3.2t', '3.3']);
    });

    void it('a transaction that changes nothing does not move the revision', () => {
      const s = open(impl.make());
      put(s, 'a', '1');
      const events = s.backend.write((tx) => {
        const txn = s.write(tx);
        assert.deepEqual(txn.deleteRange(k('missing')), []);
        assert.deepEqual(txn.deleteRange(k('b'), k('z')), []);
        assert.equal(txn.range(k('a')).rev, 2n);
        return txn.end();
      });
      assert.deepEqual(events, []);
      assert.equal(s.currentRev, 2n);
      assert.deepEqual(del(s, 'nope'), []);
      assert.equal(s.currentRev, 2n);
    });

    void it('delete then put starts a new generation at version 1 with a new create revision', () => {
      const s = open(impl.make());
      put(s, 'foo', 'v1'); // 2
      put(s, 'foo', 'v2'); // 3
      const d = del(s, 'foo'); // 4
      assert.equal(d.length, 1);
      assert.equal(d[0]!.type, EventType.DELETE);
      assert.equal(d[0]!.kv.modRevision, 4n);
      assert.deepEqual(s.range(k('foo')).kvs, []);
      put(s, 'foo', 'v3'); // 5
      assert.deepEqual(dump(s), ['foo=v3 c5 m5 v1']);
      assert.deepEqual(dump(s, 3n), ['foo=v2 c2 m3 v2']);
      assert.deepEqual(dump(s, 2n), ['foo=v1 c2 m2 v1']);
      assert.deepEqual(dump(s, 4n), []);
      assert.deepEqual(dump(s, 1n), []);
    });

    void it('reads at old revisions, and refuses future ones', () => {
      const s = open(impl.make());
      for (let i = 0; i < 5; i++) put(s, `k${i}`, `v${i}`); // revs 2..6
      del(s, 'k1', 'k3'); // 7: deletes k1, k2
      assert.deepEqual(
        dump(s, 4n).map((x) => x.split(' ')[0]),
        ['k0=v0', 'k1=v1', 'k2=v2'],
      );
      assert.deepEqual(
        dump(s).map((x) => x.split(' ')[0]),
        ['k0=v0', 'k3=v3', 'k4=v4'],
      );
      assert.equal(s.range(k('k0'), ALL_END, { rev: 4n }).rev, 7n);
      assert.throws(() => s.range(k('k0'), undefined, { rev: 8n }), { message: Err.futureRev });
      assert.equal(s.range(k('k0'), undefined, { rev: -3n }).kvs.length, 1);
    });

    void it('limit truncates kvs but not count; countOnly and keysOnly', () => {
      const s = open(impl.make());
      for (const key of ['a', 'b', 'c', 'd']) put(s, key, key.toUpperCase());
      const r = s.range(k('a'), k('d'), { limit: 2 });
      assert.deepEqual(r.kvs.map(show), ['a=A c2 m2 v1', 'b=B c3 m3 v1']);
      assert.equal(r.count, 3);
      const c = s.range(k('a'), ALL_END, { countOnly: true });
      assert.deepEqual(c.kvs, []);
      assert.equal(c.count, 4);
      const ko = s.range(k('c'), ALL_END, { keysOnly: true });
      assert.deepEqual(
        ko.kvs.map((kv) => [fromUtf8(kv.key), kv.value.length, kv.version]),
        [
          ['c', 0, 1n],
          ['d', 0, 1n],
        ],
      );
      assert.deepEqual(s.range(k('a'), undefined, { countOnly: true }), { kvs: [], count: 1, rev: 5n });
      assert.deepEqual(s.range(k('zz'), undefined, { countOnly: true }), { kvs: [], count: 0, rev: 5n });
      assert.equal(s.range(k('b'), undefined, { keysOnly: true }).kvs[0]!.value.length, 0);
      assert.equal(s.range(k('b'), undefined, { limit: 1 }).kvs.length, 1);
      assert.equal(s.range(k('a'), k('d'), { limit: 0 }).kvs.length, 3);
      assert.equal(s.range(k('a'), k('d'), { limit: -1 }).kvs.length, 3);
    });

    void it('ranges with an empty end read one key and with "\\0" read to the end', () => {
      const s = open(impl.make());
      for (const key of ['a', 'ab', 'b']) put(s, key, '1');
      assert.deepEqual(
        s.range(k('a'), new Uint8Array(0)).kvs.map((kv) => fromUtf8(kv.key)),
        ['a'],
      );
      assert.deepEqual(
        s.range(k('ab'), ALL_END).kvs.map((kv) => fromUtf8(kv.key)),
        ['ab', 'b'],
      );
      assert.deepEqual(
        s.range(k('\0'), ALL_END).kvs.map((kv) => fromUtf8(kv.key)),
        ['a', 'ab', 'b'],
      );
    });

    void it('deleteRange over "\\0" deletes everything and returns the deleted kvs', () => {
      const s = open(impl.make());
      for (const key of ['x', 'y', 'z']) put(s, key, key);
      const deleted = s.backend.write((tx) => {
        const txn = s.write(tx);
        const d = txn.deleteRange(k('\0'), ALL_END);
        txn.end();
        return d;
      });
      assert.deepEqual(deleted.map(show), ['x=x c2 m2 v1', 'y=y c3 m3 v1', 'z=z c4 m4 v1']);
      assert.deepEqual(dump(s), []);
      assert.equal(s.currentRev, 5n);
    });

    void it('a write transaction that aborts leaves the store refusing use until reopened', async () => {
      let b = impl.make();
      const s = open(b);
      put(s, 'a', '1');
      assert.throws(() =>
        s.backend.write((tx) => {
          const txn = s.write(tx);
          txn.put(k('a'), k('2'));
          txn.end();
          throw new Error('apply failed');
        }),
      );
      assert.throws(() => s.range(k('a')), /unusable/);
      b = await impl.reopen(b);
      const s2 = open(b);
      assert.deepEqual(dump(s2), ['a=1 c2 m2 v1']);
      assert.equal(s2.currentRev, 2n);
      await b.close();
    });

    void it('refuses a second open TxnWrite and a commit with an unended one', () => {
      const s = open(impl.make());
      assert.throws(
        () =>
          s.backend.write((tx) => {
            s.write(tx);
            s.write(tx);
          }),
        /already open/,
      );
      const s2 = open(impl.make());
      assert.throws(() => s2.backend.write((tx) => void s2.write(tx).put(k('a'), k('b'))), /not ended/);
    });
  });
}
