// A joint quorum: two majority configs (incoming, outgoing) that must both agree. Raft uses it
// while moving between memberships (joint consensus, Raft thesis §4.3); outside a change the
// outgoing half is empty and the joint config behaves exactly like its incoming half.

import { MajorityConfig } from './majority.js';
import { compareBigint, VoteResult, type AckedIndexer } from './quorum.js';

export class JointConfig {
  constructor(
    /** Voters[0] in etcd: the config being moved to (or the only config). */
    public incoming: MajorityConfig = new MajorityConfig(),
    /** Voters[1] in etcd: the config being left; empty when not joint. */
    public outgoing: MajorityConfig = new MajorityConfig(),
  ) {}

  /** etcd's Voters[0]. */
  get 0(): MajorityConfig {
    return this.incoming;
  }

  /** etcd's Voters[1]. */
  get 1(): MajorityConfig {
    return this.outgoing;
  }

  /** True while a membership change is in progress (the outgoing half is non-empty). */
  isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half, ascending, without repetition. */
  ids(): bigint[] {
    const s = new Set<bigint>(this.incoming);
    for (const id of this.outgoing) s.add(id);
    return [...s].sort(compareBigint);
  }

  has(id: bigint): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  /** The number of distinct voters across both halves. */
  get size(): number {
    return this.ids().length;
  }

  clone(): JointConfig {
    return new JointConfig(this.incoming.clone(), this.outgoing.clone());
  }

  /** `(1 2 3)&&(1 2)` while joint, `(1 2 3)` otherwise. */
  toString(): string {
    if (this.outgoing.size > 0) return `${this.incoming.toString()}&&${this.outgoing.toString()}`;
    return this.incoming.toString();
  }

  /** An index is committed only when both halves have committed it. */
  committedIndex(l: AckedIndexer): bigint {
    const a = this.incoming.committedIndex(l);
    const b = this.outgoing.committedIndex(l);
    return a < b ? a : b;
  }

  /** Won only when both halves win; lost as soon as either half loses; pending otherwise. */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    const r1 = this.incoming.voteResult(votes);
    const r2 = this.outgoing.voteResult(votes);
    if (r1 === r2) return r1;
    if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
    return VoteResult.VotePending;
  }

  /** The majority picture over the union of both halves. */
  describe(l: AckedIndexer): string {
    return new MajorityConfig(this.ids()).describe(l);
  }
}
