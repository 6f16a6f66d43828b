// src/raft — Raft consensus as a pure state machine, shaped after etcd-io/raft (etcd 3.4).
//
// Owns: the raft core (raft.ts with raft-step.ts and raft-replication.ts: roles, elections with
// pre-vote and check-quorum, leader stickiness, log replication with probe/replicate/snapshot
// progress, ReadIndex, leader transfer, membership changes), RawNode (the Ready/advance protocol an
// application drives), the log (raft-log.ts over unstable-log.ts and a Storage), MemoryStorage, the
// quorum/, tracker/ and confchange/ packages, and the deterministic describe* output of util.ts.
// Invariants: at most one leader per term; a leader commits only entries of its own term by
// counting replicas; committed entries are never truncated; HardState and entries of a Ready are
// persisted before its messages are sent; output (messages, Ready) is a function of the inputs and
// the Config's Prng alone.
// May import: src/base and src/generated only. Pure: no node:* (except in *.test.ts), no async, no
// timers, no Date, no Math.random. Terms, indexes and IDs are bigint; counts, sizes, ticks number.

export * from './types.js';
export * from './storage.js';
export * from './errors.js';
export * from './logger.js';
export { StateType, stateTypeName, validateConfig, type Config } from './config.js';
export { Raft, CampaignType, isEmptyHardState, isEmptySnap, type SoftState } from './raft.js';
export { RawNode, SnapshotStatus, mustSync, type Ready } from './raw-node.js';
export { RaftLog } from './raft-log.js';
export { UnstableLog } from './unstable-log.js';
export { MemoryStorage } from './memory-storage.js';
export { ReadOnly, ReadOnlyOption, type ReadState } from './read-only.js';
export type { Status, BasicStatus } from './status.js';
export {
  noLimit,
  limitSize,
  isLocalMsg,
  isResponseMsg,
  quoteBytes,
  describeConfChanges,
  describeConfState,
  describeEntry,
  describeEntries,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
  type EntryFormatter,
} from './util.js';
export {
  StateType as ProgressStateType,
  Progress,
  Inflights,
  ProgressTracker,
  TrackerConfig,
} from './tracker/index.js';
