// The errors the raft core and its Storage report, with etcd-io/raft's messages. Storage errors are
// expected conditions the core handles (a compacted index, an entry not yet available); the others
// are returned to the caller of RawNode (a dropped proposal, a step to an unknown peer).

export class RaftError extends Error {
  override readonly name = 'RaftError';
}

/** The requested index is older than the storage's first index: it was compacted away. */
export const ErrCompacted = new RaftError('requested index is unavailable due to compaction');
/** A snapshot older than the storage's current one was offered. */
export const ErrSnapOutOfDate = new RaftError('requested index is older than the existing snapshot');
/** The requested entries are not (yet) in storage. */
export const ErrUnavailable = new RaftError('requested entry at index is unavailable');
/** The snapshot is being prepared; the leader retries later. */
export const ErrSnapshotTemporarilyUnavailable = new RaftError('snapshot is temporarily unavailable');
/** A proposal was refused: no leader known, a transfer in progress, or the uncommitted log is full. */
export const ErrProposalDropped = new RaftError('raft proposal dropped');
/** RawNode.step was given a message from a peer that is not in the configuration. */
export const ErrStepPeerNotFound = new RaftError('raft: cannot step as peer not found');
/** RawNode.step was given a local message type (MsgHup, MsgBeat, …). */
export const ErrStepLocalMsg = new RaftError('raft: cannot step raft local message');
