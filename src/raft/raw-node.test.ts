import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateType } from './config.js';
import { ErrProposalDropped, ErrStepLocalMsg, ErrStepPeerNotFound } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { RawNode, SnapshotStatus, type Ready } from './raw-node.js';
import { confState, Network, newTestConfig } from './test-network.js';
import type { Progress } from './tracker/progress.js';
import { StateType as ProgressState } from './tracker/state.js';
import { ConfChangeType, EntryType, MessageType, newMessage } from './types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A node bootstrapped like a new cluster member: a snapshot at index 1, term 1 with the voters. */
function bootstrapped(id: bigint, voters: bigint[]): { rn: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  s.applySnapshot({
    data: new Uint8Array(0),
    metadata: { index: 1n, term: 1n, confState: confState(voters) },
  });
  return { rn: new RawNode(newTestConfig(id, s)), s };
}

function persistAndAdvance(rn: RawNode, s: MemoryStorage): Ready {
  const rd = rn.ready();
  if (rd.snapshot !== undefined) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState !== undefined) s.setHardState(rd.hardState);
  rn.advance(rd);
  return rd;
}

test('RawNode: a freshly bootstrapped node has nothing to do', () => {
  const { rn } = bootstrapped(1n, [1n, 2n, 3n]);
  assert.equal(rn.hasReady(), false);
  const st = rn.basicStatus();
  assert.deepEqual(
    [st.id, st.term, st.commit, st.applied, st.lead, st.raftState],
    [1n, 0n, 1n, 1n, 0n, StateType.StateFollower],
  );
});

test('RawNode: a single voter campaigns, and the Ready carries soft and hard state, entries and commits', () => {
  const { rn, s } = bootstrapped(1n, [1n]);
  rn.campaign();
  assert.equal(rn.hasReady(), true);
  const rd = persistAndAdvance(rn, s);
  assert.deepEqual(rd.softState, { lead: 1n, raftState: StateType.StateLeader });
  assert.deepEqual(rd.hardState, { term: 1n, vote: 1n, commit: 2n });
  assert.deepEqual(
    rd.entries.map((e) => [e.index, e.term, e.data.length]),
    [[2n, 1n, 0]],
  );
  assert.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [2n],
  );
  assert.equal(rd.mustSync, true);
  assert.deepEqual(rd.messages, []);
  assert.equal(rn.hasReady(), false);

  rn.propose(bytes('a'));
  const rd2 = persistAndAdvance(rn, s);
  assert.equal(rd2.softState, undefined, 'unchanged soft state is left out');
  assert.deepEqual(rd2.hardState, { term: 1n, vote: 1n, commit: 3n });
  assert.deepEqual(rd2.committedEntries[0]?.data, bytes('a'));
  assert.equal(rn.basicStatus().applied, 3n);
});

test('RawNode: mustSync only for new entries, term or vote; a commit-only change is not synced', () => {
  const n = new Network([1n, 2n]);
  n.campaign(1n);
  n.ignore(MessageType.MsgAppResp);
  n.propose(1n, 'x');
  const f = n.node(2n).rn;
  // the follower got the entry; now only the commit index moves
  f.step(newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1n, commit: 2n }));
  const rd = f.ready();
  assert.deepEqual(rd.hardState, { term: 1n, vote: 1n, commit: 2n });
  assert.deepEqual(rd.entries, []);
  assert.equal(rd.mustSync, false);
  f.advance(rd);
});

test('RawNode: the hard state appears only when it changed since the last advance', () => {
  const { rn, s } = bootstrapped(1n, [1n, 2n]);
  rn.campaign();
  const rd = persistAndAdvance(rn, s);
  assert.equal(rd.hardState, undefined, 'a pre-candidate changes neither term nor vote');
  assert.equal(rd.softState?.raftState, StateType.StatePreCandidate);
  rn.step(newMessage({ type: MessageType.MsgPreVoteResp, from: 2n, to: 1n, term: 1n }));
  const rd2 = persistAndAdvance(rn, s);
  assert.deepEqual(rd2.hardState, { term: 1n, vote: 1n, commit: 1n });
  rn.tick();
  assert.equal(rn.hasReady(), false);
});

test('RawNode: step refuses local message types and responses from unknown peers', () => {
  const { rn } = bootstrapped(1n, [1n, 2n]);
  for (const type of [
    MessageType.MsgHup,
    MessageType.MsgBeat,
    MessageType.MsgUnreachable,
    MessageType.MsgSnapStatus,
    MessageType.MsgCheckQuorum,
  ]) {
    assert.throws(
      () => rn.step(newMessage({ type, from: 2n, to: 1n })),
      (e) => e === ErrStepLocalMsg,
    );
  }
  assert.throws(
    () => rn.step(newMessage({ type: MessageType.MsgAppResp, from: 9n, to: 1n, term: 1n })),
    (e) => e === ErrStepPeerNotFound,
  );
  // a request from an unknown node is stepped (a new leader may not be in an old config yet)
  rn.step(newMessage({ type: MessageType.MsgHeartbeat, from: 9n, to: 1n, term: 2n }));
  assert.equal(rn.basicStatus().lead, 9n);
});

test('RawNode: proposals without a leader throw ErrProposalDropped', () => {
  const { rn } = bootstrapped(1n, [1n, 2n]);
  assert.throws(
    () => rn.propose(bytes('x')),
    (e) => e === ErrProposalDropped,
  );
});

test('RawNode: a conf change is proposed, committed, and applied by the application', () => {
  const { rn, s } = bootstrapped(1n, [1n]);
  rn.campaign();
  persistAndAdvance(rn, s);
  rn.proposeConfChange({
    type: ConfChangeType.AddLearnerNode,
    nodeId: 2n,
    context: new Uint8Array(0),
    id: 0n,
  });
  const rd = rn.ready();
  s.append(rd.entries);
  const cc = rd.committedEntries.find((e) => e.type === EntryType.ConfChange);
  assert.ok(cc !== undefined);
  const cs = rn.applyConfChange({
    type: ConfChangeType.AddLearnerNode,
    nodeId: 2n,
    context: new Uint8Array(0),
    id: 0n,
  });
  assert.deepEqual(cs, confState([1n], [2n]));
  rn.advance(rd);
  assert.deepEqual(rn.status().config.learners, new Set([2n]));
});

test('RawNode: ReadIndex on a single voter is answered in the next Ready', () => {
  const { rn, s } = bootstrapped(1n, [1n]);
  rn.campaign();
  persistAndAdvance(rn, s);
  rn.readIndex(bytes('ctx'));
  const rd = persistAndAdvance(rn, s);
  assert.deepEqual(rd.readStates, [{ index: 2n, requestCtx: bytes('ctx') }]);
  assert.equal(rn.hasReady(), false);
});

test('RawNode: status has every progress on the leader and none on a follower', () => {
  const n = new Network([1n, 2n, 3n]);
  n.campaign(1n);
  const st = n.node(1n).rn.status();
  assert.deepEqual([...st.progress.keys()], [1n, 2n, 3n]);
  assert.equal(st.progress.get(2n)?.match, 1n);
  assert.equal(n.node(2n).rn.status().progress.size, 0);
  // the copy is independent of the live progress
  st.progress.get(2n)!.match = 99n;
  assert.equal(n.raft(1n).prs.progress.get(2n)?.match, 1n);
});

test('RawNode: reportUnreachable stops pipelining; reportSnapshot ends the snapshot state', () => {
  const n = new Network([1n, 2n, 3n]);
  n.campaign(1n);
  const pr = (): Progress => n.raft(1n).prs.progress.get(2n)!;
  assert.equal(pr().state, ProgressState.StateReplicate);
  n.node(1n).rn.reportUnreachable(2n);
  assert.equal(pr().state, ProgressState.StateProbe);
  pr().becomeSnapshot(5n);
  n.node(1n).rn.reportSnapshot(2n, SnapshotStatus.SnapshotFailure);
  assert.equal(pr().state, ProgressState.StateProbe);
  assert.equal(pr().pendingSnapshot, 0n);
  assert.equal(pr().probeSent, true, 'waits for the next heartbeat response before probing');
});

test('RawNode: a restarted node does not hand out entries it already applied', () => {
  const n = new Network([1n]);
  n.campaign(1n);
  n.propose(1n, 'a');
  n.propose(1n, 'b');
  const s = n.node(1n).storage;
  const fresh = new RawNode({ ...newTestConfig(1n, s), applied: 2n });
  const rd = fresh.ready();
  assert.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [3n],
  );
  assert.equal(rd.hardState, undefined);
});
