// Raft's vocabulary, shared by the core, the WAL, the simulator and the server: the shapes of
// etcd-io/raft's raftpb (Entry, HardState, Message, Snapshot, ConfState, ConfChange[V2]) written as
// plain TypeScript with camelCase names. 64-bit terms, indexes and node IDs are bigint (DESIGN §5.1).
// The wire encoding of these types for peers lives with the transport; ConfChange data inside log
// entries is encoded by src/raft/confchange/codec.ts.

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

/** The membership at a point in the log. Outgoing voters are non-empty only in a joint configuration. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  /** Voters of the outgoing config that become learners when the joint config is left. */
  learnersNext: bigint[];
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: bigint;
  term: bigint;
  confState: ConfState;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** Message types with raftpb's numbers, so a future wire codec keeps etcd's values. */
export const MessageType = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgProp: 2,
  MsgApp: 3,
  MsgAppResp: 4,
  MsgVote: 5,
  MsgVoteResp: 6,
  MsgSnap: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResp: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgPreVote: 17,
  MsgPreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const messageTypeNames = Object.fromEntries(Object.entries(MessageType).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;
export function messageTypeName(t: MessageType): string {
  return messageTypeNames[t] ?? `MessageType(${t})`;
}

export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: bigint;
  /** Term of the entry at `index` (MsgApp), or the rejection hint's term (MsgAppResp). */
  logTerm: bigint;
  index: bigint;
  entries: Entry[];
  commit: bigint;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: bigint;
  context: Uint8Array;
}

export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  UpdateNode: 2,
  AddLearnerNode: 3,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** How a ConfChangeV2 with several changes (or a V1 change) moves through a joint configuration. */
export const ConfChangeTransition = {
  /** Joint consensus for more than one change, left automatically; a single change is applied directly. */
  Auto: 0,
  /** Always joint consensus, left automatically. */
  JointImplicit: 1,
  /** Always joint consensus, left by an explicit empty ConfChangeV2. */
  JointExplicit: 2,
} as const;
export type ConfChangeTransition = (typeof ConfChangeTransition)[keyof typeof ConfChangeTransition];

/** etcd's original single-change form (raftpb.ConfChange). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
  /** Kept for wire compatibility with raftpb.ConfChange; unused by the core. */
  id: bigint;
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/** raftpb.ConfChangeV2: several changes at once; an empty one leaves a joint configuration. */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

export const emptyHardState: HardState = { term: 0n, vote: 0n, commit: 0n };

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptySnapshot(): Snapshot {
  return { data: new Uint8Array(0), metadata: { index: 0n, term: 0n, confState: emptyConfState() } };
}

/** A message with every field at its zero value except those given. */
export function newMessage(init: Partial<Message> & { type: MessageType }): Message {
  return {
    to: 0n,
    from: 0n,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    entries: [],
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: new Uint8Array(0),
    ...init,
  };
}

/** Node ID 0 means "none" (no leader, no vote), as in etcd-io/raft. */
export const None = 0n;
