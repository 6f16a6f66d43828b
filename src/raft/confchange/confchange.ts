// Membership changes on the tracker's configuration (etcd-io/raft's confchange.Changer): simple
// one-voter changes, entering a joint configuration with any set of changes, and leaving it. Every
// method works on copies and validates the result, so a refused change leaves the live tracker
// untouched; the caller installs the returned config and progress map itself.

import { MajorityConfig } from '../quorum/majority.js';
import { Inflights } from '../tracker/inflights.js';
import { copyProgressMap, Progress, type ProgressMap } from '../tracker/progress.js';
import type { TrackerConfig } from '../tracker/tracker.js';
import { ConfChangeType, type ConfChangeSingle } from '../types.js';

/** A refused configuration change, with etcd's message. */
export class ConfChangeError extends Error {
  override name = 'ConfChangeError';
}

/** What the Changer reads from a ProgressTracker (a ProgressTracker satisfies it). */
export interface ChangerTracker {
  config: TrackerConfig;
  progress: ProgressMap;
  maxInflight: number;
  maxInflightBytes: number;
}

export type ChangeResult = [TrackerConfig, ProgressMap];

export class Changer {
  readonly tracker: ChangerTracker;
  /** The log's last index; new peers start probing from here. */
  readonly lastIndex: bigint;

  constructor(init: { tracker: ChangerTracker; lastIndex: bigint }) {
    this.tracker = init.tracker;
    this.lastIndex = init.lastIndex;
  }

  /**
   * Enters a joint configuration: the current voters become the outgoing half and `ccs` are
   * applied to the incoming half (C_old,new in the Raft thesis §4.3). With autoLeave the core
   * leaves the joint config by itself once it is committed.
   */
  enterJoint(autoLeave: boolean, ...ccs: ConfChangeSingle[]): ChangeResult {
    const [cfg, prs] = this.checkAndCopy();
    if (cfg.voters.isJoint()) throw new ConfChangeError('config is already joint');
    if (cfg.voters.incoming.size === 0) {
      // An empty config may be populated (bootstrap), but never made joint.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    cfg.voters.outgoing = cfg.voters.incoming.clone();
    this.apply(cfg, prs, ccs);
    cfg.autoLeave = autoLeave;
    return checkAndReturn(cfg, prs);
  }

  /**
   * Leaves the joint configuration: the outgoing half is dropped, staged learners (learnersNext)
   * become learners, and peers that are now neither voters nor learners lose their Progress.
   */
  leaveJoint(): ChangeResult {
    const [cfg, prs] = this.checkAndCopy();
    if (!cfg.voters.isJoint()) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      progressOf(prs, id).isLearner = true;
    }
    cfg.learnersNext = new Set();
    for (const id of cfg.voters.outgoing) {
      if (!cfg.voters.incoming.has(id) && !cfg.learners.has(id)) prs.delete(id);
    }
    cfg.voters.outgoing = new MajorityConfig();
    cfg.autoLeave = false;
    return checkAndReturn(cfg, prs);
  }

  /**
   * Applies changes that, taken together, change the voters by at most one (adding, removing,
   * or turning one voter into a learner or back). Refused in a joint config.
   */
  simple(...ccs: ConfChangeSingle[]): ChangeResult {
    const [cfg, prs] = this.checkAndCopy();
    if (cfg.voters.isJoint()) throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(cfg, prs, ccs);
    if (symdiff(this.tracker.config.voters.incoming, cfg.voters.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checkAndReturn(cfg, prs);
  }

  /** Applies changes to the incoming half; the outgoing half is only ever a frozen copy. */
  private apply(cfg: TrackerConfig, prs: ProgressMap, ccs: ConfChangeSingle[]): void {
    for (const cc of ccs) {
      // etcd zeroes the node ID of a change it decided (above raft) not to apply.
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          this.remove(cfg, prs, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (cfg.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  private makeVoter(cfg: TrackerConfig, prs: ProgressMap, id: bigint): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, false);
      return;
    }
    pr.isLearner = false;
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    cfg.voters.incoming.add(id);
  }

  /**
   * Makes id a learner. A peer that is still a voter in the outgoing half cannot be a learner at
   * the same time, so its demotion is staged in learnersNext until the joint config is left.
   */
  private makeLearner(cfg: TrackerConfig, prs: ProgressMap, id: bigint): void {
    const pr = prs.get(id);
    if (pr === undefined) {
      this.initProgress(cfg, prs, id, true);
      return;
    }
    if (pr.isLearner) return;
    this.remove(cfg, prs, id);
    // remove() may have dropped the Progress; a demoted voter keeps its replication state.
    prs.set(id, pr);
    if (cfg.voters.outgoing.has(id)) {
      cfg.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      cfg.learners.add(id);
    }
  }

  /** Removes id from the incoming half and the learners; keeps its Progress while it is an outgoing voter. */
  private remove(cfg: TrackerConfig, prs: ProgressMap, id: bigint): void {
    if (!prs.has(id)) return;
    cfg.voters.incoming.delete(id);
    cfg.learners.delete(id);
    cfg.learnersNext.delete(id);
    if (!cfg.voters.outgoing.has(id)) prs.delete(id);
  }

  private initProgress(cfg: TrackerConfig, prs: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) cfg.learners.add(id);
    else cfg.voters.incoming.add(id);
    prs.set(
      id,
      new Progress({
        // Probing starts at the last index, as in etcd 3.4.
        next: this.lastIndex,
        match: 0n,
        inflights: new Inflights(this.tracker.maxInflight, this.tracker.maxInflightBytes),
        isLearner,
        // A new peer counts as active so check-quorum does not depose the leader before it replies.
        recentActive: true,
      }),
    );
  }

  private checkAndCopy(): ChangeResult {
    return checkAndReturn(this.tracker.config.clone(), copyProgressMap(this.tracker.progress));
  }
}

function progressOf(prs: ProgressMap, id: bigint): Progress {
  const pr = prs.get(id);
  if (pr === undefined) throw new ConfChangeError(`no progress for ${id}`);
  return pr;
}

/** The consistency rules between a config and its progress map; returns etcd's message or undefined. */
export function checkInvariants(cfg: TrackerConfig, prs: ProgressMap): string | undefined {
  for (const ids of [cfg.voters.ids(), cfg.learners, cfg.learnersNext]) {
    for (const id of ids) if (!prs.has(id)) return `no progress for ${id}`;
  }
  // A staged learner was staged only because it is still an outgoing voter.
  for (const id of cfg.learnersNext) {
    if (!cfg.voters.outgoing.has(id)) return `${id} is in LearnersNext, but not Voters[1]`;
    if (prs.get(id)!.isLearner) return `${id} is in LearnersNext, but is already marked as learner`;
  }
  // Learners and voters never intersect.
  for (const id of cfg.learners) {
    if (cfg.voters.outgoing.has(id)) return `${id} is in Learners and Voters[1]`;
    if (cfg.voters.incoming.has(id)) return `${id} is in Learners and Voters[0]`;
    if (!prs.get(id)!.isLearner) return `${id} is in Learners, but is not marked as learner`;
  }
  if (!cfg.voters.isJoint()) {
    if (cfg.learnersNext.size > 0) return 'LearnersNext must be nil when not joint';
    if (cfg.autoLeave) return 'AutoLeave must be false when not joint';
  }
  return undefined;
}

function checkAndReturn(cfg: TrackerConfig, prs: ProgressMap): ChangeResult {
  const err = checkInvariants(cfg, prs);
  if (err !== undefined) throw new ConfChangeError(err);
  return [cfg, prs];
}

/** How many IDs are in exactly one of the two sets. */
function symdiff(a: MajorityConfig, b: MajorityConfig): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}

const typeNames: Record<number, string> = {
  [ConfChangeType.AddNode]: 'ConfChangeAddNode',
  [ConfChangeType.RemoveNode]: 'ConfChangeRemoveNode',
  [ConfChangeType.UpdateNode]: 'ConfChangeUpdateNode',
  [ConfChangeType.AddLearnerNode]: 'ConfChangeAddLearnerNode',
};

export function confChangeTypeName(t: ConfChangeType): string {
  return typeNames[t] ?? String(t);
}

/** `ConfChangeAddNode(1) ConfChangeRemoveNode(2)`: the changes, space-separated, as etcd prints them. */
export function describe(...ccs: ConfChangeSingle[]): string {
  return ccs.map((cc) => `${confChangeTypeName(cc.type)}(${cc.nodeId})`).join(' ');
}
