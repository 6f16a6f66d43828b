// The simulator's safety and liveness checkers. They watch every node through hooks the run loop
// calls and throw SimFailure at the first violation, naming the node, the index and both sides:
// - election safety: at most one leader per term;
// - state-machine safety: once any node has an entry at index i as committed, every node that
//   later commits or applies index i has that same entry (term, type, data), and every state
//   digest after applying i (or restored from a snapshot at i) is the same;
// - no apply beyond the node's commit index;
// - log matching, on stable storage: if two nodes store an entry with the same index and term, all
//   entries up to it are identical;
// - every acknowledged proposal is applied on every live node of the healed core (checked at the
//   end of the liveness phase).
import { equalBytes } from '../src/base/bytes.js';
import type { ConfState, Entry } from '../src/raft/types.js';
import { opKey, type Op } from './state-machine.js';

export class SimFailure extends Error {
  override name = 'SimFailure';
}

function fail(msg: string): never {
  throw new SimFailure(msg);
}

function describe(e: Entry): string {
  return `${e.index}/t${e.term}/k${e.type}/${[...e.data].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a.index === b.index && a.term === b.term && a.type === b.type && equalBytes(a.data, b.data);
}

/** A node's stable log as the log-matching check sees it. */
export interface StableLog {
  id: bigint;
  /** Entries on stable storage, contiguous, in index order (after the snapshot). */
  entries: Entry[];
}

export class Checkers {
  private leaders = new Map<bigint, bigint>();
  private committed = new Map<bigint, Entry>();
  private digests = new Map<bigint, number>();
  private snapTerms = new Map<bigint, bigint>();
  private confs = new Map<bigint, string>();
  /** Operations acknowledged to a client (applied on the node it proposed to). */
  readonly acked = new Set<string>();
  readonly stats = { leaders: 0, maxCommitted: 0n, logMatchingChecks: 0, confChanges: 0 };

  onLeader(id: bigint, term: bigint): void {
    const prev = this.leaders.get(term);
    if (prev === undefined) {
      this.leaders.set(term, id);
      this.stats.leaders++;
    } else if (prev !== id) {
      fail(`election safety: nodes ${prev} and ${id} are both leader of term ${term}`);
    }
  }

  /**
   * A leader must be a voter of its own configuration, or be handing leadership over: the core
   * never elects a non-voter, and a leader that applies its own removal or demotion transfers
   * leadership to a voter (a leader outside the voters that kept leading would drop every
   * proposal while its heartbeats keep the voters from electing anyone else).
   */
  onLeaderConfig(id: bigint, term: bigint, cs: ConfState, leadTransferee: bigint): void {
    if (cs.voters.includes(id) || cs.votersOutgoing.includes(id)) return;
    if (leadTransferee !== 0n && cs.voters.includes(leadTransferee)) return;
    fail(
      `membership: node ${id} leads term ${term} but is neither a voter of its configuration (voters ${cs.voters.join(',')}) nor handing leadership to one`,
    );
  }

  /** Node `id` holds a snapshot at (index, term): the entry there is committed with that term. */
  onSnapshotPoint(id: bigint, index: bigint, term: bigint): void {
    const prev = this.committed.get(index);
    const prevTerm = prev?.term ?? this.snapTerms.get(index);
    if (prevTerm === undefined) this.snapTerms.set(index, term);
    else if (prevTerm !== term) {
      fail(
        `state-machine safety: node ${id} has a snapshot at index ${index} term ${term}, but term ${prevTerm} was committed there`,
      );
    }
  }

  /** Node `id` holds `e` as committed (its commit index is at or past e.index). */
  onCommitted(id: bigint, e: Entry): void {
    const snapTerm = this.snapTerms.get(e.index);
    if (snapTerm !== undefined && snapTerm !== e.term) {
      fail(
        `state-machine safety: node ${id} has ${describe(e)} committed, but a snapshot at index ${e.index} has term ${snapTerm}`,
      );
    }
    const prev = this.committed.get(e.index);
    if (prev === undefined) {
      this.committed.set(e.index, { ...e });
      if (e.index > this.stats.maxCommitted) this.stats.maxCommitted = e.index;
    } else if (!sameEntry(prev, e)) {
      fail(
        `state-machine safety: node ${id} has ${describe(e)} committed at index ${e.index}, ` +
          `but ${describe(prev)} was committed there before`,
      );
    }
  }

  /** Node `id` applies `e` with commit index `commit`; `digest` is its state digest afterwards. */
  onApply(id: bigint, e: Entry, commit: bigint, digest: number): void {
    if (e.index > commit) fail(`node ${id} applies index ${e.index} beyond its commit index ${commit}`);
    this.onCommitted(id, e);
    this.onDigest(id, e.index, digest, 'applying');
  }

  /** Node `id`'s state machine now reflects index `index` with `digest` (apply or snapshot). */
  onDigest(id: bigint, index: bigint, digest: number, how: string): void {
    const prev = this.digests.get(index);
    if (prev === undefined) this.digests.set(index, digest);
    else if (prev !== digest) {
      fail(
        `state-machine safety: node ${id} has state digest ${digest.toString(16)} after ${how} index ${index}, ` +
          `others had ${prev.toString(16)}`,
      );
    }
  }

  /** Node `id` applied the conf change at `index`: every node must reach the same configuration. */
  onConfState(id: bigint, index: bigint, cs: ConfState): void {
    const l = (ids: readonly bigint[]): string =>
      [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(',');
    const d = `voters=(${l(cs.voters)}) learners=(${l(cs.learners)}) outgoing=(${l(cs.votersOutgoing)}) next=(${l(cs.learnersNext)}) auto=${cs.autoLeave}`;
    const prev = this.confs.get(index);
    if (prev === undefined) {
      this.confs.set(index, d);
      this.stats.confChanges++;
    } else if (prev !== d)
      fail(`membership: node ${id} has configuration ${d} after index ${index}, others had ${prev}`);
  }

  onAck(op: Op): void {
    this.acked.add(opKey(op.client, op.seq));
  }

  /** Log matching over every pair of stable logs. */
  checkLogMatching(logs: readonly StableLog[]): void {
    this.stats.logMatchingChecks++;
    for (let i = 0; i < logs.length; i++) {
      for (let j = i + 1; j < logs.length; j++) checkPair(logs[i]!, logs[j]!);
    }
  }

  /** Every acknowledged operation is in the state of each given node. */
  checkAcked(nodes: readonly { id: bigint; ops: ReadonlySet<string> }[]): void {
    const keys = [...this.acked].sort();
    for (const n of nodes) {
      for (const k of keys) {
        if (!n.ops.has(k)) fail(`durability: acknowledged operation ${k} is not applied on node ${n.id}`);
      }
    }
  }
}

function checkPair(a: StableLog, b: StableLog): void {
  if (a.entries.length === 0 || b.entries.length === 0) return;
  const lo = a.entries[0]!.index > b.entries[0]!.index ? a.entries[0]!.index : b.entries[0]!.index;
  const aLast = a.entries[a.entries.length - 1]!.index;
  const bLast = b.entries[b.entries.length - 1]!.index;
  const hi = aLast < bLast ? aLast : bLast;
  const at = (l: StableLog, i: bigint): Entry => l.entries[Number(i - l.entries[0]!.index)]!;
  // The highest common index where both hold the same term: everything from `lo` up to it must match.
  let top = hi;
  while (top >= lo && at(a, top).term !== at(b, top).term) top--;
  for (let i = lo; i <= top; i++) {
    const ea = at(a, i);
    const eb = at(b, i);
    if (!sameEntry(ea, eb)) {
      fail(
        `log matching: nodes ${a.id} and ${b.id} agree on term ${at(a, top).term} at index ${top} ` +
          `but differ at index ${i}: ${describe(ea)} vs ${describe(eb)}`,
      );
    }
  }
}
