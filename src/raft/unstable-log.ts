// The not-yet-persisted tail of the raft log (etcd-io/raft's `unstable`): entries the application
// has not written to Storage yet, and possibly a snapshot received from the leader that it has not
// saved yet. Entry i lives at entries[i - offset]; once the application reports what it persisted
// (stableTo / stableSnapTo) those entries leave this buffer and are read from Storage instead.
import { assert } from '../base/assert.js';
import type { RaftLogger } from './logger.js';
import type { Entry, Snapshot } from './types.js';

export class UnstableLog {
  /** A snapshot received from the leader that the application has not persisted yet. */
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  /** The index of entries[0] (the index after the last stable entry or the snapshot). */
  offset: bigint;

  constructor(
    offset: bigint,
    private readonly logger: RaftLogger,
  ) {
    this.offset = offset;
  }

  /** The first index when a snapshot is pending (the snapshot index + 1); undefined otherwise. */
  maybeFirstIndex(): bigint | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1n;
  }

  /** The last index of the unstable entries, or of the pending snapshot when there are none. */
  maybeLastIndex(): bigint | undefined {
    if (this.entries.length > 0) return this.offset + BigInt(this.entries.length) - 1n;
    return this.snapshot?.metadata.index;
  }

  /** The term of entry i if this buffer knows it (an unstable entry or the pending snapshot's index). */
  maybeTerm(i: bigint): bigint | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i)
        return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entryAt(i).term;
  }

  /**
   * The entries up to (i, t) reached stable storage. Ignored when the entry at i has a different term
   * by now (it was replaced after the Ready was handed out) or when i is the pending snapshot's index.
   */
  stableTo(i: bigint, t: bigint): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(Number(i + 1n - this.offset));
      this.offset = i + 1n;
    }
  }

  stableSnapTo(i: bigint): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replace everything with a snapshot from the leader. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1n;
    this.entries = [];
    this.snapshot = s;
  }

  /** Append entries, first dropping any unstable entries at or after the first new index. */
  truncateAndAppend(ents: readonly Entry[]): void {
    assert(ents.length > 0, 'truncateAndAppend with no entries');
    const after = (ents[0] as Entry).index;
    if (after === this.offset + BigInt(this.entries.length)) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      this.logger.info(`replace the unstable entries from index ${after}`);
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.logger.info(`truncate the unstable entries before index ${after}`);
      this.entries = this.slice(this.offset, after).concat(ents);
    }
  }

  /** Unstable entries in [lo, hi); the range must lie within the buffer. */
  slice(lo: bigint, hi: bigint): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    return this.entries.slice(Number(lo - this.offset), Number(hi - this.offset));
  }

  private entryAt(i: bigint): Entry {
    const e = this.entries[Number(i - this.offset)];
    assert(e !== undefined, `unstable entry ${i} missing`);
    return e;
  }

  private mustCheckOutOfBounds(lo: bigint, hi: bigint): void {
    if (lo > hi) this.logger.panic(`invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + BigInt(this.entries.length);
    if (lo < this.offset || hi > upper) {
      this.logger.panic(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
  }
}
