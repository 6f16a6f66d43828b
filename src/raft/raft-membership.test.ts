import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConfChange } from './confchange/index.js';
import { StateType } from './config.js';
import { ErrProposalDropped } from './errors.js';
import { confState, Network, newTestRaft, newTestStorage, readMessages } from './test-network.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  newMessage,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from './types.js';

const empty = new Uint8Array(0);
function v1(type: ConfChangeType, nodeId: bigint): ConfChange {
  return { type, nodeId, context: empty, id: 0n };
}
function v2(transition: ConfChangeTransition, ...changes: ConfChangeSingle[]): ConfChangeV2 {
  return { transition, changes, context: empty };
}
const addVoter = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const addLearner = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.AddLearnerNode, nodeId });
const remove = (nodeId: bigint): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });

function elect(n: Network, id = 1n): void {
  n.campaign(id);
  assert.equal(n.raft(id).state, StateType.StateLeader);
}

test('membership: a new voter joins from a snapshot and then counts for the quorum', () => {
  const n = new Network([1n, 2n, 3n], { snapshotBootstrap: true, snapshotOnConfChange: true });
  elect(n);
  n.addNode(4n, true);
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddNode, 4n)));
  assert.deepEqual(n.node(1n).confStates.at(-1)?.voters, [1n, 2n, 3n, 4n]);
  n.tickAll(2);
  assert.equal(n.raft(4n).lead, 1n);
  assert.deepEqual(n.raft(4n).prs.voterNodes(), [1n, 2n, 3n, 4n]);
  // with 2 and 3 cut off, 1 and 4 are not a quorum of four
  n.isolate(2n);
  n.isolate(3n);
  n.propose(1n, 'x');
  assert.deepEqual(n.appliedData(1n), []);
  n.recover();
  n.tickAll(1);
  assert.deepEqual(n.appliedData(4n), ['x']);
});

test('membership: a removed leader hands leadership to an up-to-date voter, then follows', () => {
  const n = new Network([1n, 2n, 3n]);
  elect(n);
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.RemoveNode, 1n)));
  assert.equal(n.raft(1n).promotable(), false);
  // 2 and 3 are equally up to date: the lowest ID gets leadership, through MsgTimeoutNow.
  assert.equal(n.raft(2n).state, StateType.StateLeader);
  assert.throws(
    () => n.propose(1n, 'dropped'),
    (e) => e === ErrProposalDropped,
  );
  n.tickAll(4 * n.raft(2n).electionTimeout);
  assert.equal(n.raft(1n).state, StateType.StateFollower);
  const leaders = n.leaders();
  assert.deepEqual(leaders, [2n]);
  const lead = leaders[0] as bigint;
  assert.deepEqual(n.raft(lead).prs.voterNodes(), [2n, 3n]);
  n.propose(lead, 'after');
  assert.deepEqual(n.appliedData(2n), ['after']);
  assert.deepEqual(n.appliedData(3n), ['after']);
});

test('membership: a V2 change of two voters goes through a joint config that is left automatically', () => {
  const n = new Network([1n, 2n, 3n], { snapshotBootstrap: true, snapshotOnConfChange: true });
  elect(n);
  n.addNode(4n, true);
  n.act(1n, (rn) => rn.proposeConfChange(v2(ConfChangeTransition.Auto, addVoter(4n), remove(3n))));
  n.tickAll(2);
  const css = n.node(1n).confStates;
  assert.equal(css.length, 2);
  assert.deepEqual(css[0], {
    voters: [1n, 2n, 4n],
    votersOutgoing: [1n, 2n, 3n],
    learners: [],
    learnersNext: [],
    autoLeave: true,
  });
  assert.deepEqual(css[1], confState([1n, 2n, 4n]));
  const leaveEntries = n
    .node(1n)
    .applied.filter((e) => e.type === EntryType.ConfChangeV2 && e.data.length === 0);
  assert.equal(leaveEntries.length, 1, 'the leader proposed the empty ConfChangeV2 itself');
  assert.deepEqual(n.raft(2n).prs.voterNodes(), [1n, 2n, 4n]);
});

test('membership: an explicit joint config waits for the empty ConfChangeV2 and refuses other changes meanwhile', () => {
  const n = new Network([1n, 2n, 3n]);
  elect(n);
  n.act(1n, (rn) => rn.proposeConfChange(v2(ConfChangeTransition.JointExplicit, addLearner(4n))));
  assert.equal(n.raft(1n).prs.config.voters.isJoint(), true);
  assert.equal(n.raft(1n).prs.config.autoLeave, false);
  n.tickAll(3);
  assert.equal(n.raft(1n).prs.config.voters.isJoint(), true, 'not left automatically');
  // a non-empty change is turned into an empty normal entry while joint
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddNode, 5n)));
  const last = n.node(1n).applied.at(-1);
  assert.equal(last?.type, EntryType.Normal);
  assert.equal(last?.data.length, 0);
  n.act(1n, (rn) => rn.proposeConfChange(v2(ConfChangeTransition.Auto)));
  assert.equal(n.raft(1n).prs.config.voters.isJoint(), false);
  assert.deepEqual(n.node(1n).confStates.at(-1), confState([1n, 2n, 3n], [4n]));
});

test('membership: only one conf change may be pending; a second one becomes an empty entry', () => {
  const n = new Network([1n, 2n, 3n]);
  elect(n);
  n.ignore(MessageType.MsgApp);
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 4n)));
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 5n)));
  const tail = n.raft(1n).raftLog.allEntries().slice(-2);
  assert.deepEqual(
    tail.map((e) => e.type),
    [EntryType.ConfChange, EntryType.Normal],
  );
  assert.deepEqual(tail[0]?.data, encodeConfChange(v1(ConfChangeType.AddLearnerNode, 4n)));
  n.recover();
  n.tickAll(2);
  assert.deepEqual(n.node(1n).confStates.at(-1), confState([1n, 2n, 3n], [4n]));
  // applied: the next change is accepted
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddLearnerNode, 5n)));
  assert.deepEqual(n.node(1n).confStates.at(-1), confState([1n, 2n, 3n], [4n, 5n]));
});

test('membership: an empty ConfChangeV2 outside a joint config is refused', () => {
  const n = new Network([1n, 2n, 3n]);
  elect(n);
  n.act(1n, (rn) => rn.proposeConfChange(v2(ConfChangeTransition.Auto)));
  assert.equal(n.node(1n).confStates.length, 0);
  assert.equal(n.node(1n).applied.at(-1)?.type, EntryType.Normal);
});

test('learners: they never campaign, never vote, and their acks do not count toward commit', () => {
  const n = new Network([1n, 2n, 3n], { learners: [3n] });
  n.tick(3n, 100);
  assert.equal(n.raft(3n).state, StateType.StateFollower);
  assert.equal(n.raft(3n).term, 0n);
  assert.equal(n.raft(3n).isLearner, true);
  elect(n);
  const votes = n.delivered.filter(
    (m) => m.type === MessageType.MsgPreVote || m.type === MessageType.MsgVote,
  );
  assert.deepEqual(
    votes.map((m) => m.to),
    [2n, 2n],
    'vote requests go to voters only',
  );
  n.isolate(2n);
  n.propose(1n, 'x');
  assert.equal(n.raft(3n).raftLog.lastIndex(), 2n, 'the learner has the entry');
  assert.deepEqual(n.appliedData(1n), [], 'but 1 of 2 voters is not a quorum');
  n.recover();
  n.tickAll(1);
  assert.deepEqual(n.appliedData(3n), ['x']);
});

test('learners: promotion with AddNode makes a learner a voter that can campaign', () => {
  const n = new Network([1n, 2n, 3n], { learners: [3n] });
  elect(n);
  n.act(1n, (rn) => rn.proposeConfChange(v1(ConfChangeType.AddNode, 3n)));
  assert.equal(n.raft(3n).isLearner, false);
  assert.deepEqual(n.raft(3n).prs.voterNodes(), [1n, 2n, 3n]);
  n.isolate(1n);
  n.tickAll(4 * n.raft(3n).electionTimeout);
  assert.ok(n.leaders().some((id) => id === 2n || id === 3n));
});

test('a node with committed but unapplied conf changes refuses to campaign', () => {
  const s = newTestStorage(confState([1n, 2n]));
  const cc = encodeConfChange(v1(ConfChangeType.AddNode, 3n));
  s.append([{ term: 1n, index: 1n, type: EntryType.ConfChange, data: cc }]);
  s.setHardState({ term: 1n, vote: 0n, commit: 1n });
  const r = newTestRaft(1n, [1n, 2n], 10, 1, s);
  r.step(newMessage({ type: MessageType.MsgHup }));
  assert.equal(r.state, StateType.StateFollower);
  assert.deepEqual(readMessages(r), []);
  r.raftLog.appliedTo(1n);
  r.step(newMessage({ type: MessageType.MsgHup }));
  assert.equal(r.state, StateType.StatePreCandidate);
});
