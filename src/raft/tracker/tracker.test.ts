import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JointConfig } from '../quorum/joint.js';
import { MajorityConfig } from '../quorum/majority.js';
import { VoteResult } from '../quorum/quorum.js';
import { Progress } from './progress.js';
import { ProgressTracker, TrackerConfig } from './tracker.js';

function tracker(incoming: bigint[], outgoing: bigint[] = [], learners: bigint[] = []): ProgressTracker {
  const t = new ProgressTracker(8, 1024);
  t.config = new TrackerConfig({
    voters: new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)),
    learners: new Set(learners),
  });
  for (const id of new Set([...incoming, ...outgoing, ...learners])) {
    t.progress.set(
      id,
      new Progress({ next: 1n, inflights: t.newInflights(), isLearner: learners.includes(id) }),
    );
  }
  return t;
}

test('committed is the joint quorum over matches; learners do not count', () => {
  const t = tracker([1n, 2n, 3n], [], [4n]);
  const m: [bigint, bigint][] = [
    [1n, 10n],
    [2n, 7n],
    [3n, 3n],
    [4n, 100n],
  ];
  for (const [id, match] of m) t.progress.get(id)!.match = match;
  assert.equal(t.committed(), 7n);
  const j = tracker([1n, 2n, 3n], [3n, 4n, 5n]);
  for (const [id, match] of [
    [1n, 10n],
    [2n, 9n],
    [3n, 8n],
    [4n, 2n],
    [5n, 1n],
  ] as const)
    j.progress.get(id)!.match = match;
  assert.equal(j.committed(), 2n);
});

test('an empty tracker commits MaxIndex (etcd convention)', () => {
  assert.equal(new ProgressTracker(1).committed(), 2n ** 64n - 1n);
});

test('visit goes in ascending ID order', () => {
  const t = tracker([30n, 1n, 200n, 7n, 9n, 8n, 6n, 5n, 4n]);
  const seen: bigint[] = [];
  t.visit((id) => seen.push(id));
  assert.deepEqual(seen, [1n, 4n, 5n, 6n, 7n, 8n, 9n, 30n, 200n]);
});

test('quorumActive needs a quorum of recently active voters; learners do not count', () => {
  const t = tracker([1n, 2n, 3n], [], [4n, 5n]);
  t.progress.get(1n)!.recentActive = true;
  t.progress.get(4n)!.recentActive = true;
  t.progress.get(5n)!.recentActive = true;
  assert.equal(t.quorumActive(), false);
  t.progress.get(3n)!.recentActive = true;
  assert.equal(t.quorumActive(), true);
});

test('votes: first vote counts, tally ignores learners and strangers', () => {
  const t = tracker([1n, 2n, 3n], [], [4n]);
  t.recordVote(1n, true);
  t.recordVote(1n, false);
  t.recordVote(4n, true);
  t.recordVote(99n, false);
  assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 0, result: VoteResult.VotePending });
  t.recordVote(2n, false);
  t.recordVote(3n, false);
  assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 2, result: VoteResult.VoteLost });
  t.resetVotes();
  t.recordVote(2n, true);
  t.recordVote(3n, true);
  assert.deepEqual(t.tallyVotes(), { granted: 2, rejected: 0, result: VoteResult.VoteWon });
});

test('a joint election needs both halves', () => {
  const t = tracker([1n, 2n, 3n], [4n, 5n, 6n]);
  for (const id of [1n, 2n, 3n]) t.recordVote(id, true);
  assert.equal(t.tallyVotes().result, VoteResult.VotePending);
  t.recordVote(4n, true);
  t.recordVote(5n, true);
  assert.equal(t.tallyVotes().result, VoteResult.VoteWon);
});

test('confState, voterNodes, learnerNodes are sorted; isSingleton', () => {
  const t = tracker([3n, 1n], [2n, 1n], [9n, 5n]);
  t.config.learnersNext = new Set([2n]);
  t.config.autoLeave = true;
  assert.deepEqual(t.confState(), {
    voters: [1n, 3n],
    votersOutgoing: [1n, 2n],
    learners: [5n, 9n],
    learnersNext: [2n],
    autoLeave: true,
  });
  assert.deepEqual(t.voterNodes(), [1n, 2n, 3n]);
  assert.deepEqual(t.learnerNodes(), [5n, 9n]);
  assert.equal(t.config.toString(), 'voters=(1 3)&&(1 2) learners=(5 9) learners_next=(2) autoleave');
  assert.equal(t.isSingleton(), false);
  assert.equal(tracker([7n]).isSingleton(), true);
  assert.equal(tracker([7n], [7n]).isSingleton(), false);
});

test('newInflights carries the tracker limits', () => {
  const t = new ProgressTracker(2, 100);
  const inf = t.newInflights();
  inf.add(1n, 100);
  assert.equal(inf.full(), true);
});

test('config clone shares nothing', () => {
  const t = tracker([1n, 2n]);
  const c = t.config.clone();
  c.voters.incoming.add(3n);
  c.learners.add(4n);
  assert.equal(t.config.toString(), 'voters=(1 2)');
  assert.equal(c.toString(), 'voters=(1 2 3) learners=(4)');
});
