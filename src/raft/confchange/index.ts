// src/raft/confchange — membership changes (etcd-io/raft's confchange package and the ConfChange
// helpers of raftpb, ported).
//
// Owns: the Changer (simple changes, entering and leaving joint consensus, with etcd's validation
// and error messages), restore (rebuilding a tracker config from a snapshot's ConfState),
// ConfState equivalence, the V1/V2 ConfChange helpers, and the hand-written protobuf codec of
// ConfChange/ConfChangeV2 (the data of EntryConfChange[V2] entries, wire-compatible with etcd).
// Invariants: a Changer never mutates the tracker it reads — it returns a new config and progress
// map, or throws ConfChangeError leaving everything as it was; every returned config passes
// checkInvariants (learners and voters disjoint, learnersNext only while joint, ...); decoding
// rejects malformed bytes with an Error instead of returning a partial change.
// May import: src/base, src/raft/quorum, src/raft/tracker, src/raft/types. Pure: no node:*, no async.

export { Changer, ConfChangeError, checkInvariants, describe, confChangeTypeName } from './confchange.js';
export type { ChangerTracker, ChangeResult } from './confchange.js';
export { restore, toConfChangeSingle } from './restore.js';
export {
  asV1,
  asV2,
  isConfChangeV2,
  enterJoint,
  leaveJoint,
  marshalConfChange,
  confChangesFromString,
  confChangesToString,
} from './conf-change.js';
export { encodeConfChange, decodeConfChange, encodeConfChangeV2, decodeConfChangeV2 } from './codec.js';
export { confStatesEquivalent, checkConfStatesEquivalent, describeConfState } from './conf-state.js';
