// The member's WatchableStore as the server wires it: fed by apply once each batch committed, told
// of compactions, and rebound when a follower installs a snapshot from the leader (its catch-up
// paused while the backend is swapped). Watchers on followers see every revision once, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromUtf8, utf8 } from '../base/index.js';
import { CompactionRequest } from '../generated/etcdserverpb.js';
import type { WatchBatch, Watcher, WatchSink } from '../mvcc/watch-types.js';
import { TestCluster, put, until } from './cluster-test-helpers.js';
import type { EtcdServer } from './etcd-server.js';

class Recorder implements WatchSink {
  readonly seen: { rev: bigint; key: string; value: string }[] = [];
  compactedAt: bigint | undefined;
  deliver(_w: Watcher, batch: WatchBatch): boolean {
    for (const e of batch.events) {
      const kv = e.event.kv!;
      this.seen.push({ rev: kv.modRevision, key: fromUtf8(kv.key), value: fromUtf8(kv.value) });
    }
    return true;
  }
  compacted(_w: Watcher, compactRev: bigint): void {
    this.compactedAt = compactRev;
  }
  get lastRev(): bigint {
    return this.seen[this.seen.length - 1]?.rev ?? 0n;
  }
}

function watchAll(s: EtcdServer, startRev: bigint): Recorder {
  const r = new Recorder();
  const spec = { key: utf8('k'), end: utf8('l'), startRev, prevKv: false, noPut: false, noDelete: false };
  s.watchable.watch(spec, r, 0n);
  return r;
}

function withCluster(
  extra: ConstructorParameters<typeof TestCluster>[0],
  fn: (c: TestCluster) => Promise<void>,
) {
  return async () => {
    const c = new TestCluster(extra);
    try {
      await fn(c);
    } finally {
      await c.close();
    }
  };
}

test(
  'a watcher on a follower sees every write once, in order, across the snapshot it installs',
  withCluster({ snapshotCount: 20, snapshotCatchUpEntries: 5 }, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const f = [...c.servers.values()].find((s) => s !== leader)!;
    const historic = watchAll(f, 1n);
    const live = watchAll(f, 0n);
    for (let i = 0; i < 10; i++) await put(leader, `k${i}`, `a${i}`);
    await until(() => historic.lastRev === leader.revision && live.lastRev === leader.revision);

    c.net.isolate(f.memberId);
    for (let i = 0; i < 80; i++) await put(leader, `k${i % 7}`, `b${i}`);
    assert.ok(leader.raft.storage.firstIndex() > f.appliedIndex, 'the leader compacted past the follower');
    c.net.isolate(f.memberId, false);
    await until(() => f.appliedIndex >= leader.appliedIndex);
    assert.ok(f.snapshots.snapshotIndex > 0n, 'the follower installed a snapshot');
    for (let i = 0; i < 5; i++) await put(leader, `k${i}`, `c${i}`);
    await until(() => historic.lastRev === leader.revision && live.lastRev === leader.revision);

    const first = leader.revision - 94n;
    const want = Array.from({ length: 95 }, (_, i) => first + BigInt(i));
    assert.deepStrictEqual(
      historic.seen.map((s) => s.rev),
      want,
    );
    assert.deepStrictEqual(live.seen, historic.seen);
    assert.deepStrictEqual(historic.seen.slice(-2), [
      { rev: leader.revision - 1n, key: 'k3', value: 'c3' },
      { rev: leader.revision, key: 'k4', value: 'c4' },
    ]);
    assert.equal(f.watchable.watcherCount, 2);
  }),
);

test(
  'compaction through raft compacts watchers that still need older revisions, on every member',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    for (let i = 0; i < 6; i++) await put(leader, `k${i}`, `v${i}`);
    const at = leader.revision - 2n;
    await leader.compact(CompactionRequest.create({ revision: at }));
    for (const s of c.servers.values()) {
      await until(() => s.compactRevision === at);
      const before = watchAll(s, at - 1n);
      const from = watchAll(s, at);
      await until(() => before.compactedAt !== undefined && from.lastRev === leader.revision);
      assert.equal(before.compactedAt, at);
      assert.deepStrictEqual(
        from.seen.map((x) => x.rev),
        [at, at + 1n, at + 2n],
      );
    }
  }),
);
