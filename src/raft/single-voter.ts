// A one-voter Raft group: the member is its own quorum, so an entry is committed as soon as it is
// on the member's own stable storage. It speaks the same Ready/advance protocol as the full core
// (etcd-io/raft's RawNode) so that the server's raft loop does not change when the multi-member
// core takes its place: persist Ready.entries and Ready.hardState, apply Ready.committedEntries,
// then advance(). Pure: no I/O, no clock, no randomness.
import { assert } from '../base/assert.js';
import { EntryType, type Entry, type HardState } from './types.js';

export interface Ready {
  /** Set when the hard state changed since the last Ready; persist it with `entries`. */
  hardState: HardState | undefined;
  /** New entries to append to stable storage before anything else happens to them. */
  entries: Entry[];
  /** Entries known to be committed and not yet handed out for applying, in index order. */
  committedEntries: Entry[];
  /** Whether the persistence of this Ready must be fsynced (new entries or a new term/vote). */
  mustSync: boolean;
}

export interface SingleVoterState {
  id: bigint;
  hardState: HardState;
  /** Index and term of the last entry on stable storage (0, 0 for an empty log). */
  lastIndex: bigint;
  lastTerm: bigint;
  /** Stable entries the state machine has not applied yet, in index order. */
  unapplied: Entry[];
}

export class SingleVoterRaft {
  readonly id: bigint;
  private term: bigint;
  private lastIndex: bigint;
  private stableIndex: bigint;
  private unstable: Entry[] = [];
  private stableUnapplied: Entry[];
  private prevHardState: HardState;

  constructor(state: SingleVoterState) {
    assert(state.id !== 0n, 'raft: member id must not be 0');
    this.id = state.id;
    this.lastIndex = state.lastIndex;
    this.stableIndex = state.lastIndex;
    this.stableUnapplied = [...state.unapplied];
    this.prevHardState = state.hardState;
    // Becoming leader starts a new term and appends an empty entry, as a newly elected leader does,
    // so that every earlier entry is committed in the leader's own term.
    this.term = (state.hardState.term > state.lastTerm ? state.hardState.term : state.lastTerm) + 1n;
    this.append(new Uint8Array(0));
  }

  get currentTerm(): bigint {
    return this.term;
  }

  get leaderId(): bigint {
    return this.id;
  }

  /** The highest index known committed: everything on stable storage. */
  get commitIndex(): bigint {
    return this.stableIndex;
  }

  /** Appends a proposal to the log and returns its index. */
  propose(data: Uint8Array): bigint {
    return this.append(data);
  }

  /** Number of proposed entries not yet on stable storage. */
  get pendingCount(): number {
    return this.unstable.length;
  }

  hasReady(): boolean {
    return this.unstable.length > 0 || this.stableUnapplied.length > 0 || this.hardStateChanged();
  }

  ready(): Ready {
    const changed = this.hardStateChanged();
    const hardState = changed ? this.hardState() : undefined;
    const entries = this.unstable.slice();
    const termOrVoteChanged =
      hardState !== undefined &&
      (hardState.term !== this.prevHardState.term || hardState.vote !== this.prevHardState.vote);
    return {
      hardState,
      entries,
      committedEntries: this.stableUnapplied.slice(),
      mustSync: entries.length > 0 || termOrVoteChanged,
    };
  }

  /** Tells the node that `rd` was persisted and its committed entries applied. */
  advance(rd: Ready): void {
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    if (rd.committedEntries.length > 0) {
      const n = rd.committedEntries.length;
      assert(this.stableUnapplied[n - 1] === rd.committedEntries[n - 1], 'raft: advance out of order');
      this.stableUnapplied.splice(0, n);
    }
    if (rd.entries.length > 0) {
      const n = rd.entries.length;
      assert(this.unstable[n - 1] === rd.entries[n - 1], 'raft: advance of entries not handed out');
      const stabled = this.unstable.splice(0, n);
      this.stableIndex = stabled[n - 1]!.index;
      // One voter: on our stable storage means committed.
      for (const e of stabled) this.stableUnapplied.push(e);
    }
  }

  private append(data: Uint8Array): bigint {
    this.lastIndex += 1n;
    this.unstable.push({ term: this.term, index: this.lastIndex, type: EntryType.Normal, data });
    return this.lastIndex;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.id, commit: this.stableIndex };
  }

  private hardStateChanged(): boolean {
    const p = this.prevHardState;
    return p.term !== this.term || p.vote !== this.id || p.commit !== this.stableIndex;
  }
}
