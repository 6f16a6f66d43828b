// Leases through whole EtcdServers over the in-memory transport, with a fake lease clock shared by
// the members (raft runs on real timers, leases on the fake clock, so expiry happens exactly when a
// test moves the clock): grant/attach/revoke in one revision with DELETE events, expiry proposed by
// the leader, keepalive and TimeToLive forwarded by followers, remaining TTLs surviving MoveLeader
// and a leader crash, and no revoke from a leader cut off from its quorum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../base/index.js';
import type { Event } from '../generated/mvccpb.js';
import { EventType } from '../mvcc/index.js';
import { PutRequest } from '../generated/etcdserverpb.js';
import { moveLeader } from './cluster-ops.js';
import { TestCluster, get, member, put, until } from './cluster-test-helpers.js';
import type { EtcdServer } from './etcd-server.js';

class FakeClock {
  t = 0;
  nowMs(): number {
    return this.t;
  }
}

function withCluster(
  clock: FakeClock,
  fn: (c: TestCluster) => Promise<void>,
  extra: ConstructorParameters<typeof TestCluster>[0] = {},
) {
  return async () => {
    const c = new TestCluster({ leaseClock: clock, ...extra });
    try {
      await fn(c);
    } finally {
      await c.close();
    }
  };
}

const putLeased = (s: EtcdServer, k: string, lease: bigint) =>
  s.put(PutRequest.create({ key: utf8(k), value: utf8('v'), lease }));

const exists = async (s: EtcdServer, k: string) => (await get(s, k, true)).kvs.length > 0;

const notFound = (e: unknown) => e instanceof EtcdError && e.message === Err.leaseNotFound;

/** Records every event the member's watchable store delivers for keys from "a" on. */
function recordEvents(s: EtcdServer): Event[] {
  const seen: Event[] = [];
  s.watchable.watch(
    { key: utf8('a'), end: new Uint8Array([0]), startRev: 0n, prevKv: false, noPut: false, noDelete: false },
    {
      deliver: (_w, batch) => {
        for (const e of batch.events) seen.push(e.event);
        return true;
      },
      compacted: () => undefined,
    },
    1n,
  );
  return seen;
}

test(
  'revoke deletes every attached key in one revision, and watchers see the deletes',
  withCluster(new FakeClock(), async (c) => {
    await c.startAll([1n]);
    const s = await c.leader();
    const events = recordEvents(s);
    const g = await s.leases.grant({ ID: 0n, TTL: 60n });
    assert.ok(g.ID > 0n);
    assert.equal(g.TTL, 60n);
    for (const k of ['a1', 'a2', 'a3']) await putLeased(s, k, g.ID);
    const before = s.revision;
    const r = await s.leases.revoke({ ID: g.ID });
    assert.equal(r.header!.revision, before + 1n);
    for (const k of ['a1', 'a2', 'a3']) assert.equal(await exists(s, k), false);
    await until(() => events.length === 6);
    const deletes = events.filter((e) => e.type === EventType.DELETE);
    assert.deepEqual(
      deletes.map((e) => [new TextDecoder().decode(e.kv!.key), e.kv!.modRevision]),
      [
        ['a1', before + 1n],
        ['a2', before + 1n],
        ['a3', before + 1n],
      ],
    );
    await assert.rejects(s.leases.revoke({ ID: g.ID }), notFound);
    await assert.rejects(putLeased(s, 'a4', g.ID), notFound);
  }),
);

test(
  'overwriting a key detaches it from its lease; ignore_lease keeps it; delete detaches',
  withCluster(new FakeClock(), async (c) => {
    await c.startAll([1n]);
    const s = await c.leader();
    const g = await s.leases.grant({ ID: 7n, TTL: 60n });
    await assert.rejects(
      s.leases.grant({ ID: 7n, TTL: 60n }),
      (e: unknown) => (e as Error).message === Err.leaseExist,
    );
    await putLeased(s, 'a', 7n);
    await putLeased(s, 'b', 7n);
    await putLeased(s, 'c', 7n);
    await s.put(PutRequest.create({ key: utf8('a'), value: utf8('x') })); // lease 0 now
    await s.put(PutRequest.create({ key: utf8('b'), value: utf8('y'), ignoreLease: true }));
    await s.deleteRange({ key: utf8('c'), rangeEnd: new Uint8Array(0), prevKv: false });
    const ttl = await s.leases.timeToLive({ ID: g.ID, keys: true });
    assert.deepEqual(ttl.keys, [utf8('b')]);
    assert.equal(ttl.grantedTTL, 60n);
    await s.leases.revoke({ ID: 7n });
    assert.equal(await exists(s, 'a'), true);
    assert.equal(await exists(s, 'b'), false);
  }),
);

test(
  'the leader revokes an expired lease through raft; every member loses the key',
  withCluster(new FakeClock(), async (c) => {
    const clock = c.extra.leaseClock as FakeClock;
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const g = await leader.leases.grant({ ID: 0n, TTL: 5n });
    await putLeased(leader, 'k', g.ID);
    clock.t += 4999;
    assert.equal((await leader.leases.timeToLive({ ID: g.ID, keys: false })).TTL, 0n);
    for (const s of c.servers.values()) {
      await until(() => s.appliedIndex >= leader.appliedIndex);
      assert.equal(await exists(s, 'k'), true);
    }
    clock.t += 1;
    for (const s of c.servers.values()) await until(() => !s.applier.lessor.exists(g.ID));
    for (const s of c.servers.values()) assert.equal(await exists(s, 'k'), false);
  }),
);

test(
  'followers forward keepalive and TimeToLive to the leader; unknown leases are not found',
  withCluster(new FakeClock(), async (c) => {
    const clock = c.extra.leaseClock as FakeClock;
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const follower = [...c.servers.values()].find((s) => s !== leader)!;
    const g = await follower.leases.grant({ ID: 0n, TTL: 30n });
    await putLeased(follower, 'k', g.ID);
    clock.t += 12_000;
    const t1 = await follower.leases.timeToLive({ ID: g.ID, keys: true });
    assert.deepEqual([t1.TTL, t1.grantedTTL, t1.keys], [18n, 30n, [utf8('k')]]);
    assert.equal(t1.header!.memberId, follower.memberId);
    assert.equal(await follower.leases.renew(g.ID), 30n);
    assert.equal((await leader.leases.timeToLive({ ID: g.ID, keys: false })).TTL, 30n);
    await assert.rejects(follower.leases.renew(12345n), notFound);
    await assert.rejects(follower.leases.timeToLive({ ID: 12345n, keys: false }), notFound);
    assert.deepEqual(
      follower.leases.leases().leases.map((l) => l.ID),
      [g.ID],
    );
  }),
);

/** Waits until every member has applied the checkpoint `remaining` for lease `id`. */
async function checkpointed(c: TestCluster, id: bigint, remaining: bigint): Promise<void> {
  for (const s of c.servers.values())
    await until(() => s.applier.lessor.lookup(id)?.remainingTtl === remaining);
}

test(
  'a new leader after MoveLeader continues the remaining TTL, not the full one',
  withCluster(new FakeClock(), async (c) => {
    const clock = c.extra.leaseClock as FakeClock;
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const g = await leader.leases.grant({ ID: 0n, TTL: 60n });
    clock.t += 20_500; // 39.5 s left; the periodic checkpoint records 40
    await checkpointed(c, g.ID, 40n);
    clock.t += 400; // 39.1 s left, not yet checkpointed: the hand-over does it
    const before = (await leader.leases.timeToLive({ ID: g.ID, keys: false })).TTL;
    const next = [...c.servers.values()].find((s) => s !== leader)!;
    await moveLeader(leader, next.memberId);
    await until(() => next.applier.lessor.isPrimary);
    const after = (await next.leases.timeToLive({ ID: g.ID, keys: false })).TTL;
    assert.equal(before, 39n);
    assert.equal(after, 40n); // ceil of 39.1 s, recorded at the hand-over
  }),
);

test(
  'after the leader is lost, the new leader continues from the last checkpoint; a keepalive made durable survives',
  withCluster(new FakeClock(), async (c) => {
    const clock = c.extra.leaseClock as FakeClock;
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const a = await leader.leases.grant({ ID: 0n, TTL: 60n });
    const b = await leader.leases.grant({ ID: 0n, TTL: 60n });
    clock.t += 10_000;
    await checkpointed(c, a.ID, 50n);
    await checkpointed(c, b.ID, 50n);
    // A keepalive of b after the checkpoint: the leader first records "full again" on every member.
    assert.equal(await leader.leases.renew(b.ID), 60n);
    await checkpointed(c, b.ID, 0n);
    c.net.isolate(leader.memberId);
    await c.stop(leader.memberId);
    const next = await c.leader();
    await until(() => next.applier.lessor.isPrimary);
    assert.equal((await next.leases.timeToLive({ ID: a.ID, keys: false })).TTL, 50n);
    assert.equal((await next.leases.timeToLive({ ID: b.ID, keys: false })).TTL, 60n);
  }),
);

test(
  'a leader cut off from its quorum does not revoke; the majority’s new leader does, later',
  withCluster(new FakeClock(), async (c) => {
    const clock = c.extra.leaseClock as FakeClock;
    await c.startAll([1n, 2n, 3n]);
    const old = await c.leader();
    const g = await old.leases.grant({ ID: 0n, TTL: 10n });
    await putLeased(old, 'k', g.ID);
    clock.t += 5000;
    await checkpointed(c, g.ID, 5n);
    c.net.isolate(old.memberId);
    clock.t += 6000; // past the deadline on the cut-off leader's clock
    const others = [...c.servers.values()].filter((s) => s !== old);
    await until(() => others.some((s) => s.raft.isLeader && s.applier.lessor.isPrimary));
    for (const s of others) assert.equal(await exists(s, 'k'), true);
    assert.equal(old.applier.lessor.exists(g.ID), true);
    // The new leader started from the 5 s checkpoint (plus the grace): moving past it revokes.
    clock.t += 5000 + 100;
    for (const s of others) await until(() => !s.applier.lessor.exists(g.ID));
    c.net.isolate(old.memberId, false);
    await until(() => !old.applier.lessor.exists(g.ID));
  }),
);

test(
  'a member that catches up by snapshot rebuilds its leases and their keys from the received backend',
  withCluster(
    new FakeClock(),
    async (c) => {
      await c.startAll([1n, 2n, 3n]);
      const leader = await c.leader();
      const lagger = [...c.servers.values()].find((s) => s !== leader)!.memberId;
      await c.stop(lagger);
      const g = await leader.leases.grant({ ID: 0n, TTL: 600n });
      await putLeased(leader, 'la', g.ID);
      await putLeased(leader, 'lb', g.ID);
      for (let i = 0; i < 80; i++) await put(leader, `k${i % 7}`, `v${i}`);
      assert.ok(leader.raft.storage.firstIndex() > 10n, 'the leader compacted its log');
      const s = await c.start(lagger, [member(1n), member(2n), member(3n)]);
      await until(() => s.appliedIndex >= leader.appliedIndex);
      assert.ok(s.snapshots.snapshotIndex > 0n, 'it installed a snapshot');
      assert.deepEqual(
        s.applier.lessor
          .lookup(g.ID)
          ?.keys()
          .map((k) => new TextDecoder().decode(k)),
        ['la', 'lb'],
      );
      await s.leases.revoke({ ID: g.ID });
      assert.equal(await exists(s, 'la'), false);
      assert.equal(await exists(s, 'lb'), false);
      assert.equal(s.applier.lessor.exists(g.ID), false);
    },
    { snapshotCount: 20, snapshotCatchUpEntries: 5 },
  ),
);
