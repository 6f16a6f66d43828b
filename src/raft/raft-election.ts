// Elections (etcd-io/raft's campaign, poll and the term rules at the top of Step): pre-vote, the
// vote itself with the §5.4.1 log check, and leader stickiness — a node that heard from a leader
// within the election timeout ignores vote requests (unless the leader itself asked for the
// election by MsgTimeoutNow), so a node rejoining from a partition cannot depose a healthy leader.
import { StateType } from './config.js';
import { VoteResult } from './quorum/quorum.js';
import type { Raft } from './raft.js';
import type { VoteTally } from './tracker/tracker.js';
import { EntryType, MessageType, messageTypeName, newMessage, None, type Message } from './types.js';
import { hexId, noLimit, voteRespMsgType } from './util.js';

/** Why a node campaigns. A transfer campaign bypasses leader stickiness on the voters. */
export const CampaignType = {
  PreElection: 'CampaignPreElection',
  Election: 'CampaignElection',
  Transfer: 'CampaignTransfer',
} as const;
export type CampaignType = (typeof CampaignType)[keyof typeof CampaignType];

const transferContext = new TextEncoder().encode(CampaignType.Transfer);

function isTransferContext(ctx: Uint8Array): boolean {
  return ctx.length === transferContext.length && ctx.every((b, i) => b === transferContext[i]);
}

/** Start a (pre-)election: become (pre-)candidate, vote for ourselves, ask every other voter. */
export function campaign(r: Raft, t: CampaignType): void {
  if (!r.promotable()) r.logger.warn(`${hexId(r.id)} is unpromotable; campaign() should have been called`);
  let term: bigint;
  let voteMsg: MessageType;
  if (t === CampaignType.PreElection) {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    // A pre-vote asks for the term we would campaign in, without moving to it.
    term = r.term + 1n;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  const { result } = poll(r, r.id, voteRespMsgType(voteMsg), true);
  if (result === VoteResult.VoteWon) {
    // a single-voter config wins at once
    if (t === CampaignType.PreElection) campaign(r, CampaignType.Election);
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.prs.config.voters.ids()) {
    if (id === r.id) continue;
    r.logger.info(
      `${hexId(r.id)} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${messageTypeName(voteMsg)} request to ${hexId(id)} at term ${r.term}`,
    );
    const context = t === CampaignType.Transfer ? transferContext : new Uint8Array(0);
    r.send(newMessage({ type: voteMsg, to: id, term, index: lastIndex, logTerm: lastTerm, context }));
  }
}

export function poll(r: Raft, id: bigint, t: MessageType, v: boolean): VoteTally {
  const what = v ? messageTypeName(t) : `${messageTypeName(t)} rejection`;
  r.logger.info(`${hexId(r.id)} received ${what} from ${hexId(id)} at term ${r.term}`);
  r.prs.recordVote(id, v);
  return r.prs.tallyVotes();
}

/**
 * The term rules every message passes first. Returns false when the message is fully handled
 * (ignored or answered) here.
 */
export function stepTerm(r: Raft, m: Message): boolean {
  if (m.term === 0n) return true; // local message
  if (m.term > r.term) {
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
      const force = isTransferContext(m.context);
      const inLease = r.checkQuorum && r.lead !== None && r.electionElapsed < r.electionTimeout;
      if (!force && inLease) {
        // Leader stickiness: we heard from a leader within the election timeout, so a vote request
        // from a node that merely timed out (e.g. was partitioned) must not depose it.
        r.logger.info(
          `${hexId(r.id)} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${hexId(r.vote)}] ignored ${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}: lease is not expired (remaining ticks: ${r.electionTimeout - r.electionElapsed})`,
        );
        return false;
      }
    }
    if (m.type === MessageType.MsgPreVote || (m.type === MessageType.MsgPreVoteResp && !m.reject)) {
      // A pre-vote (or a granted pre-vote response) carries a future term but does not move ours.
      return true;
    }
    r.logger.info(
      `${hexId(r.id)} [term: ${r.term}] received a ${messageTypeName(m.type)} message with higher term from ${hexId(m.from)} [term: ${m.term}]`,
    );
    const fromLeader =
      m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
    r.becomeFollower(m.term, fromLeader ? m.from : None);
    return true;
  }
  if (m.term < r.term) {
    stepLowerTerm(r, m);
    return false;
  }
  return true;
}

export function stepLowerTerm(r: Raft, m: Message): void {
  if (
    (r.checkQuorum || r.preVote) &&
    (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)
  ) {
    // A stale leader (e.g. after a partition with check-quorum/pre-vote keeping our term from
    // reaching it) learns the new term from this response and steps down.
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from }));
  } else if (m.type === MessageType.MsgPreVote) {
    r.logger.info(
      `${hexId(r.id)} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${hexId(r.vote)}] rejected ${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    r.send(newMessage({ type: MessageType.MsgPreVoteResp, to: m.from, term: r.term, reject: true }));
  } else {
    r.logger.info(
      `${hexId(r.id)} [term: ${r.term}] ignored a ${messageTypeName(m.type)} message with lower term from ${hexId(m.from)} [term: ${m.term}]`,
    );
  }
}

export function hup(r: Raft): void {
  if (r.state === StateType.StateLeader) {
    r.logger.debug(`${hexId(r.id)} ignoring MsgHup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${hexId(r.id)} is unpromotable and can not campaign; ignoring MsgHup`);
    return;
  }
  // A node that has committed but unapplied conf changes does not know its final config yet.
  if (r.raftLog.committed > r.raftLog.applied) {
    const ents = r.raftLog.mustSlice(r.raftLog.applied + 1n, r.raftLog.committed + 1n, noLimit);
    const n = ents.filter((e) => e.type !== EntryType.Normal).length;
    if (n !== 0) {
      r.logger.warn(
        `${hexId(r.id)} cannot campaign at term ${r.term} since there are still ${n} pending configuration changes to apply`,
      );
      return;
    }
  }
  r.logger.info(`${hexId(r.id)} is starting a new election at term ${r.term}`);
  campaign(r, r.preVote ? CampaignType.PreElection : CampaignType.Election);
}

export function handleVote(r: Raft, m: Message): void {
  // We can vote for m.from if we already did, or if we have voted for nobody and know no leader in
  // this term; a pre-vote for a future term is granted on the log check alone.
  const canVote =
    r.vote === m.from ||
    (r.vote === None && r.lead === None) ||
    (m.type === MessageType.MsgPreVote && m.term > r.term);
  const desc = `${hexId(r.id)} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${hexId(r.vote)}]`;
  const what = `${messageTypeName(m.type)} from ${hexId(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`;
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.logger.info(`${desc} cast ${what.replace(' from ', ' for ')}`);
    // The response carries the request's term: for a pre-vote that is the future term, so the
    // pre-candidate can count it without our term having moved.
    r.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: m.term }));
    if (m.type === MessageType.MsgVote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(`${desc} rejected ${what}`);
    r.send(newMessage({ type: voteRespMsgType(m.type), to: m.from, term: r.term, reject: true }));
  }
}
