// The raft Storage interface (etcd-io/raft's storage.go): the core reads stable entries, terms and
// the latest snapshot through it, synchronously. Writing is the application's job, done while
// handling a Ready and before calling advance; the core never writes to Storage itself.
// Implementations: MemoryStorage (memory-storage.ts) and the WAL-backed one in src/wal.
import type { ConfState, Entry, HardState, Snapshot } from './types.js';

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

export interface Storage {
  /** The saved HardState and the ConfState of the latest snapshot plus any committed conf changes applied by the app. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one if any exist in range, limited to about `maxSizeBytes` in total
   * (sum of `entrySizeBytes`). Throws ErrCompacted when lo <= the snapshot index, ErrUnavailable when
   * hi > lastIndex() + 1.
   */
  entries(lo: bigint, hi: bigint, maxSizeBytes: number): Entry[];
  /**
   * The term of entry i, for i in [firstIndex() - 1, lastIndex()] (firstIndex() - 1 is the snapshot's
   * index and term). Throws ErrCompacted below that, ErrUnavailable above.
   */
  term(i: bigint): bigint;
  lastIndex(): bigint;
  /** The index of the first entry that may be available (the snapshot index + 1). */
  firstIndex(): bigint;
  /** The most recent snapshot; throws ErrSnapshotTemporarilyUnavailable if it is being built. */
  snapshot(): Snapshot;
}

/** The size an entry counts for in byte limits (max message size, uncommitted size): its payload. */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 24;
}
