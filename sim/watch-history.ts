// The committed MVCC history of a watch-mode run, assembled from what every node applies, and the
// check that it is one history: every node that applies entry i ends at the same store revision,
// every revision has the same events (prevKv included) wherever it was made, every compaction
// entry has the same outcome, and a node restored from a snapshot at entry i is at the revision
// the others reached there. The watch checker (src/mvcc/watch-checker.ts) reads the result.
import type { Event } from '../src/mvcc/key-value.js';
import { sameEvent, type CompactionPoint, type WatchHistory } from '../src/mvcc/watch-checker.js';
import { SimFailure } from './checkers.js';
import type { MvccObserver } from './watch-store.js';

function fail(msg: string): never {
  throw new SimFailure(msg);
}

function describeEvents(events: readonly Event[]): string {
  const d = new TextDecoder();
  return events
    .map((e) => `${e.type === 1 ? 'DELETE' : 'PUT'} ${d.decode(e.kv.key)}=${d.decode(e.kv.value)}`)
    .join(', ');
}

export class WatchHistoryRecorder implements MvccObserver {
  /** Store revision after each applied entry, by raft index. */
  private readonly revAt = new Map<bigint, bigint>();
  private readonly revisions = new Map<bigint, { index: bigint; events: readonly Event[] }>();
  private readonly compactions = new Map<bigint, CompactionPoint | undefined>();
  maxRev = 1n;

  /** Compaction entries that compacted (refused ones aside). */
  get compactionCount(): number {
    return [...this.compactions.values()].filter((p) => p !== undefined).length;
  }

  onApplied(id: bigint, index: bigint, rev: bigint, events: readonly Event[]): void {
    this.checkRev(id, index, rev, 'applying');
    if (events.length === 0) return;
    const prev = this.revisions.get(rev);
    if (prev === undefined) {
      this.revisions.set(rev, { index, events });
      if (rev > this.maxRev) this.maxRev = rev;
      return;
    }
    const same =
      prev.events.length === events.length && prev.events.every((e, i) => sameEvent(e, events[i]!));
    if (prev.index !== index || !same) {
      fail(
        `mvcc history: node ${id} made revision ${rev} at entry ${index} with [${describeEvents(events)}], ` +
          `others at entry ${prev.index} with [${describeEvents(prev.events)}]`,
      );
    }
  }

  onCompaction(id: bigint, index: bigint, atRev: bigint, compactRev: bigint | undefined): void {
    const point = compactRev === undefined ? undefined : { atRev, compactRev };
    if (!this.compactions.has(index)) {
      this.compactions.set(index, point);
      return;
    }
    const prev = this.compactions.get(index);
    if (prev?.atRev !== point?.atRev || prev?.compactRev !== point?.compactRev) {
      const show = (p: CompactionPoint | undefined): string =>
        p === undefined ? 'refused' : `compacted at ${p.compactRev} (store at ${p.atRev})`;
      fail(`mvcc history: node ${id} ${show(point)} for entry ${index}, others ${show(prev)}`);
    }
  }

  onRestored(id: bigint, index: bigint, rev: bigint): void {
    this.checkRev(id, index, rev, 'restoring a snapshot at');
  }

  private checkRev(id: bigint, index: bigint, rev: bigint, how: string): void {
    const prev = this.revAt.get(index);
    if (prev === undefined) this.revAt.set(index, rev);
    else if (prev !== rev) {
      fail(
        `mvcc history: node ${id} is at revision ${rev} after ${how} entry ${index}, others were at ${prev}`,
      );
    }
  }

  /** The history for the watch checker: revisions 2..maxRev, compactions in entry order. */
  history(): WatchHistory {
    const revisions = [];
    for (let rev = 2n; rev <= this.maxRev; rev++) {
      const r = this.revisions.get(rev);
      if (r === undefined) fail(`mvcc history: no node made revision ${rev} (the last is ${this.maxRev})`);
      revisions.push({ rev, events: r.events });
    }
    const compactions = [...this.compactions.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([, p]) => (p === undefined ? [] : [p]));
    return { revisions, compactions };
  }
}
