// The leader's (and every candidate's) book of the cluster: the active membership (TrackerConfig),
// one Progress per peer, and the votes of the current election. The commit index and election
// outcomes are derived from here through the quorum package.

import { MajorityConfig } from '../quorum/majority.js';
import { JointConfig } from '../quorum/joint.js';
import { compareBigint, VoteResult, type AckedIndexer } from '../quorum/quorum.js';
import type { ConfState } from '../types.js';
import { Inflights } from './inflights.js';
import type { Progress, ProgressMap } from './progress.js';

/**
 * The membership: voters (a joint config while a change is in progress), learners, and the
 * learners-to-be of a demotion that waits for the joint config to be left.
 * Invariants (checked by the Changer): learners and voters (either half) never intersect;
 * learnersNext is a subset of the outgoing voters and is empty, like the outgoing half, when the
 * config is not joint; autoLeave is false when not joint.
 */
export class TrackerConfig {
  voters: JointConfig;
  /** Leave the joint config automatically once it is committed. */
  autoLeave: boolean;
  learners: Set<bigint>;
  /** Outgoing voters that become learners when the joint config is left. */
  learnersNext: Set<bigint>;

  constructor(init: Partial<TrackerConfig> = {}) {
    this.voters = init.voters ?? new JointConfig();
    this.autoLeave = init.autoLeave ?? false;
    this.learners = init.learners ?? new Set();
    this.learnersNext = init.learnersNext ?? new Set();
  }

  clone(): TrackerConfig {
    return new TrackerConfig({
      voters: this.voters.clone(),
      autoLeave: this.autoLeave,
      learners: new Set(this.learners),
      learnersNext: new Set(this.learnersNext),
    });
  }

  /** etcd's format: `voters=(1 2)&&(1) learners=(3) learners_next=(4) autoleave`; empty sets omitted. */
  toString(): string {
    let s = `voters=${this.voters.toString()}`;
    if (this.learners.size > 0) s += ` learners=${new MajorityConfig(this.learners).toString()}`;
    if (this.learnersNext.size > 0) s += ` learners_next=${new MajorityConfig(this.learnersNext).toString()}`;
    if (this.autoLeave) s += ' autoleave';
    return s;
  }
}

export interface VoteTally {
  granted: number;
  rejected: number;
  result: VoteResult;
}

function sortedIds(s: Iterable<bigint>): bigint[] {
  return [...s].sort(compareBigint);
}

export class ProgressTracker {
  config = new TrackerConfig();
  progress: ProgressMap = new Map();
  /** Votes received in the current election (true = granted). */
  votes = new Map<bigint, boolean>();

  constructor(
    readonly maxInflight: number,
    /** Byte limit of each peer's inflight window; 0 = none. */
    readonly maxInflightBytes: number = 0,
  ) {}

  /** A fresh inflight window with this tracker's limits, for a new or reset Progress. */
  newInflights(): Inflights {
    return new Inflights(this.maxInflight, this.maxInflightBytes);
  }

  /** The active configuration as a ConfState, every list ascending. */
  confState(): ConfState {
    return {
      voters: this.config.voters.incoming.ids(),
      votersOutgoing: this.config.voters.outgoing.ids(),
      learners: sortedIds(this.config.learners),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    };
  }

  /** Exactly one voter and no joint config: the leader alone makes a quorum. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  /** The highest index acknowledged (matched) by a quorum of voters. */
  committed(): bigint {
    const progress = this.progress;
    const acked: AckedIndexer = {
      ackedIndex: (id) => progress.get(id)?.match,
    };
    return this.config.voters.committedIndex(acked);
  }

  /** Calls f for every tracked peer, ascending ID, so that output (messages) is deterministic. */
  visit(f: (id: bigint, pr: Progress) => void): void {
    for (const id of sortedIds(this.progress.keys())) f(id, this.progress.get(id)!);
  }

  /** Whether a quorum of voters has been heard from recently (check-quorum). */
  quorumActive(): boolean {
    const active = new Map<bigint, boolean>();
    this.visit((id, pr) => {
      if (!pr.isLearner) active.set(id, pr.recentActive);
    });
    return this.config.voters.voteResult(active) === VoteResult.VoteWon;
  }

  /** Voters of either half, ascending. */
  voterNodes(): bigint[] {
    return this.config.voters.ids();
  }

  /** Learners, ascending. */
  learnerNodes(): bigint[] {
    return sortedIds(this.config.learners);
  }

  /** Starts a new election's count. */
  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records id's vote; only the first vote of each peer counts. */
  recordVote(id: bigint, v: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, v);
  }

  /** Granted and rejected counts among tracked voters, and the election outcome so far. */
  tallyVotes(): VoteTally {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}
