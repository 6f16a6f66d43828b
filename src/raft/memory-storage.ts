// An in-memory raft Storage (etcd-io/raft's MemoryStorage), used by tests, the interaction scripts
// and the simulator's baseline. ents[0] is a dummy entry carrying the index and term of the latest
// snapshot (or 0/0), so ents[i - ents[0].index] is entry i and term(snapshot index) still answers.
// The application writes to it while handling a Ready: append (which truncates any conflicting
// suffix), setHardState, applySnapshot; and it compacts with createSnapshot + compact.
import { assert } from '../base/assert.js';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors.js';
import type { InitialState, Storage } from './storage.js';
import {
  emptySnapshot,
  EntryType,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from './types.js';
import { limitSize } from './util.js';

function dummyEntry(index: bigint, term: bigint): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0n, vote: 0n, commit: 0n };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [dummyEntry(0n, 0n)];

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  /**
   * Give a still empty storage its initial membership without a snapshot index, so a group can start
   * from an empty log (index 0, as etcd-io/raft's own tests do). Otherwise use applySnapshot.
   */
  bootstrapConfState(cs: ConfState): void {
    assert(
      this.snap.metadata.index === 0n && this.ents.length === 1,
      'bootstrapConfState on a non-empty storage',
    );
    this.snap = { ...this.snap, metadata: { ...this.snap.metadata, confState: cs } };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: bigint, hi: bigint, maxSizeBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw ErrCompacted;
    if (hi > this.lastIndex() + 1n) throw ErrUnavailable;
    if (this.ents.length === 1) throw ErrUnavailable;
    assert(lo <= hi, `entries lo ${lo} > hi ${hi}`);
    return limitSize(this.ents.slice(Number(lo - offset), Number(hi - offset)), maxSizeBytes);
  }

  term(i: bigint): bigint {
    const offset = this.offset();
    if (i < offset) throw ErrCompacted;
    const e = this.ents[Number(i - offset)];
    if (i - offset >= BigInt(this.ents.length) || e === undefined) throw ErrUnavailable;
    return e.term;
  }

  lastIndex(): bigint {
    return this.offset() + BigInt(this.ents.length) - 1n;
  }

  firstIndex(): bigint {
    return this.offset() + 1n;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replace the whole content with a snapshot (received from the leader or for bootstrapping). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw ErrSnapOutOfDate;
    this.snap = snap;
    this.ents = [dummyEntry(snap.metadata.index, snap.metadata.term)];
  }

  /**
   * Record a snapshot of the state machine at applied index i (with its ConfState when given) so it
   * can be sent to lagging followers; the entries stay until compact() is called.
   */
  createSnapshot(i: bigint, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    assert(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const e = this.ents[Number(i - this.offset())];
    assert(e !== undefined, `entry ${i} missing`);
    this.snap = {
      data,
      metadata: { index: i, term: e.term, confState: cs ?? this.snap.metadata.confState },
    };
    return this.snap;
  }

  /** Drop the entries before compactIndex; compactIndex itself becomes the dummy entry. */
  compact(compactIndex: bigint): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw ErrCompacted;
    assert(
      compactIndex <= this.lastIndex(),
      `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`,
    );
    const i = Number(compactIndex - offset);
    const e = this.ents[i] as Entry;
    this.ents = [dummyEntry(e.index, e.term), ...this.ents.slice(i + 1)];
  }

  /**
   * Append entries that follow on (or overlap) the stored log. Entries already compacted away are
   * skipped; stored entries at or after the first new index are replaced. The entries must be
   * contiguous and must not leave a gap after the last stored entry.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    let ents = entries;
    const start = (ents[0] as Entry).index;
    const last = start + BigInt(ents.length) - 1n;
    if (last < first) return;
    if (first > start) ents = ents.slice(Number(first - start));
    const at = Number((ents[0] as Entry).index - this.offset());
    // In place: copying the whole log on every append made a long-running group quadratic.
    if (this.ents.length >= at) {
      this.ents.length = at;
      for (const e of ents) this.ents.push(e);
    } else {
      assert(false, `missing log entry [last: ${this.lastIndex()}, append at: ${(ents[0] as Entry).index}]`);
    }
  }

  private offset(): bigint {
    return (this.ents[0] as Entry).index;
  }
}
