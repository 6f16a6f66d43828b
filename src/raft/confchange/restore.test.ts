import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../base/prng.js';
import { ProgressTracker } from '../tracker/tracker.js';
import { progressMapString } from '../tracker/progress.js';
import { emptyConfState, type ConfState } from '../types.js';
import { Changer, ConfChangeError } from './confchange.js';
import { restore } from './restore.js';
import { checkConfStatesEquivalent, confStatesEquivalent } from './conf-state.js';

function restored(cs: ConfState): ProgressTracker {
  const tracker = new ProgressTracker(20, 0);
  [tracker.config, tracker.progress] = restore(new Changer({ tracker, lastIndex: 10n }), cs);
  return tracker;
}

/** A random valid ConfState: voters, learners, and optionally a joint config with demotions. */
function randomConfState(prng: Prng): ConfState {
  const nVoters = 1 + prng.intBelow(5);
  const nLearners = prng.intBelow(5);
  const nRemoved = prng.intBelow(3);
  const total = nVoters + nLearners + nRemoved;
  const ids = prng.shuffle(Array.from({ length: 2 * total }, (_, i) => BigInt(i + 1)));
  const voters = ids.slice(0, nVoters);
  const learners = ids.slice(nVoters, nVoters + nLearners);
  const removed = ids.slice(nVoters + nLearners, total);
  const retained = voters.slice(0, prng.intBelow(nVoters + 1));
  const votersOutgoing = retained.length + removed.length > 0 ? [...retained, ...removed] : [];
  const learnersNext = removed.slice(0, prng.intBelow(removed.length + 1));
  const autoLeave = votersOutgoing.length > 0 && prng.chance(0.5);
  return { voters, learners, votersOutgoing, learnersNext, autoLeave };
}

test('restore rebuilds the ConfState it was given (fixed cases)', () => {
  const cases: ConfState[] = [
    emptyConfState(),
    { ...emptyConfState(), voters: [1n, 2n, 3n] },
    { ...emptyConfState(), voters: [3n, 1n, 2n], learners: [6n, 4n, 5n] },
    {
      voters: [1n, 2n, 3n],
      learners: [5n],
      votersOutgoing: [1n, 2n, 4n, 6n],
      learnersNext: [4n],
      autoLeave: false,
    },
    { voters: [7n], learners: [], votersOutgoing: [8n], learnersNext: [8n], autoLeave: true },
  ];
  for (const cs of cases) checkConfStatesEquivalent(restored(cs).confState(), cs);
});

test('restore of a joint ConfState gives the joint tracker config and progress', () => {
  const t = restored({
    voters: [1n, 2n, 3n],
    learners: [5n],
    votersOutgoing: [1n, 2n, 4n, 6n],
    learnersNext: [4n],
    autoLeave: true,
  });
  assert.equal(t.config.toString(), 'voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave');
  assert.equal(
    progressMapString(t.progress),
    [1n, 2n, 3n, 4n, 5n, 6n]
      .map((id) => `${id}: StateProbe match=0 next=10${id === 5n ? ' learner' : ''}\n`)
      .join(''),
  );
});

test('restore round-trips random valid ConfStates (up to ordering)', () => {
  const prng = new Prng(20240601);
  for (let i = 0; i < 2000; i++) {
    const cs = randomConfState(prng);
    const got = restored(cs).confState();
    assert.ok(confStatesEquivalent(got, cs), `${JSON.stringify(cs, (_k, v: unknown) => String(v))}`);
    assert.ok(confStatesEquivalent(cs, got));
  }
});

test('restore does not modify the changer tracker', () => {
  const tracker = new ProgressTracker(4, 0);
  restore(new Changer({ tracker, lastIndex: 1n }), { ...emptyConfState(), voters: [1n, 2n] });
  assert.equal(tracker.config.toString(), 'voters=()');
  assert.equal(tracker.progress.size, 0);
});

test('restore refuses invalid ConfStates', () => {
  const bad: ConfState[] = [
    { ...emptyConfState(), learners: [1n] }, // no voters
    { ...emptyConfState(), voters: [1n], learners: [1n] }, // the only voter demoted
    { ...emptyConfState(), votersOutgoing: [1n] }, // a joint config with an empty incoming half
  ];
  for (const cs of bad) assert.throws(() => restored(cs), ConfChangeError);
});

test('ConfState equivalence ignores order but not content', () => {
  const a: ConfState = {
    voters: [3n, 1n],
    learners: [2n],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
  assert.ok(confStatesEquivalent(a, { ...a, voters: [1n, 3n] }));
  assert.ok(!confStatesEquivalent(a, { ...a, voters: [1n] }));
  assert.ok(!confStatesEquivalent(a, { ...a, learners: [] }));
  assert.ok(!confStatesEquivalent(a, { ...a, autoLeave: true }));
  assert.throws(
    () => checkConfStatesEquivalent(a, { ...a, voters: [1n, 4n] }),
    /ConfStates not equivalent after sorting/,
  );
});
