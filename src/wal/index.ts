// Layer `wal`: raft's durable log and snapshot files (DESIGN §3 "WAL").
//
// Owns: the WAL segment files `%016x-%016x.wal` (sequence, first index) in one directory, their
// record format (etcd's 8-byte-aligned length frame, a CRC-32C chained across all records and
// segments), preallocation, segment cuts (tmp + sync + rename + directory sync), torn-tail repair on
// open, release of segments below a snapshot, the snapshot files `%016x-%016x.snap`, and
// WalStorage: raft's Storage kept durable in both (the persistent counterpart of MemoryStorage).
//
// Invariants:
// - A save is one write batch: one write and one fdatasync; it resolves only once durable. Writes
//   never overlap: each starts after the previous one's fdatasync.
// - Only the final write of the last segment can be torn; open cuts exactly that off and refuses
//   (WalError with `corrupt` set) damage anywhere else, so acknowledged data is never dropped
//   silently. Bytes read from disk are bounds- and type-checked before they are used.
// - A segment or snapshot name on disk always refers to a complete, synced file; directories are
//   created durably (their parent is fsynced).
// - A restore marker (a snapshot from the leader replaced the log) voids the entries before it;
//   a compaction marker keeps them. Open starts from the newest snapshot file the WAL has a marker for.
//
// May import: src/base, src/generated, src/raft (types only), node:* (it does not need to: all I/O
// goes through the injected FileSystem, so the simulator can supply a faulty disk).
export { Wal, DEFAULT_SEGMENT_SIZE_BYTES } from './wal.js';
export type { WalOptions, WalOpenOptions, WalOpenResult, WalRepair } from './wal.js';
export { WalError, WalErr } from './errors.js';
export { MAX_RECORD_BYTES } from './record.js';
export type { WalSnapshot } from './record.js';
export { segmentName, parseSegmentName } from './segment.js';
export { Snapshotter, snapshotName, decodeSnapshot } from './snapshotter.js';
export type { RaftSnapshot, LoadedSnapshot, SkippedSnapshot } from './snapshotter.js';
export { WalStorage, DEFAULT_KEEP_SNAPSHOTS } from './wal-storage.js';
export type { WalStorageOptions } from './wal-storage.js';
