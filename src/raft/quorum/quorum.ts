// The vocabulary shared by majority and joint quorums: how a quorum looks up what each voter has
// acknowledged, and the three outcomes of a vote. Kept apart from the configs so the tracker can
// implement AckedIndexer without pulling in the config classes.

/** The largest uint64: the committed index of an empty majority config, so that a joint config
 *  with an empty half behaves exactly like its other half. */
export const MaxIndex = 2n ** 64n - 1n;

/** Looks up the highest log index a voter is known to have persisted; undefined when unknown. */
export interface AckedIndexer {
  ackedIndex(id: bigint): bigint | undefined;
}

/** An AckedIndexer over a plain map (tests, and callers that already hold the indexes). */
export class MapAckIndexer implements AckedIndexer {
  constructor(private readonly m: ReadonlyMap<bigint, bigint>) {}
  ackedIndex(id: bigint): bigint | undefined {
    return this.m.get(id);
  }
}

export const VoteResult = {
  /** Neither a quorum of yes nor a quorum of no has been reached yet. */
  VotePending: 1,
  /** A quorum has voted no. */
  VoteLost: 2,
  /** A quorum has voted yes. */
  VoteWon: 3,
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

const voteResultNames: Record<number, string> = { 1: 'VotePending', 2: 'VoteLost', 3: 'VoteWon' };

export function voteResultName(r: VoteResult): string {
  return voteResultNames[r] ?? `VoteResult(${r})`;
}

/** An index as etcd prints it: the "commit everything" sentinel is shown as ∞. */
export function indexString(i: bigint): string {
  return i === MaxIndex ? '∞' : i.toString();
}

/** Orders bigints ascending for Array.prototype.sort. */
export function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
