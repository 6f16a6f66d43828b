// The raft state machine (etcd-io/raft's raft struct): roles and their transitions, ticks, the
// leader's log appends and the uncommitted-size limit. It only reacts to step() and tick(); what it
// wants done is left in `msgs`, the log's unstable part and `readStates`, collected by RawNode into
// a Ready. The rest lives beside it: elections and term rules in raft-election.ts, replication in
// raft-replication.ts, per-role message handlers in raft-step.ts, conf changes and snapshot
// restore in raft-membership.ts.
import type { Prng } from '../base/prng.js';
import { StateType, stateTypeName, validateConfig, type Config } from './config.js';
import { ErrProposalDropped } from './errors.js';
import { discardRaftLogger, type RaftLogger } from './logger.js';
import { RaftLog } from './raft-log.js';
import { campaign, CampaignType, handleVote, hup, poll, stepTerm } from './raft-election.js';
import {
  applyConfChange,
  handOverLeadership,
  restoreConfState,
  restoreSnapshot,
  switchToConfig,
} from './raft-membership.js';
import { sendAppend } from './raft-replication.js';
import { stepCandidate, stepFollower, stepLeader } from './raft-step.js';
import { ReadOnly, type ReadState } from './read-only.js';
import { Progress, type ProgressMap } from './tracker/progress.js';
import { ProgressTracker, type TrackerConfig, type VoteTally } from './tracker/tracker.js';
import {
  EntryType,
  MessageType,
  messageTypeName,
  newMessage,
  None,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from './types.js';
import { hexId } from './util.js';

export { StateType, stateTypeName, type Config } from './config.js';

export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

export { CampaignType };
export { hexId } from './util.js';

export class Raft {
  readonly id: bigint;
  term = 0n;
  vote = None;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  prs: ProgressTracker;
  state: StateType = StateType.StateFollower;
  /** Whether this node is a learner in the current configuration. */
  isLearner = false;
  msgs: Message[] = [];
  lead = None;
  /** The target of a leader transfer in progress, or None. */
  leadTransferee = None;
  /** A conf change may be proposed only once the log is applied past this index. */
  pendingConfIndex = 0n;
  /** Payload bytes of the leader's uncommitted tail (an estimate; reset on role change). */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly logger: RaftLogger;
  /** MsgReadIndex received before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  private readonly prng: Prng;

  constructor(config: Config) {
    const c = validateConfig(config, discardRaftLogger);
    this.id = c.id;
    this.logger = c.logger;
    this.prng = c.prng;
    this.raftLog = new RaftLog(c.storage, c.logger, c.maxCommittedSizePerReady);
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.prs = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.readOnly = new ReadOnly(c.readOnlyOption);
    this.disableProposalForwarding = c.disableProposalForwarding;

    const { hardState, confState } = c.storage.initialState();
    restoreConfState(this, confState);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0n) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, None);
    const peers = this.prs.voterNodes().map(hexId).join(',');
    this.logger.info(
      `newRaft ${hexId(this.id)} [peers: [${peers}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hasLeader(): boolean {
    return this.lead !== None;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Queue a message, stamping `from` and (except for votes, proposals and reads) the current term. */
  send(m: Message): void {
    m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.MsgVote ||
      t === MessageType.MsgVoteResp ||
      t === MessageType.MsgPreVote ||
      t === MessageType.MsgPreVoteResp
    ) {
      if (m.term === 0n) this.logger.panic(`term should be set when sending ${messageTypeName(t)}`);
    } else {
      if (m.term !== 0n) {
        this.logger.panic(`term should not be set when sending ${messageTypeName(t)} (was ${m.term})`);
      }
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** The application handled a Ready: move the applied and stable cursors. */
  advance(rd: { committedEntries: Entry[]; entries: Entry[]; snapshot?: Snapshot }): void {
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    const applied = lastCommitted?.index ?? rd.snapshot?.metadata.index ?? 0n;
    if (applied > 0n) {
      this.raftLog.appliedTo(applied);
      if (
        this.prs.config.autoLeave &&
        applied >= this.pendingConfIndex &&
        this.state === StateType.StateLeader
      ) {
        this.proposeAutoLeave();
      }
    }
    this.reduceUncommittedSize(rd.committedEntries);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) this.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0n) {
      this.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    }
  }

  /**
   * The joint config is committed and applied and autoLeave is set: propose leaving it, as a
   * proposal so that pendingConfIndex moves. The entry's data is empty, which decodes as an empty
   * ConfChangeV2 and never counts against the uncommitted size. It is dropped during a leader
   * transfer; the next advance tries again.
   */
  private proposeAutoLeave(): void {
    const e: Entry = { term: 0n, index: 0n, type: EntryType.ConfChangeV2, data: new Uint8Array(0) };
    try {
      this.step(newMessage({ type: MessageType.MsgProp, from: this.id, entries: [e] }));
      this.logger.info(
        `initiating automatic transition out of joint configuration ${this.prs.config.toString()}`,
      );
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
      this.logger.debug(
        `not initiating automatic transition out of joint configuration: ${ErrProposalDropped.message}`,
      );
    }
  }

  /** Commit what a quorum has acknowledged, if it is of the current term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  private reset(term: bigint): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    this.prs.visit((id, pr) => {
      const fresh = new Progress({
        match: id === this.id ? last : 0n,
        next: last + 1n,
        inflights: this.prs.newInflights(),
        isLearner: pr.isLearner,
      });
      this.prs.progress.set(id, fresh);
    });
    this.pendingConfIndex = 0n;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
  }

  /**
   * Append entries at the leader's term after the last index; false (nothing appended) when they
   * would push the uncommitted tail over its limit.
   */
  appendEntry(es: Entry[]): boolean {
    const li = this.raftLog.lastIndex();
    const stamped = es.map((e, i) => ({ ...e, term: this.term, index: li + 1n + BigInt(i) }));
    if (!this.increaseUncommittedSize(stamped)) {
      this.logger.debug(
        `${hexId(this.id)} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`,
      );
      return false;
    }
    const newLast = this.raftLog.append(stamped);
    this.prs.progress.get(this.id)?.maybeUpdate(newLast);
    this.maybeCommit();
    return true;
  }

  tick(): void {
    if (this.state === StateType.StateLeader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // the transfer did not finish within an election timeout: give up and take proposals again
      if (this.state === StateType.StateLeader && this.leadTransferee !== None) this.abortLeaderTransfer();
      // A leader removed from the voters tries the next transfer.
      if (!this.promotable()) handOverLeadership(this);
    }
    if (this.state !== StateType.StateLeader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  becomeFollower(term: bigint, lead: bigint): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.StateFollower;
    this.logger.info(`${hexId(this.id)} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.StateLeader) this.logger.panic('invalid transition [leader -> candidate]');
    this.reset(this.term + 1n);
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    this.logger.info(`${hexId(this.id)} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.StateLeader)
      this.logger.panic('invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither its term nor its vote, so a failed pre-vote disturbs nobody.
    this.prs.resetVotes();
    this.lead = None;
    this.state = StateType.StatePreCandidate;
    this.logger.info(`${hexId(this.id)} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.StateFollower) this.logger.panic('invalid transition [follower -> leader]');
    if (!this.promotable()) this.logger.panic(`${hexId(this.id)} is not a voter and cannot become leader`);
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.StateLeader;
    // The leader's own progress is always replicating; it acknowledges its own appends.
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Any conf change in the uncommitted tail may still be pending: refuse new ones until it applies.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const empty: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) };
    if (!this.appendEntry([empty])) this.logger.panic('empty entry was dropped');
    // The empty entry does not count against the uncommitted size limit.
    this.reduceUncommittedSize([empty]);
    this.logger.info(`${hexId(this.id)} became leader at term ${this.term}`);
  }

  /** Start a (pre-)election: become (pre-)candidate, vote for ourselves, ask every other voter. */
  campaign(t: CampaignType): void {
    campaign(this, t);
  }

  poll(id: bigint, t: MessageType, v: boolean): VoteTally {
    return poll(this, id, t, v);
  }

  /** Handle one message (from a peer, or a local one such as MsgHup, MsgProp, MsgBeat). */
  step(m: Message): void {
    if (!stepTerm(this, m)) return;
    switch (m.type) {
      case MessageType.MsgHup:
        hup(this);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        handleVote(this, m);
        return;
      default:
        if (this.state === StateType.StateLeader) stepLeader(this, m);
        else if (this.state === StateType.StateFollower) stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }

  /** Install a snapshot from the leader; false if it is stale or merely fast-forwards the commit index. */
  restore(s: Snapshot): boolean {
    return restoreSnapshot(this, s);
  }

  /** Whether this node may campaign: it is a voter of the current configuration. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner;
  }

  /** Apply a committed conf change (simple, enter joint, or leave joint); returns the new ConfState. */
  applyConfChange(cc: ConfChangeV2): ConfState {
    return applyConfChange(this, cc);
  }

  /** Make cfg/prs the configuration (see raft-membership.ts). */
  switchToConfig(cfg: TrackerConfig, prs: ProgressMap): ConfState {
    return switchToConfig(this, cfg, prs);
  }

  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      this.logger.panic(
        `${hexId(this.id)} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** A new election timeout in [electionTimeout, 2 * electionTimeout). */
  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.prng.intBelow(this.electionTimeout);
  }

  sendTimeoutNow(to: bigint): void {
    this.send(newMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  /** Count proposed payload against the uncommitted limit; false when it would be exceeded. */
  increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadSize(ents);
    // An empty tail always accepts, so a single large proposal can still go through.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    const s = payloadSize(ents);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  /** Re-exported for the step handlers. */
  sendAppend(to: bigint): void {
    sendAppend(this, to);
  }

  toString(): string {
    return `${hexId(this.id)} ${stateTypeName(this.state)} term=${this.term}`;
  }
}

function payloadSize(ents: Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.length;
  return s;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0n && hs.vote === 0n && hs.commit === 0n;
}

export function isEmptySnap(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0n;
}
