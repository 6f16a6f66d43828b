// Small helpers of the raft core: size limiting of entry batches, message classification, and the
// deterministic one-line descriptions (describeMessage, describeEntry, describeReady …) that the
// interaction scripts print, in the format of etcd-io/raft's util.go.
import { entrySizeBytes } from './storage.js';
import { asV2, decodeConfChange, decodeConfChangeV2 } from './confchange/conf-change.js';
import { confStatesEquivalent } from './confchange/conf-state.js';
import { stateTypeName } from './config.js';
import type { RaftLogger } from './logger.js';
import type { SoftState } from './raft.js';
import type { Ready } from './raw-node.js';
import type { ReadState } from './read-only.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  messageTypeName,
  type ConfChangeSingle,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from './types.js';

/** An ID as etcd-io/raft prints it (%x). */
export function hexId(id: bigint): string {
  return id.toString(16);
}

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

function idList(ids: readonly bigint[]): string {
  return `[${ids.join(' ')}]`;
}

export function describeConfState(cs: ConfState): string {
  return `Voters:${idList(cs.voters)} VotersOutgoing:${idList(cs.votersOutgoing)} Learners:${idList(cs.learners)} LearnersNext:${idList(cs.learnersNext)} AutoLeave:${cs.autoLeave}`;
}

export function assertConfStatesEquivalent(logger: RaftLogger, a: ConfState, b: ConfState): void {
  if (!confStatesEquivalent(a, b)) {
    logger.panic(
      `ConfStates not equivalent after sorting:\n${describeConfState(a)}\n${describeConfState(b)}`,
    );
  }
}

/** Formats an entry's data for display. */
export type EntryFormatter = (data: Uint8Array) => string;

const entryTypeNames = ['EntryNormal', 'EntryConfChange', 'EntryConfChangeV2'];

/** Go's %q of a byte string: printable ASCII as is, the rest escaped. */
export function quoteBytes(data: Uint8Array): string {
  let s = '"';
  for (const b of data) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x0d) s += '\\r';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s + '"';
}

/** etcd's ConfChangesToString: "v1 l2 r3 u4" (voter, learner, remove, update). */
export function describeConfChanges(ccs: readonly ConfChangeSingle[]): string {
  const letters: Record<number, string> = {
    [ConfChangeType.AddNode]: 'v',
    [ConfChangeType.AddLearnerNode]: 'l',
    [ConfChangeType.RemoveNode]: 'r',
    [ConfChangeType.UpdateNode]: 'u',
  };
  return ccs.map((cc) => `${letters[cc.type] ?? 'unknown'}${cc.nodeId}`).join(' ');
}

function formatEntryData(e: Entry, f: EntryFormatter): string {
  try {
    if (e.type === EntryType.ConfChange) return describeConfChanges(asV2(decodeConfChange(e.data)).changes);
    if (e.type === EntryType.ConfChangeV2) return describeConfChanges(decodeConfChangeV2(e.data).changes);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return f(e.data);
}

/** "term/index EntryType data", e.g. `1/4 EntryConfChangeV2 v2 v3` or `2/7 EntryNormal "foo"`. */
export function describeEntry(e: Entry, f: EntryFormatter = quoteBytes): string {
  const formatted = formatEntryData(e, f);
  const type = entryTypeNames[e.type] ?? `EntryType(${e.type})`;
  return `${e.term}/${e.index} ${type}${formatted === '' ? '' : ' ' + formatted}`;
}

/** One describeEntry line per entry, each ending in a newline. */
export function describeEntries(ents: readonly Entry[], f: EntryFormatter = quoteBytes): string {
  return ents.map((e) => describeEntry(e, f) + '\n').join('');
}

export function describeHardState(hs: HardState): string {
  return `Term:${hs.term}${hs.vote !== 0n ? ` Vote:${hs.vote}` : ''} Commit:${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${stateTypeName(ss.raftState)}`;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`;
}

/** e.g. `1->2 MsgApp Term:1 Log:1/3 Commit:4 Entries:[1/4 EntryNormal "x"]`; IDs in hex as etcd prints them. */
export function describeMessage(m: Message, f: EntryFormatter = quoteBytes): string {
  let s = `${m.from.toString(16)}->${m.to.toString(16)} ${messageTypeName(m.type)} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0n) s += ` Commit:${m.commit}`;
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map((e) => describeEntry(e, f)).join(', ')}]`;
  if (m.snapshot !== undefined && m.snapshot.metadata.index !== 0n)
    s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

function describeReadStates(rss: readonly ReadState[]): string {
  return `[${rss.map((rs) => `{${rs.index} ${quoteBytes(rs.requestCtx)}}`).join(' ')}]`;
}

/** A multi-line description of a Ready, or `<empty Ready>`; each line ends in a newline. */
export function describeReady(rd: Ready, f: EntryFormatter = quoteBytes): string {
  let s = '';
  if (rd.softState !== undefined) s += describeSoftState(rd.softState) + '\n';
  if (rd.hardState !== undefined) s += `HardState ${describeHardState(rd.hardState)}\n`;
  if (rd.readStates.length > 0) s += `ReadStates ${describeReadStates(rd.readStates)}\n`;
  if (rd.entries.length > 0) s += 'Entries:\n' + describeEntries(rd.entries, f);
  if (rd.snapshot !== undefined && rd.snapshot.metadata.index !== 0n) {
    s += `Snapshot ${describeSnapshot(rd.snapshot)}\n`;
  }
  if (rd.committedEntries.length > 0) s += 'CommittedEntries:\n' + describeEntries(rd.committedEntries, f);
  if (rd.messages.length > 0)
    s += 'Messages:\n' + rd.messages.map((m) => describeMessage(m, f) + '\n').join('');
  return s === '' ? '<empty Ready>' : `Ready MustSync=${rd.mustSync}:\n${s}`;
}
