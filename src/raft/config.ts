// The configuration of one raft node and the names of its roles (etcd-io/raft's Config and
// StateType). Limits that are left out get etcd's defaults; validateConfig rejects the settings
// etcd rejects, with etcd's messages.
import type { Prng } from '../base/prng.js';
import type { RaftLogger } from './logger.js';
import { ReadOnlyOption } from './read-only.js';
import type { Storage } from './storage.js';
import { None } from './types.js';
/** "No byte limit" (same value as util.ts's noLimit; repeated here to keep the import graph acyclic). */
const noLimit = Number.MAX_SAFE_INTEGER;

export const StateType = {
  StateFollower: 0,
  StateCandidate: 1,
  StateLeader: 2,
  StatePreCandidate: 3,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

const stateNames = ['StateFollower', 'StateCandidate', 'StateLeader', 'StatePreCandidate'];
export function stateTypeName(s: StateType): string {
  return stateNames[s] ?? `StateType(${s})`;
}

export interface Config {
  /** This node's ID; never 0. */
  id: bigint;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomized up to 2x). */
  electionTick: number;
  /** Ticks between the leader's heartbeats; must be below electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** The last applied index when restarting; committed entries up to it are not handed out again. */
  applied?: bigint;
  /** Byte limit of the entries in one MsgApp (at least one entry is always sent). Default: no limit. */
  maxSizePerMsg?: number;
  /** Byte limit of Ready.committedEntries. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** Payload bytes the leader accepts uncommitted before dropping proposals. Default: no limit. */
  maxUncommittedEntriesSize?: number;
  /** Appends in flight to one follower while replicating optimistically. */
  maxInflightMsgs: number;
  /** Payload bytes in flight to one follower. Default: no limit. */
  maxInflightBytes?: number;
  /** The leader steps down when it has not heard from a quorum within an election timeout. Default true. */
  checkQuorum?: boolean;
  /** Campaign with a pre-vote round first, so a partitioned node cannot disrupt by bumping terms. Default true. */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  logger?: RaftLogger;
  /** The source of the randomized election timeout. */
  prng: Prng;
}

/** A Config with every default filled in. */
export type ResolvedConfig = Required<Config>;

export function validateConfig(c: Config, defaultLogger: RaftLogger): ResolvedConfig {
  if (c.id === None) throw new Error('cannot use none as id');
  if (c.heartbeatTick <= 0) throw new Error('heartbeat tick must be greater than 0');
  if (c.electionTick <= c.heartbeatTick) throw new Error('election tick must be greater than heartbeat tick');
  if (!(c.maxInflightMsgs > 0)) throw new Error('max inflight messages must be greater than 0');
  const checkQuorum = c.checkQuorum ?? true;
  const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.ReadOnlySafe;
  if (readOnlyOption === ReadOnlyOption.ReadOnlyLeaseBased && !checkQuorum) {
    throw new Error('CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased');
  }
  const maxSizePerMsg = c.maxSizePerMsg ?? noLimit;
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    storage: c.storage,
    applied: c.applied ?? 0n,
    maxSizePerMsg,
    maxCommittedSizePerReady: c.maxCommittedSizePerReady || maxSizePerMsg,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize || noLimit,
    maxInflightMsgs: c.maxInflightMsgs,
    maxInflightBytes: c.maxInflightBytes ?? 0,
    checkQuorum,
    preVote: c.preVote ?? true,
    readOnlyOption,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    logger: c.logger ?? defaultLogger,
    prng: c.prng,
  };
}
