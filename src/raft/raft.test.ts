import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateType } from './config.js';
import { ErrProposalDropped } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { ReadOnlyOption } from './read-only.js';
import { RawNode } from './raw-node.js';
import {
  confState,
  ent,
  Network,
  newTestConfig,
  newTestRaft,
  newTestStorage,
  readMessages,
} from './test-network.js';
import { MessageType, newMessage, type Entry } from './types.js';
import { noLimit } from './util.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const noPreVote = { configure: (c: { preVote?: boolean }) => (c.preVote = false) };

function termsOf(n: Network, id: bigint): bigint[] {
  const l = n.raft(id).raftLog;
  return l.allEntries().map((e) => e.term);
}

function electLeader(n: Network, id = 1n): void {
  n.campaign(id);
  assert.equal(n.raft(id).state, StateType.StateLeader);
}

test('election: a quorum of reachable voters elects the candidate, otherwise it stays (pre-)candidate', () => {
  const cases: { ids: bigint[]; present: bigint[]; preVote: boolean; state: StateType; term: bigint }[] = [
    { ids: [1n, 2n, 3n], present: [1n, 2n, 3n], preVote: false, state: StateType.StateLeader, term: 1n },
    { ids: [1n, 2n, 3n], present: [1n, 2n], preVote: false, state: StateType.StateLeader, term: 1n },
    { ids: [1n, 2n, 3n], present: [1n], preVote: false, state: StateType.StateCandidate, term: 1n },
    { ids: [1n, 2n, 3n, 4n], present: [1n, 2n], preVote: false, state: StateType.StateCandidate, term: 1n },
    {
      ids: [1n, 2n, 3n, 4n, 5n],
      present: [1n, 2n, 3n],
      preVote: false,
      state: StateType.StateLeader,
      term: 1n,
    },
    { ids: [1n, 2n, 3n], present: [1n, 2n, 3n], preVote: true, state: StateType.StateLeader, term: 1n },
    // a pre-candidate without a quorum does not even move its term
    { ids: [1n, 2n, 3n], present: [1n], preVote: true, state: StateType.StatePreCandidate, term: 0n },
    { ids: [1n, 2n, 3n, 4n], present: [1n, 2n], preVote: true, state: StateType.StatePreCandidate, term: 0n },
  ];
  for (const c of cases) {
    const n = new Network(c.present, { voters: c.ids, configure: (cfg) => (cfg.preVote = c.preVote) });
    n.campaign(1n);
    assert.equal(
      n.raft(1n).state,
      c.state,
      JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)),
    );
    assert.equal(n.raft(1n).term, c.term);
  }
});

test('election: the elected leader appends an empty entry of its term and commits it', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  for (const id of [1n, 2n, 3n]) {
    assert.deepEqual(termsOf(n, id), [1n]);
    assert.equal(n.raft(id).raftLog.committed, 1n);
    assert.equal(n.raft(id).lead, 1n);
  }
});

test('election: a single voter elects itself at once', () => {
  const n = new Network([1n]);
  electLeader(n);
  n.propose(1n, 'solo');
  assert.deepEqual(n.appliedData(1n), ['solo']);
});

test('election: the randomized timeout lies in [electionTick, 2*electionTick) and is drawn from the Prng', () => {
  const r = newTestRaft(1n, [1n, 2n, 3n], 10, 1);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    r.resetRandomizedElectionTimeout();
    assert.ok(r.randomizedElectionTimeout >= 10 && r.randomizedElectionTimeout < 20);
    seen.add(r.randomizedElectionTimeout);
  }
  assert.equal(seen.size, 10);
  const a = newTestRaft(1n, [1n, 2n, 3n]);
  const b = newTestRaft(1n, [1n, 2n, 3n]);
  assert.equal(a.randomizedElectionTimeout, b.randomizedElectionTimeout, 'same seed, same timeout');
});

test('election: a follower campaigns only after its randomized election timeout', () => {
  const r = newTestRaft(1n, [1n, 2n, 3n]);
  const timeout = r.randomizedElectionTimeout;
  for (let i = 1; i < timeout; i++) r.tick();
  assert.equal(r.state, StateType.StateFollower);
  r.tick();
  assert.equal(r.state, StateType.StatePreCandidate);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.to, m.term]),
    [
      [MessageType.MsgPreVote, 2n, 1n],
      [MessageType.MsgPreVote, 3n, 1n],
    ],
  );
  assert.equal(r.term, 0n, 'a pre-vote does not move the term');
});

test('election: a vote is granted once per term, and only to an up-to-date log', () => {
  const storage = newTestStorage(confState([1n, 2n, 3n]));
  storage.append([ent(1n, 1n), ent(2n, 2n)]);
  storage.setHardState({ term: 2n, vote: 0n, commit: 0n });
  const r = newTestRaft(1n, [1n, 2n, 3n], 10, 1, storage);
  // stale log (last term 1): rejected
  r.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3n, logTerm: 1n, index: 5n }));
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.reject]),
    [[MessageType.MsgVoteResp, true]],
  );
  // up to date: granted, and the vote is recorded
  r.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3n, logTerm: 2n, index: 2n }));
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.reject, m.term]),
    [[MessageType.MsgVoteResp, false, 3n]],
  );
  assert.equal(r.vote, 2n);
  // another candidate in the same term is refused; the same one again is granted
  r.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 3n, logTerm: 2n, index: 2n }));
  assert.equal(readMessages(r)[0]?.reject, true);
  r.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3n, logTerm: 2n, index: 2n }));
  assert.equal(readMessages(r)[0]?.reject, false);
});

test('pre-vote: a partitioned node does not inflate its term and does not disrupt the leader on return', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(3n);
  n.tick(3n, 100);
  assert.equal(n.raft(3n).term, 1n);
  assert.equal(n.raft(3n).state, StateType.StatePreCandidate);
  n.recover();
  n.tick(1n, n.raft(1n).heartbeatTimeout);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
  assert.equal(n.raft(1n).term, 1n);
  assert.equal(n.raft(3n).state, StateType.StateFollower);
  assert.equal(n.raft(3n).lead, 1n);
});

test('without pre-vote (and check-quorum) a returning partitioned node deposes the leader', () => {
  const n = new Network([1n, 2n, 3n], {
    configure: (c) => {
      c.preVote = false;
      c.checkQuorum = false;
    },
  });
  electLeader(n);
  n.isolate(3n);
  n.tick(3n, 100);
  assert.ok(n.raft(3n).term > 2n);
  n.recover();
  // the next timeout of 3 sends vote requests of a higher term, which nobody may ignore
  n.tick(3n, 2 * n.raft(3n).electionTimeout);
  assert.notEqual(n.raft(1n).state, StateType.StateLeader);
  assert.ok(n.raft(1n).term > 2n);
  assert.equal(n.raft(1n).term, n.raft(3n).term);
});

test('check-quorum: a leader cut off from the quorum steps down within two election timeouts', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(1n);
  const et = n.raft(1n).electionTimeout;
  // the first check still counts the followers' answers from before the partition
  n.tick(1n, et);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
  n.tick(1n, et - 1);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
  n.tick(1n, 1);
  assert.equal(n.raft(1n).state, StateType.StateFollower);
  assert.equal(n.raft(1n).lead, 0n);
  assert.equal(n.raft(1n).term, 1n, 'stepping down does not change the term');
});

test('check-quorum: a leader in touch with a quorum keeps leading', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(3n);
  n.tickAll(5 * n.raft(1n).electionTimeout);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
  assert.equal(n.raft(1n).term, 1n);
});

test('leader stickiness: a follower that heard from its leader ignores higher-term vote requests', () => {
  const r = newTestRaft(1n, [1n, 2n, 3n]);
  r.becomeFollower(1n, 2n);
  for (const type of [MessageType.MsgVote, MessageType.MsgPreVote]) {
    r.step(newMessage({ type, from: 3n, to: 1n, term: 2n, logTerm: 9n, index: 9n }));
    assert.deepEqual(readMessages(r), [], 'no answer at all');
    assert.equal(r.term, 1n);
    assert.equal(r.lead, 2n);
  }
  // a leader-transfer campaign is honoured
  const context = bytes('CampaignTransfer');
  r.step(
    newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2n, logTerm: 9n, index: 9n, context }),
  );
  assert.equal(r.term, 2n);
  assert.deepEqual(
    readMessages(r).map((m) => [m.type, m.reject]),
    [[MessageType.MsgVoteResp, false]],
  );
});

test('leader stickiness ends with the lease: after an election timeout without a leader the vote is cast', () => {
  const r = newTestRaft(1n, [1n, 2n, 3n]);
  r.becomeFollower(1n, 2n);
  for (let i = 0; i < r.electionTimeout; i++) r.electionElapsed++;
  r.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2n, logTerm: 9n, index: 9n }));
  assert.equal(r.term, 2n);
  assert.equal(readMessages(r)[0]?.reject, false);
});

test('a candidate stuck at a higher term rejoins once the others’ lease has expired (check-quorum)', () => {
  const n = new Network([1n, 2n, 3n], noPreVote);
  electLeader(n);
  n.isolate(1n);
  // 2 and 3 elect a new leader after the lease expires; 1 steps down by check-quorum
  n.tickAll(3 * n.raft(2n).electionTimeout);
  const leaders = n.leaders();
  assert.equal(leaders.length, 1);
  assert.notEqual(leaders[0], 1n);
  n.recover();
  n.tickAll(3 * n.raft(2n).electionTimeout);
  const [lead] = n.leaders();
  assert.notEqual(lead, undefined);
  for (const id of [1n, 2n, 3n]) assert.equal(n.raft(id).lead, lead);
});

test('replication: proposals to the leader or through a follower are applied everywhere in order', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.propose(1n, 'a');
  n.propose(2n, 'b'); // forwarded
  n.propose(3n, 'c');
  for (const id of [1n, 2n, 3n]) assert.deepEqual(n.appliedData(id), ['a', 'b', 'c']);
  assert.deepEqual(termsOf(n, 3n), [1n, 1n, 1n, 1n]);
});

test('replication: a follower with forwarding disabled drops proposals', () => {
  const n = new Network([1n, 2n, 3n], { configure: (c) => (c.disableProposalForwarding = true) });
  electLeader(n);
  assert.throws(
    () => n.propose(2n, 'x'),
    (e) => e === ErrProposalDropped,
  );
  n.propose(1n, 'y');
  assert.deepEqual(n.appliedData(2n), ['y']);
});

test('replication: proposals without a leader are dropped', () => {
  const n = new Network([1n, 2n, 3n]);
  assert.throws(
    () => n.propose(1n, 'x'),
    (e) => e === ErrProposalDropped,
  );
  const r = newTestRaft(1n, [1n, 2n, 3n], 10, 1, undefined, (c) => (c.preVote = false));
  r.becomeCandidate();
  assert.throws(
    () => r.step(newMessage({ type: MessageType.MsgProp, from: 1n, entries: [ent(0n, 0n, 'x')] })),
    (e) => e === ErrProposalDropped,
  );
});

/** Figure 7 of the Raft paper: the leader's log (terms) and followers (a)–(f). */
const fig7Leader = [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n];
const fig7Followers: bigint[][] = [
  [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n], // (a)
  [1n, 1n, 1n, 4n], // (b)
  [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n, 6n], // (c)
  [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n, 7n, 7n], // (d)
  [1n, 1n, 1n, 4n, 4n, 4n, 4n], // (e)
  [1n, 1n, 1n, 2n, 2n, 2n, 3n, 3n, 3n, 3n, 3n], // (f)
];

function storageWithLog(terms: bigint[], ids: bigint[]): MemoryStorage {
  const s = newTestStorage(confState(ids));
  s.append(terms.map((t, i) => ent(BigInt(i + 1), t)));
  s.setHardState({ term: terms[terms.length - 1] ?? 0n, vote: 0n, commit: 0n });
  return s;
}

test('replication: the leader repairs each follower of Figure 7, skipping divergent terms via hints', () => {
  for (const [i, follower] of fig7Followers.entries()) {
    const n = new Network([], { voters: [1n, 2n, 3n] });
    const stores = [storageWithLog(fig7Leader, [1n, 2n, 3n]), storageWithLog(follower, [1n, 2n, 3n])];
    stores.push(storageWithLog(fig7Leader, [1n, 2n, 3n]));
    for (const [j, s] of stores.entries()) {
      const id = BigInt(j + 1);
      n.nodes.set(id, {
        id,
        rn: new RawNode(newTestConfig(id, s)),
        storage: s,
        applied: [],
        readStates: [],
        confStates: [],
      });
    }
    n.raft(1n).term = 7n; // the leader campaigns at term 8 like in the figure
    n.campaign(1n);
    assert.equal(n.raft(1n).state, StateType.StateLeader, `case ${i}`);
    n.propose(1n, 'x');
    const want = n
      .raft(1n)
      .raftLog.allEntries()
      .map((e) => [e.index, e.term]);
    const got = n
      .raft(2n)
      .raftLog.allEntries()
      .map((e) => [e.index, e.term]);
    assert.deepEqual(got, want, `case ${i}`);
    assert.equal(n.raft(2n).raftLog.committed, n.raft(1n).raftLog.committed);
    const rejections = n.delivered.filter(
      (m) => m.type === MessageType.MsgAppResp && m.from === 2n && m.reject,
    );
    assert.ok(rejections.length <= 1, `case ${i}: ${rejections.length} rejections; one hint must suffice`);
  }
});

test('replication: a follower rejects with the last index of a term at or below the leader’s log term', () => {
  const s = newTestStorage(confState([1n, 2n]));
  s.append([1n, 1n, 1n, 2n, 2n, 2n, 3n, 3n, 3n, 3n, 3n].map((t, i) => ent(BigInt(i + 1), t)));
  const r = newTestRaft(2n, [1n, 2n], 10, 1, s);
  r.becomeFollower(8n, 1n);
  r.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 8n, logTerm: 6n, index: 10n }));
  const [resp] = readMessages(r);
  assert.deepEqual([resp?.reject, resp?.index, resp?.rejectHint, resp?.logTerm], [true, 10n, 10n, 3n]);
  r.step(newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 8n, logTerm: 2n, index: 15n }));
  const [resp2] = readMessages(r);
  assert.deepEqual([resp2?.rejectHint, resp2?.logTerm], [6n, 2n]);
});

test('replication: messages carry at most maxSizePerMsg bytes and the inflight window bounds them', () => {
  const payload = 'p'.repeat(100);
  const n = new Network([1n, 2n], { configure: (c) => ((c.maxSizePerMsg = 300), (c.maxInflightMsgs = 2)) });
  electLeader(n);
  n.ignore(MessageType.MsgAppResp);
  for (let i = 0; i < 10; i++) n.propose(1n, payload);
  const apps = n.delivered.filter(
    (m) => m.type === MessageType.MsgApp && m.from === 1n && m.entries.length > 0,
  );
  // without acknowledgements the window holds two messages
  assert.ok(apps.length <= 2 + 1, `${apps.length} appends sent without acks`);
  n.recover();
  n.tick(1n, 1); // heartbeat frees the window
  n.flush();
  n.tickAll(3);
  assert.equal(n.appliedData(2n).length, 10);
  for (const m of n.delivered.filter((x) => x.type === MessageType.MsgApp)) {
    const size = m.entries.reduce((acc, e: Entry) => acc + e.data.length + 24, 0);
    assert.ok(m.entries.length <= 1 || size <= 300, `message of ${size} bytes`);
  }
});

test('replication: heartbeats carry min(match, commit) so a follower never commits beyond its match', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.cut(1n, 3n);
  n.propose(1n, 'x');
  const commit = n.raft(1n).raftLog.committed;
  assert.equal(commit, 2n);
  n.drop(1n, 3n, 0);
  n.drop(3n, 1n, 0);
  n.ignore(MessageType.MsgApp);
  n.ignore(MessageType.MsgHeartbeatResp);
  n.delivered.length = 0;
  n.tick(1n, 1);
  const hb = n.delivered.filter((m) => m.type === MessageType.MsgHeartbeat);
  assert.deepEqual(
    hb.map((m) => [m.to, m.commit]),
    [
      [2n, 2n],
      [3n, 1n],
    ],
  );
});

test('commit rule: a new leader commits an older term’s entries only with an entry of its own term (Figure 8)', () => {
  // 1 is leader at term 3 with entries 1 (term 1) and 2 (term 2) not committed.
  const s = newTestStorage(confState([1n, 2n, 3n]));
  s.append([ent(1n, 1n), ent(2n, 2n)]);
  s.setHardState({ term: 2n, vote: 0n, commit: 0n });
  const r = newTestRaft(1n, [1n, 2n, 3n], 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader(); // term 3, empty entry at index 3
  assert.equal(r.term, 3n);
  readMessages(r);
  // follower 2 acknowledges up to index 2 (the term-2 entry): a majority holds it, yet no commit
  r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3n, index: 2n }));
  assert.equal(r.raftLog.committed, 0n);
  // acknowledging the leader's own entry commits everything before it too
  r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3n, index: 3n }));
  assert.equal(r.raftLog.committed, 3n);
});

test('snapshot: a follower behind the compacted log is caught up with a snapshot', () => {
  const n = new Network([1n, 2n, 3n], { snapshotBootstrap: true });
  electLeader(n);
  n.isolate(3n);
  for (let i = 0; i < 10; i++) n.propose(1n, `v${i}`);
  const leader = n.node(1n);
  const applied = n.raft(1n).raftLog.applied;
  leader.storage.createSnapshot(applied, confState([1n, 2n, 3n]), bytes('state'));
  leader.storage.compact(applied);
  n.recover();
  n.tickAll(2);
  const snaps = n.delivered.filter((m) => m.type === MessageType.MsgSnap);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]?.snapshot?.metadata.index, applied);
  assert.equal(n.node(3n).storage.snapshot().metadata.index, applied);
  assert.deepEqual(n.node(3n).storage.snapshot().data, bytes('state'));
  n.propose(1n, 'after');
  assert.deepEqual(n.appliedData(3n), ['after']);
  assert.equal(n.raft(3n).raftLog.committed, n.raft(1n).raftLog.committed);
  assert.equal(n.node(1n).rn.status().progress.get(3n)?.state, 1 /* StateReplicate */);
});

test('snapshot: a leader does not send a snapshot to a follower that is not recently active', () => {
  const s = newTestStorage(confState([1n, 2n]));
  s.append([ent(1n, 1n), ent(2n, 1n), ent(3n, 1n)]);
  s.createSnapshot(3n, confState([1n, 2n]), new Uint8Array(0));
  s.compact(3n);
  s.setHardState({ term: 1n, vote: 0n, commit: 3n });
  const r = newTestRaft(1n, [1n, 2n], 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  const pr = r.prs.progress.get(2n);
  assert.ok(pr !== undefined);
  pr.next = 2n; // needs compacted entries
  pr.recentActive = false;
  r.sendAppend(2n);
  assert.deepEqual(readMessages(r), []);
  pr.recentActive = true;
  r.sendAppend(2n);
  assert.deepEqual(
    readMessages(r).map((m) => m.type),
    [MessageType.MsgSnap],
  );
  assert.equal(pr.state, 2 /* StateSnapshot */);
});

test('ReadIndex (safe): served after a heartbeat quorum round, from the leader or through a follower', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.propose(1n, 'x');
  n.act(1n, (rn) => rn.readIndex(bytes('r1')));
  assert.deepEqual(n.node(1n).readStates, [{ index: 2n, requestCtx: bytes('r1') }]);
  n.act(2n, (rn) => rn.readIndex(bytes('r2')));
  assert.deepEqual(n.node(2n).readStates, [{ index: 2n, requestCtx: bytes('r2') }]);
  const hbCtx = n.delivered.filter((m) => m.type === MessageType.MsgHeartbeat && m.context.length > 0);
  assert.ok(hbCtx.length >= 2);
});

test('ReadIndex (safe): a leader cut off from the quorum cannot serve reads', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(1n);
  n.act(1n, (rn) => rn.readIndex(bytes('r')));
  assert.deepEqual(n.node(1n).readStates, []);
});

test('ReadIndex: a new leader defers reads until an entry of its term is committed', () => {
  const n = new Network([1n, 2n, 3n]);
  n.ignore(MessageType.MsgApp);
  electLeader(n);
  n.act(1n, (rn) => rn.readIndex(bytes('r')));
  assert.deepEqual(n.node(1n).readStates, []);
  assert.equal(n.raft(1n).pendingReadIndexMessages.length, 1);
  n.recover();
  n.tick(1n, 1);
  assert.deepEqual(n.node(1n).readStates, [{ index: 1n, requestCtx: bytes('r') }]);
});

test('ReadIndex (lease-based): answered at once without a heartbeat round; requires check-quorum', () => {
  const n = new Network([1n, 2n, 3n], {
    configure: (c) => (c.readOnlyOption = ReadOnlyOption.ReadOnlyLeaseBased),
  });
  electLeader(n);
  n.isolate(2n);
  n.isolate(3n);
  n.delivered.length = 0;
  n.act(1n, (rn) => rn.readIndex(bytes('lease')));
  assert.deepEqual(n.node(1n).readStates, [{ index: 1n, requestCtx: bytes('lease') }]);
  assert.deepEqual(n.delivered, []);
  const s = new MemoryStorage();
  assert.throws(
    () =>
      new RawNode({
        ...newTestConfig(1n, s),
        checkQuorum: false,
        readOnlyOption: ReadOnlyOption.ReadOnlyLeaseBased,
      }),
    /CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased/,
  );
});

test('leader transfer: to an up-to-date follower, which wins at the next term', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.act(1n, (rn) => rn.transferLeader(2n));
  assert.equal(n.raft(2n).state, StateType.StateLeader);
  assert.equal(n.raft(2n).term, 2n);
  assert.equal(n.raft(1n).state, StateType.StateFollower);
  assert.equal(n.raft(1n).lead, 2n);
  assert.ok(n.delivered.some((m) => m.type === MessageType.MsgTimeoutNow && m.to === 2n));
});

test('leader transfer: a lagging transferee is caught up first, then told to campaign', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(3n);
  n.propose(1n, 'a');
  n.propose(1n, 'b');
  n.recover();
  n.act(1n, (rn) => rn.transferLeader(3n));
  assert.equal(n.raft(3n).state, StateType.StateLeader);
  assert.deepEqual(n.appliedData(3n), ['a', 'b']);
});

test('leader transfer: proposals are dropped while it is in progress; it is abandoned after an election timeout', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.isolate(3n);
  n.act(1n, (rn) => rn.transferLeader(3n));
  assert.equal(n.raft(1n).leadTransferee, 3n);
  assert.throws(
    () => n.propose(1n, 'x'),
    (e) => e === ErrProposalDropped,
  );
  n.tick(1n, n.raft(1n).electionTimeout);
  assert.equal(n.raft(1n).leadTransferee, 0n);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
  n.propose(1n, 'y');
  assert.deepEqual(n.appliedData(2n), ['y']);
});

test('leader transfer: requests to itself or to a learner are ignored', () => {
  const n = new Network([1n, 2n, 3n], { learners: [3n] });
  electLeader(n);
  n.act(1n, (rn) => rn.transferLeader(1n));
  n.act(1n, (rn) => rn.transferLeader(3n));
  assert.equal(n.raft(1n).leadTransferee, 0n);
  assert.equal(n.raft(1n).state, StateType.StateLeader);
});

test('uncommitted size limit: proposals beyond maxUncommittedEntriesSize are dropped until entries commit', () => {
  const n = new Network([1n, 2n, 3n], { configure: (c) => (c.maxUncommittedEntriesSize = 1000) });
  electLeader(n);
  n.isolate(1n);
  const big = 'x'.repeat(400);
  n.propose(1n, big);
  n.propose(1n, big);
  assert.throws(
    () => n.propose(1n, big),
    (e) => e === ErrProposalDropped,
  );
  assert.equal(n.raft(1n).uncommittedSize, 800);
  n.recover();
  n.tick(1n, 1);
  n.tickAll(2);
  assert.equal(n.raft(1n).uncommittedSize, 0);
  n.propose(1n, big);
  assert.equal(n.appliedData(2n).length, 3);
});

test('restart: a RawNode over the same storage keeps term, vote, log and commit', () => {
  const n = new Network([1n, 2n, 3n]);
  electLeader(n);
  n.propose(1n, 'a');
  const s = n.node(2n).storage;
  const rn = new RawNode({ ...newTestConfig(2n, s), applied: n.raft(2n).raftLog.applied });
  assert.equal(rn.raft.term, 1n);
  assert.equal(rn.raft.vote, 1n);
  assert.equal(rn.raft.raftLog.committed, 2n);
  assert.equal(rn.raft.raftLog.lastIndex(), 2n);
  assert.equal(rn.raft.state, StateType.StateFollower);
  assert.equal(rn.hasReady(), false);
  assert.deepEqual(
    s.entries(1n, 3n, noLimit).map((e) => e.term),
    [1n, 1n],
  );
});
