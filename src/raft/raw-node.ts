// RawNode: the application's handle on one raft node (etcd-io/raft's RawNode). The application
// feeds it ticks, proposals and peers' messages, and drains what it produced as a Ready:
//   1. persist rd.hardState, rd.entries and rd.snapshot (fsync when rd.mustSync),
//   2. send rd.messages,
//   3. apply rd.committedEntries (calling applyConfChange for conf change entries),
//   4. advance(rd).
// Nothing here does I/O, reads a clock or draws randomness except through the Config's Prng.
import { asV2, encodeConfChange, encodeConfChangeV2 } from './confchange/conf-change.js';
import type { Config } from './config.js';
import { ErrStepLocalMsg, ErrStepPeerNotFound } from './errors.js';
import { isEmptyHardState, Raft, type SoftState } from './raft.js';
import type { ReadState } from './read-only.js';
import { getBasicStatus, getStatus, type BasicStatus, type Status } from './status.js';
import {
  EntryType,
  MessageType,
  newMessage,
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from './types.js';
import { isLocalMsg, isResponseMsg } from './util.js';

export type { Config } from './config.js';

export interface Ready {
  /** Set when the leader or role changed; volatile, need not be persisted. */
  softState?: SoftState;
  /** Set when term, vote or commit changed: persist it before sending messages. */
  hardState?: HardState;
  /** Reads that may be served once the application has applied up to their index. */
  readStates: ReadState[];
  /** Entries to append to stable storage before sending messages. */
  entries: Entry[];
  /** A snapshot from the leader to persist and apply. */
  snapshot?: Snapshot;
  /** Entries committed by a quorum, to apply in order (they were persisted by an earlier Ready). */
  committedEntries: Entry[];
  /** Messages to send after entries and hardState are persisted. */
  messages: Message[];
  /** Whether the write of hardState/entries must be fsynced (a new term, vote or entries). */
  mustSync: boolean;
}

export const SnapshotStatus = { SnapshotFinish: 1, SnapshotFailure: 2 } as const;
export type SnapshotStatus = (typeof SnapshotStatus)[keyof typeof SnapshotStatus];

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** etcd's MustSync: term, vote and log entries must be durable before answering anyone. */
export function mustSync(st: HardState, prev: HardState, entsNum: number): boolean {
  return entsNum !== 0 || st.vote !== prev.vote || st.term !== prev.term;
}

function isConfChangeV2(cc: ConfChange | ConfChangeV2): cc is ConfChangeV2 {
  return 'changes' in cc;
}

export class RawNode {
  /** The state machine itself; exposed for tests and the simulator's checkers. */
  readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;

  /** Restores the node from config.storage (its HardState, ConfState and entries). */
  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Advance the election clock only (a node with nothing to do may skip heartbeats). */
  tickQuiesced(): void {
    this.raft.electionElapsed++;
  }

  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /** Propose data to be appended to the log; throws ErrProposalDropped. */
  propose(data: Uint8Array): void {
    const e: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data };
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [e] }));
  }

  /** Propose a membership change; applied by applyConfChange once committed. Throws ErrProposalDropped. */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const e: Entry = isConfChangeV2(cc)
      ? { term: 0n, index: 0n, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) }
      : { term: 0n, index: 0n, type: EntryType.ConfChange, data: encodeConfChange(cc) };
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [e] }));
  }

  /** Apply a committed conf change to the configuration; returns the new ConfState to persist. */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(isConfChangeV2(cc) ? cc : asV2(cc));
  }

  /** Feed a message from a peer; throws ErrStepLocalMsg or ErrStepPeerNotFound. */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw ErrStepLocalMsg;
    if (this.raft.prs.progress.has(m.from) || !isResponseMsg(m.type)) {
      this.raft.step(m);
      return;
    }
    throw ErrStepPeerNotFound;
  }

  /** What the application must do next; hand it back through advance() once done. */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      readStates: r.readStates,
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      mustSync: false,
    };
    const ss = r.softState();
    if (!softStateEqual(ss, this.prevSoftSt)) {
      rd.softState = ss;
      this.prevSoftSt = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardSt)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot !== undefined) rd.snapshot = r.raftLog.unstable.snapshot;
    rd.mustSync = mustSync(hs, this.prevHardSt, rd.entries.length);
    r.readStates = [];
    r.msgs = [];
    return rd;
  }

  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftSt)) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardSt)) return true;
    if (r.raftLog.unstable.snapshot !== undefined && r.raftLog.unstable.snapshot.metadata.index > 0n)
      return true;
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextEnts()) return true;
    return r.readStates.length > 0;
  }

  /** The Ready was handled (persisted, sent, applied). */
  advance(rd: Ready): void {
    if (rd.hardState !== undefined) this.prevHardSt = rd.hardState;
    this.raft.advance(rd);
  }

  status(): Status {
    return getStatus(this.raft);
  }

  basicStatus(): BasicStatus {
    return getBasicStatus(this.raft);
  }

  /** The transport failed to deliver to `id`: stop pipelining to it and probe. */
  reportUnreachable(id: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** The outcome of sending a snapshot to `id`. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    const reject = status === SnapshotStatus.SnapshotFailure;
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject }));
  }

  /** Ask the leader to hand leadership to `transferee`. */
  transferLeader(transferee: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Request a linearizable read point; a ReadState with `rctx` appears in a later Ready. rctx must be
   * unique among pending reads.
   */
  readIndex(rctx: Uint8Array): void {
    const e: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data: rctx };
    this.raft.step(newMessage({ type: MessageType.MsgReadIndex, entries: [e] }));
  }
}
