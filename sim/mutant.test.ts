// The simulator must catch a broken commit rule. The mutant lets a leader commit an entry of an
// earlier term as soon as a quorum stores it (it drops RaftLog.maybeCommit's "the entry is of the
// current term" check) — the unsafe rule of the Raft paper's Figure 8. Under the simulator's
// faults (leaders crashed or isolated right after replicating to a minority, one entry per
// message) some seed must show a state-machine safety violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../src/raft/raft-log.js';
import { runSeed } from './run.js';

const BUDGET = 500;

test('committing an entry of a previous term by counting replicas is caught', async () => {
  const original = Object.getOwnPropertyDescriptor(RaftLog.prototype, 'maybeCommit')!;
  RaftLog.prototype.maybeCommit = function (this: RaftLog, maxIndex: bigint): boolean {
    if (maxIndex > this.committed) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  };
  let caught: { seed: number; failure: string; tried: number } | undefined;
  try {
    for (let i = 0; i < BUDGET && caught === undefined; i++) {
      const seed = 9000 + i;
      const r = await runSeed(seed);
      if (!r.ok) caught = { seed, failure: r.failure!, tried: i + 1 };
    }
  } finally {
    Object.defineProperty(RaftLog.prototype, 'maybeCommit', original);
  }
  assert.ok(caught !== undefined, `the mutant survived ${BUDGET} seeds`);
  console.log(`mutant caught after ${caught.tried} seeds (seed ${caught.seed}): ${caught.failure}`);
  assert.match(caught.failure, /state-machine safety/);
});
