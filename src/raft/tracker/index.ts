// src/raft/tracker — the leader's per-peer bookkeeping (etcd-io/raft's tracker package, ported).
//
// Owns: Progress (match/next and the probe/replicate/snapshot state machine of one peer),
// Inflights (the bounded window — by message count and by bytes — of unacknowledged appends),
// ProgressTracker (membership config, all Progress, election votes; commit index and quorum checks
// derived through src/raft/quorum) and TrackerConfig.
// Invariants: learners never vote and never count toward a
// quorum; inflight indexes never decrease between resets; iteration (visit) is in ascending ID
// order so the core's output is deterministic.
// May import: src/base, src/raft/quorum, src/raft/types. Pure: no node:*, no async, no clocks.

export { StateType, stateTypeName } from './state.js';
export { Inflights } from './inflights.js';
export { Progress, progressMapString, copyProgressMap } from './progress.js';
export type { ProgressInit, ProgressMap } from './progress.js';
export { ProgressTracker, TrackerConfig } from './tracker.js';
export type { VoteTally } from './tracker.js';
