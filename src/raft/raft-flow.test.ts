// Flow control of the leader's replication (probe, replicate with the inflight window by count
// and by bytes, snapshot) and the follower's side of snapshots, on a bare Raft whose messages the
// test reads and answers itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Raft } from './raft.js';
import { confState, ent, newTestRaft, newTestStorage, readMessages } from './test-network.js';
import { StateType as ProgressState } from './tracker/state.js';
import { MessageType, newMessage, type Message, type Snapshot } from './types.js';

const prop = (data = 'data'): Message =>
  newMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0n, 0n, data)] });

/** A leader of (1 2) at term 1 with follower 2 caught up and replicating. */
function leaderWithReplicatingFollower(configure?: Parameters<typeof newTestRaft>[5]): Raft {
  const r = newTestRaft(1n, [1n, 2n], 10, 1, newTestStorage(confState([1n, 2n])), configure);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  r.step(
    newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1n, index: r.raftLog.lastIndex() }),
  );
  readMessages(r);
  assert.equal(r.prs.progress.get(2n)?.state, ProgressState.StateReplicate);
  return r;
}

const appsTo2 = (ms: Message[]): Message[] => ms.filter((m) => m.type === MessageType.MsgApp && m.to === 2n);

test('replicate: at most maxInflightMsgs appends are outstanding; an ack opens the window again', () => {
  const r = leaderWithReplicatingFollower((c) => (c.maxInflightMsgs = 3));
  for (let i = 0; i < 6; i++) r.step(prop());
  const sent = appsTo2(readMessages(r));
  assert.equal(sent.length, 3);
  assert.equal(r.prs.progress.get(2n)?.inflights.full(), true);
  // acknowledging the first two frees two slots; the pending entries go out at once
  r.step(
    newMessage({
      type: MessageType.MsgAppResp,
      from: 2n,
      to: 1n,
      term: 1n,
      index: sent[1]!.entries.at(-1)!.index,
    }),
  );
  const more = appsTo2(readMessages(r));
  assert.equal(more.length, 1, 'the rest of the log fits in one message');
  assert.deepEqual(
    more[0]!.entries.map((e) => e.index),
    [5n, 6n, 7n],
  );
});

test('replicate: a heartbeat response frees one slot of a full window', () => {
  const r = leaderWithReplicatingFollower((c) => (c.maxInflightMsgs = 2));
  for (let i = 0; i < 4; i++) r.step(prop());
  assert.equal(appsTo2(readMessages(r)).length, 2);
  r.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1n }));
  assert.equal(appsTo2(readMessages(r)).length, 1);
  r.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1n }));
  assert.equal(appsTo2(readMessages(r)).length, 1);
});

test('replicate: the inflight window is also bounded by bytes', () => {
  const payload = 'x'.repeat(1000);
  const r = leaderWithReplicatingFollower((c) => {
    c.maxInflightMsgs = 100;
    c.maxInflightBytes = 2500;
    c.maxSizePerMsg = 1;
  });
  for (let i = 0; i < 10; i++) r.step(prop(payload));
  const sent = appsTo2(readMessages(r));
  // each message holds one ~1 KB entry; the window closes once 2.5 KB are in flight
  assert.equal(sent.length, 3);
  assert.equal(r.prs.progress.get(2n)?.isPaused(), true);
});

test('probe: one append at a time until the follower answers or a heartbeat response arrives', () => {
  const r = newTestRaft(1n, [1n, 2n]);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  const pr = r.prs.progress.get(2n)!;
  assert.equal(pr.state, ProgressState.StateProbe);
  r.step(prop());
  r.step(prop());
  r.step(prop());
  assert.equal(appsTo2(readMessages(r)).length, 1, 'the first proposal sends the probe; later ones wait');
  r.step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1n }));
  assert.equal(appsTo2(readMessages(r)).length, 1, 'a heartbeat response allows the next probe');
  r.step(
    newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1n, index: r.raftLog.lastIndex() }),
  );
  assert.equal(pr.state, ProgressState.StateReplicate);
});

test('probe: a rejection moves next back to the hint and probes again at once', () => {
  const r = leaderWithReplicatingFollower();
  for (let i = 0; i < 3; i++) r.step(prop());
  readMessages(r);
  const pr = r.prs.progress.get(2n)!;
  r.step(
    newMessage({
      type: MessageType.MsgAppResp,
      from: 2n,
      to: 1n,
      term: 1n,
      index: 4n,
      reject: true,
      rejectHint: 1n,
      logTerm: 1n,
    }),
  );
  assert.equal(pr.state, ProgressState.StateProbe);
  assert.equal(pr.next, 2n);
  const [probe] = appsTo2(readMessages(r));
  assert.equal(probe?.index, 1n);
  // a stale rejection (for an index other than the one probed) is ignored
  r.step(
    newMessage({
      type: MessageType.MsgAppResp,
      from: 2n,
      to: 1n,
      term: 1n,
      index: 4n,
      reject: true,
      rejectHint: 0n,
    }),
  );
  assert.equal(pr.next, 2n);
});

const snap11: Snapshot = {
  data: new Uint8Array(0),
  metadata: { index: 11n, term: 11n, confState: confState([1n, 2n]) },
};

/** A leader whose log starts after the snapshot at index 11. */
function leaderAfterSnapshot(): Raft {
  const s = newTestStorage(confState([1n, 2n]));
  s.applySnapshot(snap11);
  const r = newTestRaft(1n, [1n, 2n], 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  return r;
}

test('snapshot: a follower needing compacted entries gets the snapshot; replication pauses meanwhile', () => {
  const r = leaderAfterSnapshot();
  const pr = r.prs.progress.get(2n)!;
  pr.recentActive = true;
  pr.next = r.raftLog.firstIndex();
  r.step(
    newMessage({
      type: MessageType.MsgAppResp,
      from: 2n,
      to: 1n,
      term: r.term,
      index: pr.next - 1n,
      reject: true,
    }),
  );
  const ms = readMessages(r);
  assert.deepEqual(
    ms.map((m) => [m.type, m.snapshot?.metadata.index]),
    [[MessageType.MsgSnap, 11n]],
  );
  assert.equal(pr.state, ProgressState.StateSnapshot);
  assert.equal(pr.pendingSnapshot, 11n);
  r.step(prop());
  assert.deepEqual(appsTo2(readMessages(r)), [], 'nothing is sent while the snapshot is pending');
});

test('snapshot: failure and success reports return to probing; an ack past the snapshot resumes replication', () => {
  for (const reject of [true, false]) {
    const r = leaderAfterSnapshot();
    const pr = r.prs.progress.get(2n)!;
    pr.next = 1n;
    pr.becomeSnapshot(11n);
    r.step(newMessage({ type: MessageType.MsgSnapStatus, from: 2n, to: 1n, reject }));
    // after a success the next probe starts past the snapshot; after a failure from match + 1
    assert.equal(pr.next, reject ? 1n : 12n);
    assert.equal(pr.pendingSnapshot, 0n);
    assert.equal(pr.state, ProgressState.StateProbe);
    assert.equal(pr.probeSent, true);
  }
  const r = leaderAfterSnapshot();
  const pr = r.prs.progress.get(2n)!;
  pr.becomeSnapshot(11n);
  r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index: 11n }));
  assert.equal(pr.state, ProgressState.StateReplicate);
  assert.equal(pr.match, 11n);
});

test('follower: a snapshot replaces the log and the configuration, and is answered with its index', () => {
  const r = newTestRaft(2n, [1n, 2n]);
  const s: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 11n, term: 11n, confState: confState([1n, 2n, 3n]) },
  };
  r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 11n, snapshot: s }));
  assert.equal(r.raftLog.committed, 11n);
  assert.equal(r.raftLog.lastIndex(), 11n);
  assert.equal(r.raftLog.unstable.snapshot, s);
  assert.deepEqual(r.prs.voterNodes(), [1n, 2n, 3n]);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.index]),
    [[MessageType.MsgAppResp, 11n]],
  );
});

test('follower: a snapshot it already has the entry for only fast-forwards the commit index', () => {
  const st = newTestStorage(confState([1n, 2n]));
  st.append([ent(1n, 1n), ent(2n, 1n), ent(3n, 2n)]);
  st.setHardState({ term: 2n, vote: 0n, commit: 1n });
  const r = newTestRaft(2n, [1n, 2n], 10, 1, st);
  const s: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 2n, term: 1n, confState: confState([1n, 2n]) },
  };
  r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 2n, snapshot: s }));
  assert.equal(r.raftLog.committed, 2n);
  assert.equal(r.raftLog.lastIndex(), 3n, 'the log is kept');
  assert.equal(r.raftLog.unstable.snapshot, undefined);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.index]),
    [[MessageType.MsgAppResp, 2n]],
  );
});

test('follower: a stale snapshot, or one whose configuration lacks the node, is ignored', () => {
  const r = newTestRaft(2n, [1n, 2n]);
  const without: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 11n, term: 11n, confState: confState([1n, 3n]) },
  };
  r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 11n, snapshot: without }));
  assert.equal(r.raftLog.lastIndex(), 0n);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.index]),
    [[MessageType.MsgAppResp, 0n]],
  );
  r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 11n, snapshot: snap11 }));
  readMessages(r);
  const older: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 5n, term: 5n, confState: confState([1n, 2n]) },
  };
  r.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 11n, snapshot: older }));
  assert.equal(r.raftLog.committed, 11n);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.index]),
    [[MessageType.MsgAppResp, 11n]],
  );
});
