// Raft's data types, shared by the core, the WAL and the server. 64-bit terms and indexes are bigint
// (DESIGN §5.1). The core itself lives beside this file; these types are its vocabulary.

export const EntryType = { Normal: 0, ConfChange: 1, ConfChangeV2: 2 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. `data` is an encoded InternalRaftRequest for Normal entries (empty for the leader's no-op). */
export interface Entry {
  term: bigint;
  index: bigint;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on stable storage before any message is sent: the term, the vote, the commit index. */
export interface HardState {
  term: bigint;
  vote: bigint;
  commit: bigint;
}

export interface SnapshotMetadata {
  index: bigint;
  term: bigint;
  /** Voter and learner member IDs at the snapshot index. */
  voters: bigint[];
  learners: bigint[];
}

export const emptyHardState: HardState = { term: 0n, vote: 0n, commit: 0n };
