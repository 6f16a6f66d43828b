// The raft log as the core sees it (etcd-io/raft's raftLog): the stable part in Storage followed by
// the unstable tail (unstable-log.ts), plus the commit and apply cursors. Invariants:
// applied <= committed <= lastIndex, and the log from firstIndex-1 (the snapshot) to lastIndex has no
// gaps. Entries at or below `committed` are never truncated (a conflict there is a broken invariant).
import { ErrCompacted, ErrUnavailable } from './errors.js';
import type { RaftLogger } from './logger.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { UnstableLog } from './unstable-log.js';
import { limitSize, maxBig, minBig, noLimit } from './util.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  /** The highest index known to be stored on a quorum. */
  committed: bigint;
  /** The highest index the application has applied (as reported through advance). */
  applied: bigint;
  /** The byte limit of one batch of committed entries handed out by nextEnts. */
  readonly maxNextEntsSize: number;
  private readonly logger: RaftLogger;

  constructor(storage: Storage, logger: RaftLogger, maxNextEntsSize: number = noLimit) {
    this.storage = storage;
    this.logger = logger;
    this.maxNextEntsSize = maxNextEntsSize;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new UnstableLog(lastIndex + 1n, logger);
    this.committed = firstIndex - 1n;
    this.applied = firstIndex - 1n;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Append entries that follow (index, logTerm) if our log has that entry, truncating a conflicting
   * suffix, and advance the commit index to min(committed, last new index). Returns the last new
   * index, or undefined when (index, logTerm) does not match (the leader must back up).
   */
  maybeAppend(index: bigint, logTerm: bigint, committed: bigint, ents: Entry[]): bigint | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + BigInt(ents.length);
    const ci = this.findConflict(ents);
    if (ci !== 0n) {
      if (ci <= this.committed) {
        this.logger.panic(`entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(Number(ci - (index + 1n))));
    }
    this.commitTo(minBig(committed, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: Entry[]): bigint {
    if (ents.length === 0) return this.lastIndex();
    const after = (ents[0] as Entry).index - 1n;
    if (after < this.committed) {
      this.logger.panic(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is missing from our log or has a different term
   * there, or 0 if all of them are present. The entries must be contiguous.
   */
  findConflict(ents: readonly Entry[]): bigint {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${e.index} [existing term: ${this.termOrZero(e.index)}, conflicting term: ${e.term}]`,
          );
        }
        return e.index;
      }
    }
    return 0n;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, and that term (etcd-io/raft's
   * findConflictByTerm). A follower rejecting an append uses it to hint where the leader should
   * probe next, so the leader skips a whole divergent term in one round trip. When the term is not
   * known (compacted), the index is returned with term 0.
   */
  findConflictByTerm(index: bigint, term: bigint): { index: bigint; term: bigint } {
    for (let i = index; i > 0n; i--) {
      const t = this.tryTerm(i);
      if (t === undefined) return { index: i, term: 0n };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0n, term: 0n };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** Committed entries not yet applied, limited to maxNextEntsSize. */
  nextEnts(): Entry[] {
    const off = maxBig(this.applied + 1n, this.firstIndex());
    if (this.committed + 1n > off) return this.mustSlice(off, this.committed + 1n, this.maxNextEntsSize);
    return [];
  }

  hasNextEnts(): boolean {
    return this.committed + 1n > maxBig(this.applied + 1n, this.firstIndex());
  }

  /** The pending unstable snapshot, else Storage's (which may throw ErrSnapshotTemporarilyUnavailable). */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): bigint {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): bigint {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(tocommit: bigint): void {
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        this.logger.panic(
          `tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
        );
      }
      this.committed = tocommit;
    }
  }

  appliedTo(i: bigint): void {
    if (i === 0n) return;
    if (this.committed < i || i < this.applied) {
      this.logger.panic(
        `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: bigint, t: bigint): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: bigint): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): bigint {
    const t = this.tryTerm(this.lastIndex());
    if (t === undefined) this.logger.panic(`unexpected error when getting the last term`);
    return t;
  }

  /**
   * The term of entry i: 0 outside [firstIndex-1, lastIndex]; throws ErrCompacted or ErrUnavailable
   * when Storage no longer (or not yet) has it.
   */
  term(i: bigint): bigint {
    const dummyIndex = this.firstIndex() - 1n;
    if (i < dummyIndex || i > this.lastIndex()) return 0n;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  /** term(i), or undefined when Storage reports it compacted or unavailable. */
  tryTerm(i: bigint): bigint | undefined {
    try {
      return this.term(i);
    } catch (err) {
      if (err === ErrCompacted || err === ErrUnavailable) return undefined;
      throw err;
    }
  }

  /** term(i), with 0 for a compacted entry (any other failure is a broken invariant). */
  termOrZero(i: bigint): bigint {
    try {
      return this.term(i);
    } catch (err) {
      if (err === ErrCompacted) return 0n;
      this.logger.panic(`unexpected error (${String(err)})`);
    }
  }

  /** Entries from i to the end, limited to maxSizeBytes; throws ErrCompacted if i was compacted. */
  entries(i: bigint, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1n, maxSizeBytes);
  }

  /** Every entry from firstIndex to lastIndex. */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), noLimit);
  }

  /** Whether a log ending at (lasti, term) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lasti: bigint, term: bigint): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: bigint, term: bigint): boolean {
    const t = this.tryTerm(i);
    return t !== undefined && t === term;
  }

  /**
   * Commit up to maxIndex if the entry there is of `term` (the leader's current term): a leader
   * never commits an entry of an earlier term by counting replicas (§5.4.2). Kept as a prototype
   * method: the simulator's mutant test replaces it to check that a broken rule is caught.
   */
  maybeCommit(maxIndex: bigint, term: bigint): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info(
      `log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) limited to maxSizeBytes (at least one); throws ErrCompacted when lo < firstIndex. */
  slice(lo: bigint, hi: bigint, maxSizeBytes: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const uoff = this.unstable.offset;
    if (lo < uoff) {
      const stableHi = minBig(hi, uoff);
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, stableHi, maxSizeBytes);
      } catch (err) {
        if (err === ErrUnavailable)
          this.logger.panic(`entries[${lo}:${stableHi}) is unavailable from storage`);
        throw err;
      }
      if (BigInt(stored.length) < stableHi - lo) return stored;
      ents = stored;
    }
    if (hi > uoff) {
      const unstable = this.unstable.slice(maxBig(lo, uoff), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxSizeBytes);
  }

  /** slice() for a range that must be available (a failure is a broken invariant). */
  mustSlice(lo: bigint, hi: bigint, maxSizeBytes: number): Entry[] {
    try {
      return this.slice(lo, hi, maxSizeBytes);
    } catch (err) {
      this.logger.panic(`unexpected error when getting entries [${lo}, ${hi}) (${String(err)})`);
    }
  }

  private mustCheckOutOfBounds(lo: bigint, hi: bigint): void {
    if (lo > hi) this.logger.panic(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw ErrCompacted;
    const last = this.lastIndex();
    if (hi > last + 1n) this.logger.panic(`slice[${lo},${hi}) out of bound [${fi},${last}]`);
  }
}
