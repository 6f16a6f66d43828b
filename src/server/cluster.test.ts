// Three EtcdServers in one process over an in-memory transport: election, replication, follower
// forwarding, ReadIndex, waiters failed on leader change, membership changes with etcd's errors,
// snapshot catch-up of a member that fell behind, and restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, fromUtf8 } from '../base/index.js';
import { addMember, moveLeader, promoteMember, removeMember, updateMember } from './cluster-ops.js';
import { TestCluster, get, member, peerUrl, put, until } from './cluster-test-helpers.js';

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

const value = async (s: Parameters<typeof get>[0], k: string, serializable = false) => {
  const r = await get(s, k, serializable);
  return r.kvs.length === 0 ? undefined : fromUtf8(r.kvs[0]!.value);
};

test(
  'three members elect one leader, replicate writes, and serve linearizable reads on followers',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const followers = [...c.servers.values()].filter((s) => s !== leader);
    assert.equal(followers.length, 2);
    const r = await put(leader, 'a', '1');
    // A linearizable read on a follower goes through ReadIndex and sees the write at once.
    for (const f of followers) assert.equal(await value(f, 'a'), '1');
    // A follower forwards a proposal to the leader and answers once it applied it itself.
    const r2 = await put(followers[0]!, 'b', '2');
    assert.equal(r2.header!.revision, r.header!.revision + 1n);
    assert.equal(await value(followers[0]!, 'b', true), '2');
    for (const s of c.servers.values()) {
      await until(() => s.appliedIndex === leader.appliedIndex);
      assert.equal(s.revision, r2.header!.revision);
      assert.deepEqual(
        s.members().map((m) => [m.id, m.name]),
        [
          [1n, 'm1'],
          [2n, 'm2'],
          [3n, 'm3'],
        ],
      );
    }
  }),
);

test(
  'many concurrent linearizable reads share read-index rounds and all see prior writes',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    await put(leader, 'k', 'v');
    const f = [...c.servers.values()].find((s) => s !== leader)!;
    const vals = await Promise.all(Array.from({ length: 50 }, () => value(f, 'k')));
    assert.deepEqual(new Set(vals), new Set(['v']));
  }),
);

test(
  'a leader cut off from its peers fails its waiting proposals with "leader changed"',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const old = await c.leader();
    c.net.isolate(old.memberId);
    await assert.rejects(put(old, 'x', 'lost'), { message: Err.leaderChanged });
    // The others elect a new leader and go on.
    const others = [...c.servers.values()].filter((s) => s !== old);
    await until(() => others.every((s) => s.leaderId !== 0n && s.leaderId !== old.memberId));
    const lead = c.servers.get(others[0]!.leaderId)!;
    await put(lead, 'y', 'ok');
    c.net.isolate(old.memberId, false);
    await until(() => old.leaderId === lead.memberId);
    assert.equal(await value(old, 'y'), 'ok');
  }),
);

test(
  'MoveLeader hands leadership to a voter; a follower answers "not leader", a stranger "bad leader transferee"',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const f = [...c.servers.values()].find((s) => s !== leader)!;
    await assert.rejects(moveLeader(f, leader.memberId), { message: Err.notLeader });
    await assert.rejects(moveLeader(leader, 99n), { message: Err.badLeaderTransferee });
    await moveLeader(leader, f.memberId);
    await until(() => [...c.servers.values()].every((s) => s.leaderId === f.memberId));
    await put(f, 'after', 'move');
  }),
);

test(
  'membership: add a learner, refuse what etcd refuses, catch it up by snapshot, promote, update, remove',
  withCluster({ snapshotCount: 20, snapshotCatchUpEntries: 5 }, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    for (let i = 0; i < 60; i++) await put(leader, `k${i}`, `v${i}`);
    await assert.rejects(addMember(leader, [peerUrl(2n)], true), { message: Err.peerURLExist });
    await assert.rejects(addMember(leader, ['not a url'], true), { message: Err.memberBadURLs });
    await assert.rejects(removeMember(leader, 99n), { message: Err.memberNotFound });
    await assert.rejects(promoteMember(leader, 2n), { message: Err.memberNotLearner });
    const { member: learner, members } = await addMember(leader, [peerUrl(4n)], true);
    assert.equal(members.length, 4);
    assert.equal(members.find((m) => m.id === learner.id)?.isLearner, true);
    await assert.rejects(addMember(leader, [peerUrl(5n)], true), { message: Err.tooManyLearners });
    // The learner joins with an empty log; the leader's log was compacted, so it gets a snapshot.
    assert.ok(leader.raft.storage.firstIndex() > 10n, 'the leader compacted its log');
    const initial = [...leader.members()];
    const l = await c.start(learner.id, initial, 'existing');
    await until(() => l.appliedIndex >= leader.appliedIndex && l.revision === leader.revision);
    assert.equal(await value(l, 'k59', true), 'v59');
    assert.equal(l.isLearner, true);
    await assert.rejects(put(l, 'no', 'writes'), { message: Err.notSupportedForLearner });
    await assert.rejects(get(l, 'k1'), { message: Err.notSupportedForLearner });
    const promoted = await promoteMember(await c.leader(), learner.id);
    assert.equal(promoted.find((m) => m.id === learner.id)?.isLearner, false);
    await until(() => !l.isLearner);
    await put(l, 'from', 'promoted');
    const updated = await updateMember(await c.leader(), 3n, ['http://127.0.0.33:2380']);
    assert.deepEqual(updated.find((m) => m.id === 3n)?.peerURLs, ['http://127.0.0.33:2380']);
    const stopped = new Promise<string | undefined>((resolve) => c.servers.get(3n)!.onStop(resolve));
    const after = await removeMember(await c.leader(), 3n);
    assert.deepEqual(
      after.map((m) => m.id),
      [1n, 2n, learner.id].sort((a, b) => (a < b ? -1 : 1)),
    );
    assert.equal(await stopped, 'the member has been permanently removed from the cluster');
    c.servers.delete(3n);
    await assert.rejects(removeMember(await c.leader(), 3n), { message: Err.memberNotFound });
  }),
);

test(
  'strict reconfig check: a voter add without a started quorum and a removal that breaks the active quorum are refused',
  withCluster({}, async (c) => {
    await c.startAll([1n]);
    const one = await c.leader();
    // Growing a lone member to two is allowed (restoring a cluster); member 2 never starts.
    await addMember(one, [peerUrl(2n)], false);
    await assert.rejects(addMember(one, [peerUrl(3n)], false), { message: Err.memberNotEnoughStarted });
  }),
);

test(
  'strict reconfig check: removing a voter while another is down is refused as unhealthy',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const [down, other] = [...c.servers.values()].filter((s) => s !== leader);
    await c.stop(down!.memberId);
    await assert.rejects(removeMember(leader, other!.memberId), { message: Err.unhealthy });
  }),
);

test(
  'the leader can remove itself; the others elect a new one',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const stopped = new Promise<string | undefined>((resolve) => leader.onStop(resolve));
    await removeMember(leader, leader.memberId);
    await stopped;
    c.servers.delete(leader.memberId);
    const next = await c.leader();
    assert.notEqual(next.memberId, leader.memberId);
    await put(next, 'still', 'here');
    assert.equal(next.members().length, 2);
  }),
);

test(
  'a restarted follower catches up without re-applying what it had applied',
  withCluster({}, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    await put(leader, 'a', '1');
    const f = [...c.servers.values()].find((s) => s !== leader)!;
    await until(() => f.appliedIndex === leader.appliedIndex);
    const id = f.memberId;
    await c.stop(id);
    for (let i = 0; i < 10; i++) await put(leader, 'a', `${i + 2}`);
    const again = await c.start(id, [member(1n), member(2n), member(3n)]);
    await until(() => again.appliedIndex === leader.appliedIndex);
    assert.equal(again.revision, leader.revision);
    assert.equal(await value(again, 'a', true), '11');
    assert.equal((await get(again, 'a', true)).kvs[0]!.version, 11n);
  }),
);

test(
  'a voter that fell behind a compaction catches up by snapshot, and restarts from what it received',
  withCluster({ snapshotCount: 20, snapshotCatchUpEntries: 5 }, async (c) => {
    await c.startAll([1n, 2n, 3n]);
    const leader = await c.leader();
    const lagger = [...c.servers.values()].find((s) => s !== leader)!.memberId;
    await c.stop(lagger);
    for (let i = 0; i < 80; i++) await put(leader, `k${i % 7}`, `v${i}`);
    assert.ok(leader.raft.storage.firstIndex() > 10n, 'the leader compacted its log');
    const initial = [member(1n), member(2n), member(3n)];
    let s = await c.start(lagger, initial);
    await until(() => s.appliedIndex >= leader.appliedIndex);
    assert.equal(s.revision, leader.revision);
    assert.ok(s.snapshots.snapshotIndex > 0n, 'it installed a snapshot');
    await c.stop(lagger);
    await put(await c.leader(), 'k0', 'after');
    s = await c.start(lagger, initial);
    await until(() => s.revision === leader.revision);
    assert.equal(await value(s, 'k0', true), 'after');
    assert.equal(await value(s, 'k6', true), 'v76');
  }),
);
