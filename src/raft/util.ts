// Small helpers of the raft core: size limiting of entry batches, message classification, and the
// deterministic one-line descriptions (describeMessage, describeEntry, describeReady …) that the
// interaction scripts print, in the format of etcd-io/raft's util.go.
import { entrySizeBytes } from './storage.js';
import { MessageType, type Entry } from './types.js';

/** "No byte limit" for maxSizeBytes arguments. */
export const noLimit = Number.MAX_SAFE_INTEGER;

/**
 * The longest prefix of `ents` whose total size stays within maxSizeBytes, but always at least one
 * entry so that a single large entry can still make progress.
 */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0] as Entry);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySizeBytes(ents[limit] as Entry);
    if (size > maxSizeBytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

/** Messages the node generates for itself; never accepted from the network. */
export function isLocalMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

export function isResponseMsg(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new Error(`not a vote message: ${t}`);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
