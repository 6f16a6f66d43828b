// src/raft/quorum — quorum arithmetic for Raft (etcd-io/raft's quorum package, ported).
//
// Owns: MajorityConfig (a set of voters deciding by majority), JointConfig (two majorities that
// must both agree, used during joint-consensus membership changes), the AckedIndexer lookup the
// commit rule reads, and VoteResult.
// Invariants: an empty majority commits everything (MaxIndex) and wins every vote, so a joint
// config with an empty outgoing half behaves exactly like its incoming half; results never depend
// on iteration order.
// May import: src/base only. Pure: no node:*, no async, no clocks, no randomness.

export { MaxIndex, MapAckIndexer, VoteResult, voteResultName, indexString, compareBigint } from './quorum.js';
export type { AckedIndexer } from './quorum.js';
export { MajorityConfig } from './majority.js';
export { JointConfig } from './joint.js';
