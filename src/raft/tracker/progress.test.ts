import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from './inflights.js';
import { Progress, progressMapString } from './progress.js';
import { StateType } from './state.js';

function pr(init: Partial<ConstructorParameters<typeof Progress>[0]> = {}): Progress {
  return new Progress({ next: 1n, inflights: new Inflights(4, 0), recentActive: true, ...init });
}

test('toString prints state, flags and inflights like etcd', () => {
  const p = pr({ match: 1n, next: 2n, isLearner: true, recentActive: false, state: StateType.StateSnapshot });
  p.pendingSnapshot = 123n;
  assert.equal(p.toString(), 'StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive');
  const r = pr({ match: 3n, next: 4n, state: StateType.StateReplicate });
  for (const i of [4n, 5n, 6n, 7n]) r.inflights.add(i);
  assert.equal(r.toString(), 'StateReplicate match=3 next=4 paused inflight=4[full]');
  const m = new Map([
    [2n, pr()],
    [1n, pr({ next: 0n })],
  ]);
  assert.equal(progressMapString(m), '1: StateProbe match=0 next=0\n2: StateProbe match=0 next=1\n');
});

test('isPaused: probe pauses while a probe is outstanding, replicate when full, snapshot always', () => {
  assert.equal(pr({ state: StateType.StateProbe }).isPaused(), false);
  assert.equal(pr({ state: StateType.StateProbe, probeSent: true }).isPaused(), true);
  assert.equal(pr({ state: StateType.StateReplicate, probeSent: true }).isPaused(), false);
  const full = pr({ state: StateType.StateReplicate, inflights: new Inflights(1, 0) });
  full.inflights.add(1n);
  assert.equal(full.isPaused(), true);
  assert.equal(pr({ state: StateType.StateSnapshot }).isPaused(), true);
});

test('maybeUpdate and maybeDecrTo clear probeSent (resume probing)', () => {
  const a = pr({ next: 2n, probeSent: true });
  a.maybeDecrTo(1n, 1n);
  assert.equal(a.probeSent, false);
  const b = pr({ next: 2n, probeSent: true });
  b.maybeUpdate(1n);
  assert.equal(b.probeSent, false);
});

test('becomeProbe restarts from match+1, or past a delivered snapshot', () => {
  const cases: { state: StateType; match: bigint; next: bigint; pending: bigint; want: bigint }[] = [
    { state: StateType.StateReplicate, match: 1n, next: 5n, pending: 0n, want: 2n },
    { state: StateType.StateSnapshot, match: 1n, next: 5n, pending: 10n, want: 11n },
    { state: StateType.StateSnapshot, match: 1n, next: 5n, pending: 0n, want: 2n },
    { state: StateType.StateSnapshot, match: 20n, next: 21n, pending: 10n, want: 21n },
  ];
  for (const c of cases) {
    const p = pr({
      state: c.state,
      match: c.match,
      next: c.next,
      pendingSnapshot: c.pending,
      probeSent: true,
    });
    p.inflights.add(3n);
    p.becomeProbe();
    assert.equal(p.state, StateType.StateProbe);
    assert.equal(p.match, c.match);
    assert.equal(p.next, c.want);
    assert.equal(p.pendingSnapshot, 0n);
    assert.equal(p.probeSent, false);
    assert.equal(p.inflights.count(), 0);
  }
});

test('becomeReplicate and becomeSnapshot reset the window', () => {
  const p = pr({ match: 1n, next: 5n });
  p.becomeReplicate();
  assert.deepEqual([p.state, p.match, p.next], [StateType.StateReplicate, 1n, 2n]);
  p.inflights.add(2n);
  p.becomeSnapshot(10n);
  assert.deepEqual([p.state, p.match, p.pendingSnapshot], [StateType.StateSnapshot, 1n, 10n]);
  assert.equal(p.inflights.count(), 0);
});

test('maybeUpdate moves match forward only and never lowers next', () => {
  const cases = [
    { update: 1n, wantMatch: 3n, wantNext: 5n, ok: false }, // stale
    { update: 3n, wantMatch: 3n, wantNext: 5n, ok: false }, // duplicate
    { update: 4n, wantMatch: 4n, wantNext: 5n, ok: true },
    { update: 7n, wantMatch: 7n, wantNext: 8n, ok: true },
  ];
  for (const c of cases) {
    const p = pr({ match: 3n, next: 5n });
    assert.equal(p.maybeUpdate(c.update), c.ok, `update ${c.update}`);
    assert.equal(p.match, c.wantMatch);
    assert.equal(p.next, c.wantNext);
  }
  const p = pr({ next: 5n });
  p.optimisticUpdate(9n);
  assert.equal(p.next, 10n);
});

test('maybeDecrTo: stale rejections change nothing, genuine ones lower next by the hint', () => {
  const R = StateType.StateReplicate;
  const P = StateType.StateProbe;
  const S = StateType.StateSnapshot;
  const cases = [
    // replicate: rejected at or below match is stale; otherwise next = match+1
    { state: R, match: 5n, next: 10n, rejected: 5n, hint: 5n, ok: false, want: 10n },
    { state: R, match: 5n, next: 10n, rejected: 4n, hint: 4n, ok: false, want: 10n },
    { state: R, match: 5n, next: 10n, rejected: 9n, hint: 9n, ok: true, want: 6n },
    { state: R, match: 5n, next: 10n, rejected: 9n, hint: 100n, ok: true, want: 6n },
    // probe/snapshot: only a rejection of next-1 counts
    { state: P, match: 0n, next: 10n, rejected: 5n, hint: 5n, ok: false, want: 10n },
    { state: P, match: 0n, next: 10n, rejected: 9n, hint: 9n, ok: true, want: 9n },
    { state: P, match: 0n, next: 10n, rejected: 9n, hint: 3n, ok: true, want: 4n },
    { state: P, match: 0n, next: 10n, rejected: 9n, hint: 20n, ok: true, want: 9n },
    { state: P, match: 0n, next: 1n, rejected: 0n, hint: 0n, ok: true, want: 1n },
    { state: S, match: 0n, next: 10n, rejected: 9n, hint: 2n, ok: true, want: 3n },
  ];
  for (const c of cases) {
    const p = pr({ state: c.state, match: c.match, next: c.next, probeSent: true });
    assert.equal(
      p.maybeDecrTo(c.rejected, c.hint),
      c.ok,
      JSON.stringify(c, (_k, v: unknown) => String(v)),
    );
    assert.equal(p.next, c.want);
    if (c.ok && c.state !== R) assert.equal(p.probeSent, false);
  }
});

test('clone copies inflights, shallowCopy shares them', () => {
  const p = pr();
  const deep = p.clone();
  const shallow = p.shallowCopy();
  p.inflights.add(1n);
  assert.equal(deep.inflights.count(), 0);
  assert.equal(shallow.inflights.count(), 1);
  shallow.isLearner = true;
  assert.equal(p.isLearner, false);
});
