// Data-driven tests of the Changer (testdata/*.txt). Commands:
//   simple            <changes>   a simple (non-joint) change
//   enter-joint [autoleave=true]  <changes>   enter a joint config
//   leave-joint                   leave it
// Changes use the compact notation `v1` (make 1 a voter), `l2` (learner), `r3` (remove), `u4`
// (update). The Changer's lastIndex is the number of commands run before, so each Progress's
// `next` shows in which step it was created. Output: the config and every Progress, or the error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript, argValues, type TestCase } from '../rafttest/datadriven.js';
import { ProgressTracker } from '../tracker/tracker.js';
import { progressMapString } from '../tracker/progress.js';
import { Changer, ConfChangeError, describe } from './confchange.js';
import { confChangesFromString } from './conf-change.js';
import { ConfChangeType } from '../types.js';

const testdataDir = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'src',
  'raft',
  'confchange',
  'testdata',
);

function runFile(text: string): ReturnType<typeof runScript> {
  const tracker = new ProgressTracker(10, 0);
  let lastIndex = 0n;
  return runScript(text, (c: TestCase) => {
    const changer = new Changer({ tracker, lastIndex: lastIndex++ });
    const ccs = confChangesFromString(c.input);
    try {
      let result;
      if (c.cmd === 'simple') result = changer.simple(...ccs);
      else if (c.cmd === 'enter-joint') {
        const v = argValues(c, 'autoleave');
        result = changer.enterJoint(v !== undefined && v[0] === 'true', ...ccs);
      } else if (c.cmd === 'leave-joint') {
        if (ccs.length > 0) return 'this command takes no input\n';
        result = changer.leaveJoint();
      } else throw new Error(`line ${c.line}: unknown command ${c.cmd}`);
      [tracker.config, tracker.progress] = result;
    } catch (e) {
      if (e instanceof ConfChangeError) return e.message + '\n';
      throw e;
    }
    return `${tracker.config.toString()}\n${progressMapString(tracker.progress)}`;
  });
}

for (const file of readdirSync(testdataDir).filter((f) => f.endsWith('.txt'))) {
  test(`confchange script ${file}`, () => {
    const path = join(testdataDir, file);
    const res = runFile(readFileSync(path, 'utf8'));
    if (process.env.KETCH_REWRITE === '1') writeFileSync(path, res.rewritten);
    else assert.deepEqual(res.mismatches, []);
  });
}

test('a refused change leaves the tracker untouched', () => {
  const tracker = new ProgressTracker(4, 0);
  [tracker.config, tracker.progress] = new Changer({ tracker, lastIndex: 5n }).simple(
    ...confChangesFromString('v1'),
  );
  [tracker.config, tracker.progress] = new Changer({ tracker, lastIndex: 5n }).simple(
    ...confChangesFromString('v2'),
  );
  const before = `${tracker.config.toString()}\n${progressMapString(tracker.progress)}`;
  const changer = new Changer({ tracker, lastIndex: 6n });
  assert.throws(() => changer.simple(...confChangesFromString('l1 l2')), /removed all voters/);
  assert.throws(() => changer.simple(...confChangesFromString('v3 v4')), /more than one voter changed/);
  assert.throws(() => changer.leaveJoint(), /can't leave a non-joint config/);
  assert.equal(`${tracker.config.toString()}\n${progressMapString(tracker.progress)}`, before);
  // A successful change returns new objects too; the live ones change only when installed.
  const [cfg, prs] = changer.enterJoint(false, ...confChangesFromString('l2'));
  assert.equal(cfg.toString(), 'voters=(1)&&(1 2) learners_next=(2)');
  assert.equal(prs.get(2n)!.isLearner, false);
  assert.equal(`${tracker.config.toString()}\n${progressMapString(tracker.progress)}`, before);
});

test('an unknown change type is refused with etcd message', () => {
  const tracker = new ProgressTracker(4, 0);
  const bad = { type: 9 as ConfChangeType, nodeId: 1n };
  assert.throws(
    () => new Changer({ tracker, lastIndex: 0n }).simple(bad),
    /^ConfChangeError: unexpected conf type 9$/,
  );
});

test('new peers get inflight windows with the tracker limits', () => {
  const tracker = new ProgressTracker(3, 100);
  const [, prs] = new Changer({ tracker, lastIndex: 7n }).simple({
    type: ConfChangeType.AddNode,
    nodeId: 1n,
  });
  const pr = prs.get(1n)!;
  assert.equal(pr.next, 7n);
  assert.equal(pr.recentActive, true);
  pr.inflights.add(1n, 100);
  assert.equal(pr.inflights.full(), true);
});

test('describe prints the changes like etcd', () => {
  assert.equal(
    describe(...confChangesFromString('v1 r2 l3 u4')),
    'ConfChangeAddNode(1) ConfChangeRemoveNode(2) ConfChangeAddLearnerNode(3) ConfChangeUpdateNode(4)',
  );
});

test('a tracker that breaks the invariants is refused with etcd messages', async () => {
  const { TrackerConfig } = await import('../tracker/tracker.js');
  const { JointConfig } = await import('../quorum/joint.js');
  const { MajorityConfig } = await import('../quorum/majority.js');
  const { Progress } = await import('../tracker/progress.js');
  const { Inflights } = await import('../tracker/inflights.js');
  const mk = (isLearner: boolean): InstanceType<typeof Progress> =>
    new Progress({ next: 1n, inflights: new Inflights(1, 0), isLearner });
  const cases: { cfg: InstanceType<typeof TrackerConfig>; prs: [bigint, boolean][]; want: string }[] = [
    {
      cfg: new TrackerConfig({ voters: new JointConfig(new MajorityConfig([1n])) }),
      prs: [],
      want: 'no progress for 1',
    },
    {
      cfg: new TrackerConfig({
        voters: new JointConfig(new MajorityConfig([1n]), new MajorityConfig([1n])),
        learnersNext: new Set([2n]),
      }),
      prs: [
        [1n, false],
        [2n, false],
      ],
      want: '2 is in LearnersNext, but not Voters[1]',
    },
    {
      cfg: new TrackerConfig({
        voters: new JointConfig(new MajorityConfig([1n]), new MajorityConfig([2n])),
        learnersNext: new Set([2n]),
      }),
      prs: [
        [1n, false],
        [2n, true],
      ],
      want: '2 is in LearnersNext, but is already marked as learner',
    },
    {
      cfg: new TrackerConfig({
        voters: new JointConfig(new MajorityConfig([1n]), new MajorityConfig([2n])),
        learners: new Set([2n]),
      }),
      prs: [
        [1n, false],
        [2n, true],
      ],
      want: '2 is in Learners and Voters[1]',
    },
    {
      cfg: new TrackerConfig({ voters: new JointConfig(new MajorityConfig([1n])), learners: new Set([1n]) }),
      prs: [[1n, true]],
      want: '1 is in Learners and Voters[0]',
    },
    {
      cfg: new TrackerConfig({ voters: new JointConfig(new MajorityConfig([1n])), learners: new Set([2n]) }),
      prs: [
        [1n, false],
        [2n, false],
      ],
      want: '2 is in Learners, but is not marked as learner',
    },
    {
      cfg: new TrackerConfig({ voters: new JointConfig(new MajorityConfig([1n])), autoLeave: true }),
      prs: [[1n, false]],
      want: 'AutoLeave must be false when not joint',
    },
  ];
  for (const c of cases) {
    const tracker = new ProgressTracker(1, 0);
    tracker.config = c.cfg;
    tracker.progress = new Map(c.prs.map(([id, l]) => [id, mk(l)]));
    const changer = new Changer({ tracker, lastIndex: 0n });
    assert.throws(
      () => changer.simple(),
      (e: unknown) => e instanceof ConfChangeError && e.message === c.want,
      c.want,
    );
  }
});
