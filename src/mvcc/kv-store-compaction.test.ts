// KVStore compaction, restart and hash: compacted reads, physical deletion in batches, resuming
// after a crash between batches, rebuilding the index on open, and HashKV agreeing across
// backends and with real etcd 3.4. Every case runs against the memory and the LMDB backend.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8 } from '../base/bytes.js';
import { Err } from '../base/errors.js';
import type { Backend } from '../backend/backend.js';
import { FINISHED_COMPACT_KEY, SCHEDULED_COMPACT_KEY } from './compaction.js';
import { KVStore } from './kv-store.js';
import { bytesToRev } from './revision.js';
import {
  ALL_END,
  backendImpls,
  compact,
  del,
  dump,
  k,
  open,
  put,
  storedRevisions,
} from './store-harness.test.js';

const impls = backendImpls();
after(() => impls.forEach((i) => i.cleanup()));

/** foo: put 2, put 3; a: put 4, delete 5; b: put 6 (the sequence the etcd fixtures used). */
function history(s: KVStore): void {
  put(s, 'foo', 'bar');
  put(s, 'foo', 'baz');
  put(s, 'a', '1');
  del(s, 'a');
  put(s, 'b', '2');
}

function metaRev(b: Backend, key: Uint8Array): bigint | undefined {
  const v = b.read((tx) => tx.get('meta', key));
  return v === undefined ? undefined : bytesToRev(v).main;
}

/**
 * Index contents as strings, to compare a rebuilt index with the one built live. A rebuilt
 * generation records its created revision with sub 0, as etcd's restore does (only the main
 * part is ever read), so the sub of created is left out.
 */
function indexShape(s: KVStore): string[] {
  return [...s.index.entries()].map(
    (ki) =>
      `${fromUtf8(ki.key)} ` +
      ki.generations
        .map((g) => `${g.created.main}/${g.ver}: ${g.revs.map((r) => `${r.main}.${r.sub}`).join(' ')}`)
        .join(' | '),
  );
}

for (const impl of impls) {
  void describe(`KVStore compaction and restart on ${impl.name}`, () => {
    void it('rejects reads below the compaction revision at once and allows reads at it', async () => {
      const s = open(impl.make());
      history(s);
      const job = compact(s, 4n);
      assert.equal(s.compactRev, 4n);
      assert.equal(s.firstRev, 4n);
      assert.throws(() => s.range(k('foo'), undefined, { rev: 3n }), { message: Err.compacted });
      assert.deepEqual(dump(s, 4n), ['a=1 c4 m4 v1', 'foo=baz c2 m3 v2']);
      await job.done;
      assert.ok(job.completed);
      assert.deepEqual(dump(s, 4n), ['a=1 c4 m4 v1', 'foo=baz c2 m3 v2']);
      assert.deepEqual(dump(s), ['b=2 c6 m6 v1', 'foo=baz c2 m3 v2']);
      assert.throws(() => s.range(k('foo'), undefined, { rev: 2n }), { message: Err.compacted });
    });

    void it('validates the compaction revision like etcd', () => {
      const s = open(impl.make());
      history(s);
      assert.throws(() => compact(s, 7n), { message: Err.futureRev });
      compact(s, 3n);
      assert.throws(() => compact(s, 3n), { message: Err.compacted });
      assert.throws(() => compact(s, 2n), { message: Err.compacted });
      assert.equal(s.compactRev, 3n);
    });

    void it('deletes obsolete revisions from the backend and records finishedCompactRev', async () => {
      const s = open(impl.make());
      history(s);
      assert.deepEqual(storedRevisions(s.backend), ['2.0', '3.0', '4.0', '5.0t', '6.0']);
      const job = compact(s, 5n);
      assert.equal(metaRev(s.backend, SCHEDULED_COMPACT_KEY), 5n);
      await job.done;
      // foo keeps its version at 3; a ended with its tombstone at 5: its put goes, while the
      // tombstone, at the compaction revision itself, stays for watches that start there.
      assert.deepEqual(storedRevisions(s.backend), ['3.0', '5.0t', '6.0']);
      assert.equal(job.deleted, 2);
      assert.equal(metaRev(s.backend, FINISHED_COMPACT_KEY), 5n);
      // The next compaction takes the tombstone left at the previous compaction revision.
      await compact(s, 6n).done;
      assert.deepEqual(storedRevisions(s.backend), ['3.0', '6.0']);
    });

    void it('reopening rebuilds the same index, revisions and data', async () => {
      let b = impl.make();
      const s = open(b, { restoreChunkKeys: 3 });
      history(s);
      put(s, 'foo', 'qux'); // 7
      s.backend.write((tx) => {
        const txn = s.write(tx);
        txn.put(k('m1'), k('x'), 9n);
        txn.put(k('m2'), k('y'));
        txn.deleteRange(k('b'));
        txn.end();
      }); // 8
      await compact(s, 3n).done;
      const before = { shape: indexShape(s), now: dump(s), at5: dump(s, 5n), hash: s.hashByRev(0n).hash };
      b = await impl.reopen(b);
      const leased: string[] = [];
      const s2 = open(b, {
        restoreChunkKeys: 3,
        onRestoreLeasedKey: (key, lease) => leased.push(`${fromUtf8(key)}:${lease}`),
      });
      assert.equal(s2.currentRev, 8n);
      assert.equal(s2.compactRev, 3n);
      assert.equal(s2.resumedCompaction, undefined);
      assert.deepEqual(indexShape(s2), before.shape);
      assert.deepEqual(dump(s2), before.now);
      assert.deepEqual(dump(s2, 5n), before.at5);
      assert.equal(s2.hashByRev(0n).hash, before.hash);
      assert.deepEqual(leased, ['m1:9']);
      put(s2, 'foo', 'after');
      assert.deepEqual(
        dump(s2).filter((x) => x.startsWith('foo')),
        ['foo=after c2 m9 v4'],
      );
      await b.close();
    });

    void it('after compacting away every key, reopening keeps the revision at the compaction', async () => {
      let b = impl.make();
      const s = open(b);
      put(s, 'foo', 'bar'); // 2
      del(s, 'foo'); // 3
      await compact(s, 3n).done;
      assert.deepEqual(storedRevisions(b), ['3.0t'], 'the tombstone at the compaction revision stays');
      b = await impl.reopen(b);
      const s2 = open(b);
      assert.equal(s2.currentRev, 3n);
      assert.equal(s2.compactRev, 3n);
      put(s2, 'foo', 'again');
      assert.deepEqual(dump(s2), ['foo=again c4 m4 v1']);
      await b.close();
    });

    void it('resumes a compaction interrupted between batches when the store is reopened', async () => {
      let b = impl.make();
      let batches = 0;
      const s: KVStore = open(b, {
        compactionBatchLimit: 2,
        // Simulate a crash after the first batch: the store stops and is never used again.
        yieldBetweenBatches: () => {
          batches++;
          s.close();
          return Promise.resolve();
        },
      });
      history(s);
      put(s, 'c', '3'); // 7
      const job = compact(s, 6n);
      await job.done;
      assert.equal(batches, 1);
      assert.equal(job.completed, false);
      // The first batch covered 2 and 3; only 2 was obsolete (foo's version at 3 is kept).
      assert.deepEqual(storedRevisions(b), ['3.0', '4.0', '5.0t', '6.0', '7.0']);
      assert.equal(metaRev(b, FINISHED_COMPACT_KEY), undefined);

      b = await impl.reopen(b);
      const s2 = open(b, { compactionBatchLimit: 2 });
      assert.equal(s2.compactRev, 6n);
      assert.throws(() => s2.range(k('foo'), undefined, { rev: 5n }), { message: Err.compacted });
      assert.ok(s2.resumedCompaction !== undefined);
      await s2.resumedCompaction.done;
      assert.ok(s2.resumedCompaction.completed);
      assert.deepEqual(storedRevisions(b), ['3.0', '6.0', '7.0']);
      assert.equal(metaRev(b, FINISHED_COMPACT_KEY), 6n);

      // The same history compacted without a crash ends in the same place.
      const ref = open(impl.make());
      history(ref);
      put(ref, 'c', '3');
      await compact(ref, 6n).done;
      assert.deepEqual(storedRevisions(ref.backend), storedRevisions(b));
      assert.equal(ref.hashByRev(0n).hash, s2.hashByRev(0n).hash);
      await b.close();
    });

    void it('hashes exactly as etcd 3.4 HashKV does for the same history', async () => {
      // Values from Debian's etcd 3.4.23 (`etcdctl endpoint hashkv`) after the same requests.
      const s = open(impl.make());
      history(s);
      assert.deepEqual(s.hashByRev(0n), { hash: 3231996909, compactRev: -1n, currentRev: 6n });
      assert.equal(s.hashByRev(3n).hash, 2020292994);
      const job = compact(s, 4n);
      assert.deepEqual(s.hashByRev(0n), { hash: 383754405, compactRev: 4n, currentRev: 6n });
      await job.done;
      assert.deepEqual(s.hashByRev(0n), { hash: 383754405, compactRev: 4n, currentRev: 6n });
      assert.equal(s.hashByRev(5n).hash, 588448878);
      put(s, 'c', 'x'.repeat(300));
      assert.equal(s.hashByRev(0n).hash, 2366084258);
      assert.throws(() => s.hashByRev(4n), { message: Err.compacted });
      assert.throws(() => s.hashByRev(8n), { message: Err.futureRev });
    });

    void it('two stores fed the same writes hash the same, whatever their backend', () => {
      const other = impls.find((i) => i.name !== impl.name)!;
      const a = open(impl.make());
      const b = open(other.make());
      for (const s of [a, b]) {
        history(s);
        s.backend.write((tx) => {
          const txn = s.write(tx);
          txn.put(k('x'), k('1'), 5n);
          txn.deleteRange(k('foo'), ALL_END);
          txn.end();
        });
      }
      for (const rev of [0n, 2n, 5n, 7n]) assert.equal(a.hashByRev(rev).hash, b.hashByRev(rev).hash);
      put(b, 'y', '2');
      assert.notEqual(a.hashByRev(0n).hash, b.hashByRev(0n).hash);
    });
  });
}
