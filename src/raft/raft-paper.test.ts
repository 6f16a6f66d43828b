// Tests named after the sections of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", extended version). The paper's algorithm has neither pre-vote
// nor check-quorum, so these nodes run with both off unless a test says otherwise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { StateType } from './config.js';
import type { Raft } from './raft.js';
import { confState, ent, Network, newTestRaft, newTestStorage, readMessages } from './test-network.js';
import { MessageType, newMessage, type Entry, type Message } from './types.js';

const paper = (c: Config): void => {
  c.preVote = false;
  c.checkQuorum = false;
};

function paperRaft(id: bigint, peers: bigint[], log: bigint[] = [], term = 0n, commit = 0n): Raft {
  const s = newTestStorage(confState(peers));
  s.append(log.map((t, i) => ent(BigInt(i + 1), t)));
  if (term > 0n || commit > 0n) s.setHardState({ term, vote: 0n, commit });
  return newTestRaft(id, peers, 10, 1, s, paper);
}

/** Make r the leader of `peers` at its next term and drop the messages that produced. */
function makeLeader(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
}

/**
 * Commit the leader's empty entry with every follower's ack, so every follower is replicating and
 * up to date (etcd's commitNoopEntry), and mark it applied.
 */
function commitNoop(r: Raft): void {
  r.prs.visit((id) => {
    if (id !== r.id) r.sendAppend(id);
  });
  for (const m of readMessages(r)) {
    r.step(
      msg({ type: MessageType.MsgAppResp, from: m.to, to: r.id, term: r.term, index: r.raftLog.lastIndex() }),
    );
  }
  readMessages(r);
  r.raftLog.appliedTo(r.raftLog.committed);
}

function msg(init: Partial<Message> & { type: Message['type'] }): Message {
  return newMessage(init);
}

const summary = (ms: Message[]): [number, bigint, bigint][] => ms.map((m) => [m.type, m.to, m.term]);

describe('§5.1 Raft basics', () => {
  for (const [name, setup] of [
    ['follower', (r: Raft) => r.becomeFollower(1n, 2n)],
    ['candidate', (r: Raft) => r.becomeCandidate()],
    ['leader', (r: Raft) => makeLeader(r)],
  ] as const) {
    test(`a ${name} seeing a larger term updates its term and reverts to follower`, () => {
      const r = paperRaft(1n, [1n, 2n, 3n]);
      setup(r);
      r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 5n }));
      assert.equal(r.term, 5n);
      assert.equal(r.state, StateType.StateFollower);
      assert.equal(r.lead, 2n);
    });
  }

  test('a request with a stale term is rejected (ignored)', () => {
    const r = paperRaft(1n, [1n, 2n, 3n], [], 2n);
    r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1n, index: 0n, entries: [ent(1n, 1n)] }));
    assert.equal(r.raftLog.lastIndex(), 0n);
    assert.equal(r.term, 2n);
    assert.deepEqual(readMessages(r), []);
  });

  test('servers start as followers', () => {
    const r = paperRaft(1n, [1n, 2n, 3n]);
    assert.equal(r.state, StateType.StateFollower);
    assert.equal(r.lead, 0n);
  });
});

describe('§5.2 Leader election', () => {
  test('the leader sends heartbeats to every follower each heartbeat interval', () => {
    const r = paperRaft(1n, [1n, 2n, 3n]);
    makeLeader(r);
    for (let i = 0; i < r.heartbeatTimeout; i++) r.tick();
    const ms = readMessages(r);
    assert.deepEqual(
      ms.map((m) => [m.type, m.to, m.entries.length]),
      [
        [MessageType.MsgHeartbeat, 2n, 0],
        [MessageType.MsgHeartbeat, 3n, 0],
      ],
    );
  });

  for (const role of ['follower', 'candidate'] as const) {
    test(`a ${role} whose election timeout elapses starts an election: new term, own vote, RequestVote to all`, () => {
      const r = paperRaft(1n, [1n, 2n, 3n]);
      if (role === 'candidate') {
        r.becomeCandidate();
        readMessages(r);
      }
      const term = r.term;
      for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
      assert.equal(r.state, StateType.StateCandidate);
      assert.equal(r.term, term + 1n);
      assert.equal(r.vote, 1n);
      assert.deepEqual(summary(readMessages(r)), [
        [MessageType.MsgVote, 2n, term + 1n],
        [MessageType.MsgVote, 3n, term + 1n],
      ]);
    });
  }

  test('a candidate wins with a majority of votes, loses with a majority of rejections, else waits', () => {
    const cases: { size: number; votes: [bigint, boolean][]; state: StateType }[] = [
      { size: 1, votes: [], state: StateType.StateLeader },
      { size: 3, votes: [[2n, true]], state: StateType.StateLeader },
      {
        size: 3,
        votes: [
          [2n, true],
          [3n, true],
        ],
        state: StateType.StateLeader,
      },
      {
        size: 5,
        votes: [
          [2n, true],
          [3n, true],
        ],
        state: StateType.StateLeader,
      },
      { size: 5, votes: [[2n, true]], state: StateType.StateCandidate },
      {
        size: 3,
        votes: [
          [2n, false],
          [3n, false],
        ],
        state: StateType.StateFollower,
      },
      {
        size: 5,
        votes: [
          [2n, false],
          [3n, false],
          [4n, false],
        ],
        state: StateType.StateFollower,
      },
      { size: 3, votes: [], state: StateType.StateCandidate },
    ];
    for (const c of cases) {
      const peers = Array.from({ length: c.size }, (_, i) => BigInt(i + 1));
      const r = paperRaft(1n, peers);
      r.step(msg({ type: MessageType.MsgHup, from: 1n }));
      for (const [from, granted] of c.votes) {
        r.step(msg({ type: MessageType.MsgVoteResp, from, to: 1n, term: r.term, reject: !granted }));
      }
      assert.equal(r.state, c.state, `${c.size} nodes, votes ${c.votes.join(';')}`);
      assert.equal(r.term, 1n);
    }
  });

  test('a follower votes for at most one candidate per term, first come first served', () => {
    const cases: { vote: bigint; from: bigint; reject: boolean }[] = [
      { vote: 0n, from: 2n, reject: false },
      { vote: 0n, from: 3n, reject: false },
      { vote: 2n, from: 2n, reject: false },
      { vote: 3n, from: 3n, reject: false },
      { vote: 2n, from: 3n, reject: true },
      { vote: 3n, from: 2n, reject: true },
    ];
    for (const c of cases) {
      const r = paperRaft(1n, [1n, 2n, 3n]);
      r.term = 1n;
      r.vote = c.vote;
      r.step(msg({ type: MessageType.MsgVote, from: c.from, to: 1n, term: 1n }));
      assert.deepEqual(
        readMessages(r).map((m) => [m.type, m.to, m.reject]),
        [[MessageType.MsgVoteResp, c.from, c.reject]],
      );
    }
  });

  test('a candidate receiving AppendEntries from a leader of at least its term becomes follower', () => {
    for (const term of [1n, 2n]) {
      const r = paperRaft(1n, [1n, 2n, 3n]);
      r.step(msg({ type: MessageType.MsgHup, from: 1n }));
      assert.equal(r.state, StateType.StateCandidate);
      r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term }));
      assert.equal(r.state, StateType.StateFollower);
      assert.equal(r.term, term);
      assert.equal(r.lead, 2n);
    }
  });

  test('election timeouts are randomized, so in most rounds only one server times out first', () => {
    const size = 5;
    let conflicts = 0;
    const rounds = 200;
    const rafts = Array.from({ length: size }, (_, i) =>
      paperRaft(
        BigInt(i + 1),
        Array.from({ length: size }, (_, j) => BigInt(j + 1)),
      ),
    );
    for (let round = 0; round < rounds; round++) {
      for (const r of rafts) r.becomeFollower(r.term + 1n, 0n);
      let timedOut = 0;
      while (timedOut === 0) {
        for (const r of rafts) {
          r.tick();
          if (readMessages(r).length > 0) timedOut++;
        }
      }
      if (timedOut > 1) conflicts++;
    }
    // with 5 servers and 10 possible timeouts, a tie is rarer than 1 in 2
    assert.ok(conflicts / rounds < 0.5, `${conflicts} conflicts in ${rounds} rounds`);
  });
});

describe('§5.3 Log replication', () => {
  test('the leader appends a proposal to its log and sends AppendEntries to every follower', () => {
    const r = paperRaft(1n, [1n, 2n, 3n]);
    makeLeader(r);
    commitNoop(r);
    const li = r.raftLog.lastIndex();
    r.step(msg({ type: MessageType.MsgProp, from: 1n, entries: [ent(0n, 0n, 'some data')] }));
    assert.equal(r.raftLog.lastIndex(), li + 1n);
    assert.equal(r.raftLog.committed, li);
    const ms = readMessages(r);
    assert.deepEqual(
      ms.map((m) => [m.type, m.to, m.index, m.logTerm, m.commit, m.entries.map((e) => [e.index, e.term])]),
      [
        [MessageType.MsgApp, 2n, li, 1n, li, [[li + 1n, 1n]]],
        [MessageType.MsgApp, 3n, li, 1n, li, [[li + 1n, 1n]]],
      ],
    );
  });

  test('an entry is committed once a majority stores it; then it is applied and the commit index sent', () => {
    for (const [size, acks, committed] of [
      [1, 0, true],
      [3, 0, false],
      [3, 1, true],
      [5, 1, false],
      [5, 2, true],
    ] as const) {
      const peers = Array.from({ length: size }, (_, i) => BigInt(i + 1));
      const r = paperRaft(1n, peers);
      makeLeader(r);
      commitNoop(r);
      r.step(msg({ type: MessageType.MsgProp, from: 1n, entries: [ent(0n, 0n, 'x')] }));
      readMessages(r);
      const li = r.raftLog.lastIndex();
      for (let i = 0; i < acks; i++) {
        r.step(msg({ type: MessageType.MsgAppResp, from: BigInt(i + 2), to: 1n, term: r.term, index: li }));
      }
      assert.equal(r.raftLog.committed === li, committed, `size ${size}, acks ${acks}`);
      if (committed) {
        assert.deepEqual(
          r.raftLog.nextEnts().map((e) => e.index),
          [li],
        );
        const apps = readMessages(r).filter((x) => x.type === MessageType.MsgApp);
        assert.deepEqual(
          apps.map((m) => [m.to, m.commit]),
          peers.slice(1).map((id) => [id, li]),
          'the new commit index goes out to every follower',
        );
      }
    }
  });

  test('committing an entry commits every preceding entry, including those of earlier leaders', () => {
    const r = paperRaft(1n, [1n, 2n, 3n], [2n, 2n], 2n);
    makeLeader(r);
    r.step(msg({ type: MessageType.MsgProp, from: 1n, entries: [ent(0n, 0n, 'x')] }));
    r.step(msg({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3n, index: 4n }));
    assert.equal(r.raftLog.committed, 4n);
    assert.deepEqual(
      r.raftLog.nextEnts().map((e) => [e.index, e.term]),
      [
        [1n, 2n],
        [2n, 2n],
        [3n, 3n],
        [4n, 3n],
      ],
    );
  });

  test('a follower learning a commit index applies its entries up to it (never beyond its last new entry)', () => {
    const r = paperRaft(1n, [1n, 2n, 3n]);
    r.becomeFollower(1n, 2n);
    const ents = [ent(1n, 1n, 'a'), ent(2n, 1n, 'b'), ent(3n, 1n, 'c')];
    r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1n, entries: ents, commit: 2n }));
    assert.equal(r.raftLog.committed, 2n);
    r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1n, index: 1n, logTerm: 1n, commit: 9n }));
    assert.equal(r.raftLog.committed, 2n, 'an append covering index 1 commits at most index 1 more');
    r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1n, index: 3n, logTerm: 1n, commit: 9n }));
    assert.equal(r.raftLog.committed, 3n);
  });

  test('a follower without an entry matching (prevLogIndex, prevLogTerm) refuses new entries', () => {
    const cases: { term: bigint; index: bigint; reject: boolean; hint?: bigint }[] = [
      { term: 0n, index: 0n, reject: false }, // matches the empty prefix
      { term: 1n, index: 1n, reject: false },
      { term: 2n, index: 2n, reject: false },
      { term: 2n, index: 1n, reject: true, hint: 1n }, // term mismatch at 1
      { term: 3n, index: 3n, reject: true, hint: 2n }, // beyond the log
    ];
    for (const c of cases) {
      const r = paperRaft(1n, [1n, 2n, 3n], [1n, 2n], 2n, 1n);
      r.becomeFollower(2n, 2n);
      r.step(msg({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 2n, logTerm: c.term, index: c.index }));
      const [m] = readMessages(r);
      assert.equal(m?.reject, c.reject, `(${c.index}, ${c.term})`);
      if (c.hint !== undefined) assert.equal(m?.rejectHint, c.hint);
    }
  });

  test('a follower deletes a conflicting entry and all that follow it, then appends', () => {
    const cases: { index: bigint; term: bigint; ents: Entry[]; want: bigint[] }[] = [
      { index: 2n, term: 2n, ents: [ent(3n, 3n)], want: [1n, 2n, 3n] },
      { index: 1n, term: 1n, ents: [ent(2n, 3n), ent(3n, 4n)], want: [1n, 3n, 4n] },
      { index: 0n, term: 0n, ents: [ent(1n, 1n)], want: [1n, 2n] },
      { index: 0n, term: 0n, ents: [ent(1n, 3n)], want: [3n] },
    ];
    for (const c of cases) {
      const r = paperRaft(1n, [1n, 2n, 3n], [1n, 2n], 2n);
      r.becomeFollower(2n, 2n);
      r.step(
        msg({
          type: MessageType.MsgApp,
          from: 2n,
          to: 1n,
          term: 2n,
          logTerm: c.term,
          index: c.index,
          entries: c.ents,
        }),
      );
      assert.deepEqual(
        r.raftLog.allEntries().map((e) => e.term),
        c.want,
      );
    }
  });

  test('the leader brings every follower of Figure 7 to its own log', () => {
    const leaderLog = [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n];
    const followers = [
      [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n],
      [1n, 1n, 1n, 4n],
      [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n, 6n],
      [1n, 1n, 1n, 4n, 4n, 5n, 5n, 6n, 6n, 6n, 7n, 7n],
      [1n, 1n, 1n, 4n, 4n, 4n, 4n],
      [1n, 1n, 1n, 2n, 2n, 2n, 3n, 3n, 3n, 3n, 3n],
    ];
    for (const f of followers) {
      const lead = paperRaft(1n, [1n, 2n, 3n], leaderLog, 8n);
      const fol = paperRaft(2n, [1n, 2n, 3n], f, f[f.length - 1]);
      makeLeader(lead);
      // drive the two rafts directly: deliver messages until quiet
      const queue: Message[] = [];
      lead.sendAppend(2n);
      queue.push(...readMessages(lead));
      while (queue.length > 0) {
        const m = queue.shift() as Message;
        const to = m.to === 1n ? lead : fol;
        to.step(m);
        queue.push(...readMessages(to));
      }
      assert.deepEqual(
        fol.raftLog.allEntries().map((e) => e.term),
        lead.raftLog.allEntries().map((e) => e.term),
      );
    }
  });
});

describe('§5.4.1 Election restriction', () => {
  test('a RequestVote carries the candidate’s last log index and term', () => {
    for (const [log, wterm] of [
      [[1n, 2n], 3n],
      [[1n, 2n, 3n], 4n],
    ] as const) {
      const r = paperRaft(1n, [1n, 2n, 3n], [...log], log[log.length - 1]);
      for (let i = 0; i < 2 * r.electionTimeout; i++) r.tick();
      const ms = readMessages(r);
      assert.deepEqual(
        ms.map((m) => [m.type, m.to, m.term, m.index, m.logTerm]),
        [2n, 3n].map((to) => [MessageType.MsgVote, to, wterm, BigInt(log.length), log[log.length - 1]]),
      );
    }
  });

  test('a voter denies its vote when its own log is more up to date', () => {
    const cases: { log: bigint[]; logTerm: bigint; index: bigint; reject: boolean }[] = [
      { log: [1n], logTerm: 1n, index: 1n, reject: false },
      { log: [1n], logTerm: 1n, index: 2n, reject: false },
      { log: [1n, 1n], logTerm: 1n, index: 1n, reject: true }, // same term, shorter
      { log: [1n], logTerm: 2n, index: 1n, reject: false }, // later term wins
      { log: [1n], logTerm: 2n, index: 2n, reject: false },
      { log: [2n], logTerm: 1n, index: 1n, reject: true }, // earlier term loses however long
      { log: [2n], logTerm: 1n, index: 9n, reject: true },
    ];
    for (const c of cases) {
      const r = paperRaft(1n, [1n, 2n], c.log, c.log[c.log.length - 1]);
      r.step(
        msg({ type: MessageType.MsgVote, from: 2n, to: 1n, term: 3n, logTerm: c.logTerm, index: c.index }),
      );
      const [m] = readMessages(r);
      assert.equal(
        m?.reject,
        c.reject,
        JSON.stringify({ ...c, log: c.log.map(String), logTerm: `${c.logTerm}`, index: `${c.index}` }),
      );
    }
  });
});

describe('§5.4.2 Committing entries from previous terms', () => {
  test('only entries of the leader’s current term are committed by counting replicas', () => {
    // log [term 1, term 2], leader at term 3 appended its empty entry at index 3
    for (const [index, committed] of [
      [1n, 0n],
      [2n, 0n],
      [3n, 3n],
    ] as const) {
      const r = paperRaft(1n, [1n, 2n, 3n], [1n, 2n], 2n);
      r.term = 2n;
      makeLeader(r);
      assert.equal(r.term, 3n);
      r.step(msg({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 3n, index }));
      assert.equal(r.raftLog.committed, committed, `ack of index ${index}`);
    }
  });
});

describe('§6 Cluster membership changes', () => {
  /** A leader in the joint config (1 2 3)&&(1 4 5) with every progress probing. */
  function jointLeader(): Raft {
    const s = newTestStorage({
      voters: [1n, 4n, 5n],
      votersOutgoing: [1n, 2n, 3n],
      learners: [],
      learnersNext: [],
      autoLeave: false,
    });
    const r = newTestRaft(1n, [], 10, 1, s, paper);
    makeLeader(r);
    return r;
  }

  test('during joint consensus, agreement on entries needs separate majorities of both configurations', () => {
    const cases: { acks: bigint[]; committed: boolean }[] = [
      { acks: [2n, 3n], committed: false }, // old majority only
      { acks: [4n, 5n], committed: false }, // new majority only
      { acks: [2n, 4n], committed: true },
      { acks: [3n, 5n], committed: true },
      { acks: [2n, 3n, 4n], committed: true },
    ];
    for (const c of cases) {
      const r = jointLeader();
      const li = r.raftLog.lastIndex();
      for (const from of c.acks)
        r.step(msg({ type: MessageType.MsgAppResp, from, to: 1n, term: r.term, index: li }));
      assert.equal(r.raftLog.committed === li, c.committed, `acks ${c.acks.join(',')}`);
    }
  });

  test('during joint consensus, an election needs separate majorities of both configurations', () => {
    const cases: { granted: bigint[]; state: StateType }[] = [
      { granted: [2n, 3n], state: StateType.StateCandidate },
      { granted: [4n, 5n], state: StateType.StateCandidate },
      { granted: [2n, 5n], state: StateType.StateLeader },
    ];
    for (const c of cases) {
      const s = newTestStorage({
        voters: [1n, 4n, 5n],
        votersOutgoing: [1n, 2n, 3n],
        learners: [],
        learnersNext: [],
        autoLeave: false,
      });
      const r = newTestRaft(1n, [], 10, 1, s, paper);
      r.step(msg({ type: MessageType.MsgHup }));
      const sentTo = readMessages(r).map((m) => m.to);
      assert.deepEqual(sentTo, [2n, 3n, 4n, 5n], 'vote requests go to the voters of both configs');
      for (const from of c.granted)
        r.step(msg({ type: MessageType.MsgVoteResp, from, to: 1n, term: r.term }));
      assert.equal(r.state, c.state, `granted by ${c.granted.join(',')}`);
    }
  });

  test('a leader not part of the new configuration gives up leadership once that configuration is applied', () => {
    const n = new Network([1n, 2n, 3n], { configure: paper });
    n.campaign(1n);
    n.act(1n, (rn) =>
      rn.proposeConfChange({ transition: 0, changes: [{ type: 1, nodeId: 1n }], context: new Uint8Array(0) }),
    );
    assert.deepEqual(n.node(1n).confStates.at(-1), confState([2n, 3n]));
    // It hands leadership to a voter of the new configuration, which wins the next term, and it
    // takes no more proposals. (Without check-quorum nobody answers its stale heartbeats, so it
    // only learns the new term when the application stops it or a message reaches it.)
    assert.equal(n.raft(2n).state, StateType.StateLeader);
    assert.equal(n.raft(2n).term, n.raft(1n).term + 1n);
    assert.throws(() => n.propose(1n, 'x'));
  });
});
