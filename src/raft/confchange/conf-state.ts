// ConfState equivalence (raftpb/confstate.go): two ConfStates describe the same membership when
// they agree after sorting each ID list. The core asserts this after restoring from a snapshot,
// since the tracker always reports its lists sorted while a snapshot may carry any order.

import { compareBigint } from '../quorum/quorum.js';
import type { ConfState } from '../types.js';

function sorted(ids: readonly bigint[]): bigint[] {
  return [...ids].sort(compareBigint);
}

function normalize(cs: ConfState): ConfState {
  return {
    voters: sorted(cs.voters),
    learners: sorted(cs.learners),
    votersOutgoing: sorted(cs.votersOutgoing),
    learnersNext: sorted(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

function sameList(a: bigint[], b: bigint[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `voters=(1 2) learners=() voters_outgoing=() learners_next=() auto_leave=false` */
export function describeConfState(cs: ConfState): string {
  const l = (ids: readonly bigint[]): string => `(${ids.join(' ')})`;
  return (
    `voters=${l(cs.voters)} learners=${l(cs.learners)} voters_outgoing=${l(cs.votersOutgoing)} ` +
    `learners_next=${l(cs.learnersNext)} auto_leave=${cs.autoLeave}`
  );
}

export function confStatesEquivalent(a: ConfState, b: ConfState): boolean {
  const x = normalize(a);
  const y = normalize(b);
  return (
    sameList(x.voters, y.voters) &&
    sameList(x.learners, y.learners) &&
    sameList(x.votersOutgoing, y.votersOutgoing) &&
    sameList(x.learnersNext, y.learnersNext) &&
    x.autoLeave === y.autoLeave
  );
}

/** Throws an Error naming both ConfStates when they are not equivalent. */
export function checkConfStatesEquivalent(a: ConfState, b: ConfState): void {
  if (confStatesEquivalent(a, b)) return;
  throw new Error(
    `ConfStates not equivalent after sorting:\n${describeConfState(normalize(a))}\n` +
      `${describeConfState(normalize(b))}\nInputs were:\n${describeConfState(a)}\n${describeConfState(b)}`,
  );
}
