// The per-role message handlers (etcd-io/raft's stepLeader, stepCandidate, stepFollower), called by
// Raft.step after the term rules. Errors for the caller (a dropped proposal) are thrown as the
// values of errors.ts.
import { decodeConfChange, decodeConfChangeV2, asV2 } from './confchange/conf-change.js';
import { StateType } from './config.js';
import { ErrProposalDropped } from './errors.js';
import { VoteResult } from './quorum/quorum.js';
import { CampaignType } from './raft-election.js';
import type { Raft } from './raft.js';
import { hexId } from './util.js';
import {
  bcastAppend,
  bcastHeartbeat,
  bcastHeartbeatWithCtx,
  handleAppendEntries,
  handleHeartbeat,
  handleSnapshot,
  maybeSendAppend,
  sendAppend,
} from './raft-replication.js';
import { ReadOnlyOption } from './read-only.js';
import type { Progress } from './tracker/progress.js';
import { StateType as ProgressState } from './tracker/state.js';
import {
  EntryType,
  MessageType,
  messageTypeName,
  newMessage,
  None,
  type Entry,
  type Message,
} from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.MsgProp:
      leaderPropose(r, m);
      return;
    case MessageType.MsgReadIndex:
      leaderReadIndex(r, m);
      return;
  }
  const pr = r.prs.progress.get(m.from);
  if (pr === undefined) {
    r.logger.debug(`${hexId(r.id)} no progress available for ${hexId(m.from)}`);
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      pr.recentActive = true;
      if (m.reject) handleAppReject(r, m, pr);
      else handleAppAck(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResp:
      handleHeartbeatResp(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressState.StateSnapshot) return;
      // Whether it succeeded or not, probe next: the follower's MsgAppResp (or silence) decides.
      if (m.reject) pr.pendingSnapshot = 0n;
      pr.becomeProbe();
      r.logger.debug(
        `${hexId(r.id)} snapshot ${m.reject ? 'failed' : 'succeeded'}, resumed sending replication messages to ${hexId(m.from)} [${pr.toString()}]`,
      );
      // Wait for a MsgHeartbeatResp or MsgAppResp before sending the next append.
      pr.probeSent = true;
      return;
    case MessageType.MsgUnreachable:
      // The transport lost a message; stop pipelining and probe.
      if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
      r.logger.debug(
        `${hexId(r.id)} failed to send message to ${hexId(m.from)} because it is unreachable [${pr.toString()}]`,
      );
      return;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      return;
  }
}

/** Step down unless a quorum was heard from within the last election timeout. */
function checkQuorum(r: Raft): void {
  const self = r.prs.progress.get(r.id);
  if (self !== undefined) self.recentActive = true;
  if (!r.prs.quorumActive()) {
    r.logger.warn(`${hexId(r.id)} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, None);
  }
  r.prs.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false;
  });
}

function leaderPropose(r: Raft, m: Message): void {
  if (m.entries.length === 0) r.logger.panic(`${hexId(r.id)} stepped empty MsgProp`);
  if (!r.prs.progress.has(r.id)) {
    // Removed from the configuration: our appends would count for nobody.
    throw ErrProposalDropped;
  }
  if (r.leadTransferee !== None) {
    r.logger.debug(
      `${hexId(r.id)} [term ${r.term}] transfer leadership to ${hexId(r.leadTransferee)} is in progress; dropping proposal`,
    );
    throw ErrProposalDropped;
  }
  const ents = m.entries.map((e, i) => screenConfChange(r, e, i));
  if (!r.appendEntry(ents)) throw ErrProposalDropped;
  bcastAppend(r);
}

/**
 * A conf change is accepted only when no other is pending (unapplied), and only a leave-joint one
 * while joint (and vice versa); a refused one becomes an empty normal entry, keeping the indexes.
 */
function screenConfChange(r: Raft, e: Entry, i: number): Entry {
  if (e.type === EntryType.Normal) return e;
  const cc = e.type === EntryType.ConfChange ? asV2(decodeConfChange(e.data)) : decodeConfChangeV2(e.data);
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
  const alreadyJoint = r.prs.config.voters.outgoing.size > 0;
  const wantsLeaveJoint = cc.changes.length === 0;
  let refused = '';
  if (alreadyPending) {
    refused = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
  } else if (alreadyJoint && !wantsLeaveJoint) {
    refused = 'must transition out of joint config first';
  } else if (!alreadyJoint && wantsLeaveJoint) {
    refused = 'not in joint state; refusing empty conf change';
  }
  if (refused !== '') {
    r.logger.info(
      `${hexId(r.id)} ignoring conf change at config ${r.prs.config.voters.toString()}: ${refused}`,
    );
    return { term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) };
  }
  r.pendingConfIndex = r.raftLog.lastIndex() + BigInt(i) + 1n;
  return e;
}

function leaderReadIndex(r: Raft, m: Message): void {
  if (r.prs.isSingleton()) {
    // One voter: our commit index is the group's.
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  // Until an entry of this term is committed, our commit index may be behind the group's.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  sendReadIndexResponse(r, m);
}

function sendReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === ReadOnlyOption.ReadOnlySafe) {
    const ctx = (m.entries[0] as Entry).data;
    r.readOnly.addRequest(r.raftLog.committed, m);
    r.readOnly.recvAck(r.id, ctx);
    bcastHeartbeatWithCtx(r, ctx);
  } else {
    respondToReadIndex(r, m, r.raftLog.committed);
  }
}

/** Answer a read locally (a ReadState) or to the follower that forwarded it. */
function respondToReadIndex(r: Raft, req: Message, index: bigint): void {
  const entry = req.entries[0] as Entry;
  if (req.from === None || req.from === r.id) {
    r.readStates.push({ index, requestCtx: entry.data });
  } else {
    r.send(newMessage({ type: MessageType.MsgReadIndexResp, to: req.from, index, entries: req.entries }));
  }
}

/** The first entry of our term just committed: serve the reads that waited for it. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) {
    r.logger.error('pending MsgReadIndex should be released only after first commit in current term');
    return;
  }
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendReadIndexResponse(r, m);
}

function handleAppReject(r: Raft, m: Message, pr: Progress): void {
  r.logger.debug(
    `${hexId(r.id)} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${hexId(m.from)} for index ${m.index}`,
  );
  // The follower's log has nothing matching after (rejectHint, logTerm). If its term there is known,
  // our own log cannot match above the last of our entries with term <= that term either.
  let nextProbeIdx = m.rejectHint;
  if (m.logTerm > 0n) nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
  if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
    r.logger.debug(`${hexId(r.id)} decreased progress of ${hexId(m.from)} to [${pr.toString()}]`);
    if (pr.state === ProgressState.StateReplicate) pr.becomeProbe();
    sendAppend(r, m.from);
  }
}

function handleAppAck(r: Raft, m: Message, pr: Progress): void {
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressState.StateProbe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.StateSnapshot && pr.match >= pr.pendingSnapshot) {
    r.logger.debug(
      `${hexId(r.id)} recovered from needing snapshot, resumed sending replication messages to ${hexId(m.from)} [${pr.toString()}]`,
    );
    // Go through probe to reset the inflights, then replicate.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.StateReplicate) {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (oldPaused) {
    // The follower was paused and may now take more: it would otherwise wait for the next heartbeat.
    sendAppend(r, m.from);
  }
  // Fill the window with whatever is left to send.
  while (maybeSendAppend(r, m.from, false)) {
    /* keep sending */
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${hexId(r.id)} sent MsgTimeoutNow to ${hexId(m.from)} after received MsgAppResp`);
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResp(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // Free one slot so a follower whose acks were lost is not stuck with a full window forever.
  if (pr.state === ProgressState.StateReplicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
  if (r.readOnly.option !== ReadOnlyOption.ReadOnlySafe || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || r.prs.config.voters.voteResult(acks) !== VoteResult.VoteWon) return;
  for (const rs of r.readOnly.advance(m)) respondToReadIndex(r, rs.req, rs.index);
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug(`${hexId(r.id)} is learner. Ignored transferring leadership`);
    return;
  }
  const transferee = m.from;
  const last = r.leadTransferee;
  if (last !== None) {
    if (last === transferee) {
      r.logger.info(
        `${hexId(r.id)} [term ${r.term}] transfer leadership to ${hexId(transferee)} is in progress, ignores request to same node ${hexId(transferee)}`,
      );
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info(`${hexId(r.id)} [term ${r.term}] abort previous transferring leadership to ${hexId(last)}`);
  }
  if (transferee === r.id) {
    r.logger.debug(`${hexId(r.id)} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${hexId(r.id)} [term ${r.term}] starts to transfer leadership to ${hexId(transferee)}`);
  // The transfer must finish within an election timeout (tickHeartbeat aborts it otherwise).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    r.sendTimeoutNow(transferee);
    r.logger.info(
      `${hexId(r.id)} sends MsgTimeoutNow to ${hexId(transferee)} immediately as ${hexId(transferee)} already has up-to-date log`,
    );
  } else {
    sendAppend(r, transferee);
  }
}

/** Shared by pre-candidates and candidates. */
export function stepCandidate(r: Raft, m: Message): void {
  const myVoteRespType =
    r.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info(`${hexId(r.id)} no leader at term ${r.term}; dropping proposal`);
      throw ErrProposalDropped;
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from); // always m.term === r.term here
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteRespType: {
      const { granted, rejected, result } = r.poll(m.from, m.type, !m.reject);
      r.logger.info(
        `${hexId(r.id)} has received ${granted} ${messageTypeName(m.type)} votes and ${rejected} vote rejections`,
      );
      if (result === VoteResult.VoteWon) {
        if (r.state === StateType.StatePreCandidate) {
          r.campaign(CampaignType.Election);
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (result === VoteResult.VoteLost) {
        // A pre-candidate returns to follower without having changed its term.
        r.becomeFollower(r.term, None);
      }
      return;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.debug(
        `${hexId(r.id)} [term ${r.term} state ${r.state}] ignored MsgTimeoutNow from ${hexId(m.from)}`,
      );
      return;
  }
}

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === None) {
        r.logger.info(`${hexId(r.id)} no leader at term ${r.term}; dropping proposal`);
        throw ErrProposalDropped;
      }
      if (r.disableProposalForwarding) {
        r.logger.info(
          `${hexId(r.id)} not forwarding to leader ${hexId(r.lead)} at term ${r.term}; dropping proposal`,
        );
        throw ErrProposalDropped;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === None) {
        r.logger.info(`${hexId(r.id)} no leader at term ${r.term}; dropping leader transfer msg`);
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgTimeoutNow:
      if (r.promotable()) {
        r.logger.info(
          `${hexId(r.id)} [term ${r.term}] received MsgTimeoutNow from ${hexId(m.from)} and starts an election to get leadership.`,
        );
        // Skips pre-vote, and the vote requests bypass leader stickiness: the leader asked for it.
        r.campaign(CampaignType.Transfer);
      } else {
        r.logger.info(`${hexId(r.id)} received MsgTimeoutNow from ${hexId(m.from)} but is not promotable`);
      }
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === None) {
        r.logger.info(`${hexId(r.id)} no leader at term ${r.term}; dropping index reading msg`);
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error(
          `${hexId(r.id)} invalid format of MsgReadIndexResp from ${hexId(m.from)}, entries count: ${m.entries.length}`,
        );
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: (m.entries[0] as Entry).data });
      return;
  }
}
