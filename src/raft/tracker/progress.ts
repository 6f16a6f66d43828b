// A leader's view of one follower (or learner): how far its log matches, what to send next, and
// in which of three modes to send it (probe, replicate, snapshot). The raft core drives the
// transitions; this file keeps each transition's bookkeeping in one place.

import { assert, unreachable } from '../../base/assert.js';
import { compareBigint } from '../quorum/quorum.js';
import { Inflights } from './inflights.js';
import { StateType, stateTypeName } from './state.js';

export interface ProgressInit {
  match?: bigint;
  next: bigint;
  inflights: Inflights;
  isLearner?: boolean;
  recentActive?: boolean;
  state?: StateType;
  pendingSnapshot?: bigint;
  probeSent?: boolean;
}

export class Progress {
  /** Highest index known to be in the follower's log and to match the leader's. */
  match: bigint;
  /** Index of the next entry to send. */
  next: bigint;
  state: StateType;
  /** In StateSnapshot: the index of the snapshot being sent; 0 otherwise. */
  pendingSnapshot: bigint;
  /** Heard from since the last check-quorum round; new peers start active. */
  recentActive: boolean;
  /** In StateProbe: an append is outstanding, so sending pauses until probeAcked(). */
  probeSent: boolean;
  /** In StateReplicate: the appends sent and not yet acknowledged. */
  inflights: Inflights;
  isLearner: boolean;

  constructor(init: ProgressInit) {
    this.match = init.match ?? 0n;
    this.next = init.next;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner ?? false;
    this.recentActive = init.recentActive ?? false;
    this.state = init.state ?? StateType.StateProbe;
    this.pendingSnapshot = init.pendingSnapshot ?? 0n;
    this.probeSent = init.probeSent ?? false;
  }

  /** A field-by-field copy that shares the Inflights (as etcd's Changer does: only isLearner changes). */
  shallowCopy(): Progress {
    return new Progress(this);
  }

  /** An independent copy, Inflights included. */
  clone(): Progress {
    return new Progress({ ...this, inflights: this.inflights.clone() });
  }

  /** Enters `state`, clearing probeSent, pendingSnapshot and the inflight window. */
  resetState(state: StateType): void {
    this.probeSent = false;
    this.pendingSnapshot = 0n;
    this.state = state;
    this.inflights.reset();
  }

  /** The follower accepted an append: probing may continue without waiting for a heartbeat. */
  probeAcked(): void {
    this.probeSent = false;
  }

  /**
   * Back to probing from match+1 — or, coming out of StateSnapshot, from just past the snapshot
   * if that is further, since the follower has the snapshot by now.
   */
  becomeProbe(): void {
    if (this.state === StateType.StateSnapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(StateType.StateProbe);
      this.next = max(this.match + 1n, pending + 1n);
    } else {
      this.resetState(StateType.StateProbe);
      this.next = this.match + 1n;
    }
  }

  becomeReplicate(): void {
    this.resetState(StateType.StateReplicate);
    this.next = this.match + 1n;
  }

  becomeSnapshot(snapshoti: bigint): void {
    this.resetState(StateType.StateSnapshot);
    this.pendingSnapshot = snapshoti;
  }

  /**
   * An append response acknowledged index n. Returns false when n is stale (not above match);
   * next never moves backwards.
   */
  maybeUpdate(n: bigint): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeAcked();
    }
    if (this.next < n + 1n) this.next = n + 1n;
    return updated;
  }

  /** Entries up to n have been sent (not yet acknowledged). */
  optimisticUpdate(n: bigint): void {
    this.next = n + 1n;
  }

  /**
   * The follower rejected an append at index `rejected`; `matchHint` is its hint (its last index
   * in etcd 3.4). Returns false, changing nothing, when the rejection is stale: in StateReplicate
   * when `rejected` is at or below match, otherwise when it is not the probe just sent (next-1).
   * A genuine rejection lowers next: to match+1 in StateReplicate, otherwise to
   * min(rejected, matchHint+1) but at least 1, and unpauses probing.
   */
  maybeDecrTo(rejected: bigint, matchHint: bigint): boolean {
    if (this.state === StateType.StateReplicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1n;
      return true;
    }
    if (this.next - 1n !== rejected) return false;
    const hinted = rejected < matchHint + 1n ? rejected : matchHint + 1n;
    this.next = hinted < 1n ? 1n : hinted;
    this.probeSent = false;
    return true;
  }

  /**
   * Whether sending appends to this peer is throttled: a probe is outstanding, the inflight window
   * is full, or a snapshot is pending.
   */
  isPaused(): boolean {
    switch (this.state) {
      case StateType.StateProbe:
        return this.probeSent;
      case StateType.StateReplicate:
        return this.inflights.full();
      case StateType.StateSnapshot:
        return true;
      default:
        return unreachable(this.state, 'progress state');
    }
  }

  /** etcd's format, e.g. `StateReplicate match=5 next=6 learner paused inflight=2[full]`. */
  toString(): string {
    let s = `${stateTypeName(this.state)} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.isPaused()) s += ' paused';
    if (this.pendingSnapshot > 0n) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    const n = this.inflights.count();
    if (n > 0) {
      s += ` inflight=${n}`;
      if (this.inflights.full()) s += '[full]';
    }
    return s;
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** Every tracked peer's Progress by node ID. */
export type ProgressMap = Map<bigint, Progress>;

/** One `id: progress` line per peer, ascending ID (etcd's ProgressMap.String). */
export function progressMapString(m: ProgressMap): string {
  let out = '';
  for (const id of [...m.keys()].sort(compareBigint)) out += `${id}: ${m.get(id)!.toString()}\n`;
  return out;
}

/** A copy of the map whose Progress objects are shallow copies (sharing Inflights). */
export function copyProgressMap(m: ProgressMap): ProgressMap {
  const out: ProgressMap = new Map();
  for (const [id, pr] of m) {
    assert(pr instanceof Progress, 'ProgressMap holds a non-Progress');
    out.set(id, pr.shallowCopy());
  }
  return out;
}
