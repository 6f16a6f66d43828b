// Cluster operations with etcd 3.4's checks (server.go AddMember/RemoveMember/UpdateMember/
// PromoteMember/MoveLeader and membership's IsReadyTo*): each becomes a ConfChange proposed through
// raft whose context is the member JSON, and answers with the members after it is applied. Also
// `publish`, by which a started member records its name and client URLs through raft.
import { createHash } from 'node:crypto';
import { EtcdError, Err } from '../base/index.js';
import { MemberPromoteRequest, MemberPromoteResponse, Request } from '../generated/etcdserverpb.js';
import { StateType } from '../raft/config.js';
import { ConfChangeType, None } from '../raft/types.js';
import type { EtcdServer } from './etcd-server.js';
import { grpcUnary } from './forward.js';
import { configChangeContext, encodeMember, idString, type Member } from './members.js';

/** How recently a peer must have been reachable to count as connected (etcd's HealthInterval). */
const HEALTH_INTERVAL_MS = 5000;
/** A learner is in sync once its match index is this close to the leader's (etcd's readyPercent). */
const READY_PERCENT = 0.9;

/** etcd's NewMember ID for a member added at runtime: SHA-1 over its sorted peer URLs and the time. */
export function newMemberId(peerURLs: readonly string[], nowMs: number): bigint {
  const b = [...peerURLs].sort().join('') + String(Math.floor(nowMs / 1000));
  return createHash('sha1').update(b, 'utf8').digest().readBigUInt64BE(0);
}

export function validPeerUrls(urls: readonly string[]): boolean {
  if (urls.length === 0) return false;
  for (const u of urls) {
    let p: URL;
    try {
      p = new URL(u);
    } catch {
      return false;
    }
    if (
      (p.protocol !== 'http:' && p.protocol !== 'https:') ||
      p.port === '' ||
      (p.pathname !== '/' && p.pathname !== '')
    )
      return false;
  }
  return true;
}

function numConnectedSince(s: EtcdServer, sinceMs: number, members: readonly Member[]): number {
  let n = 0;
  for (const m of members) {
    if (m.id === s.memberId) n++;
    else if ((s.transport.activeSince(m.id) ?? Infinity) <= sinceMs) n++;
  }
  return n;
}

function strict(s: EtcdServer): boolean {
  return s.opts.strictReconfigCheck ?? true;
}

export async function addMember(
  s: EtcdServer,
  peerURLs: string[],
  isLearner: boolean,
): Promise<{ member: Member; members: Member[] }> {
  if (!validPeerUrls(peerURLs)) throw new EtcdError(Err.memberBadURLs);
  const member: Member = {
    id: newMemberId(peerURLs, Date.now()),
    name: '',
    peerURLs,
    clientURLs: [],
    isLearner,
  };
  if (strict(s)) {
    const store = s.applier.members;
    if (!isLearner && !store.isReadyToAddVotingMember()) throw new EtcdError(Err.memberNotEnoughStarted);
    const voting = store.votingMembers();
    if (numConnectedSince(s, Date.now() - HEALTH_INTERVAL_MS, voting) !== voting.length)
      throw new EtcdError(Err.unhealthy);
  }
  const res = await s.configure({
    type: isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
    nodeId: member.id,
    context: encodeMember(member),
    id: 0n,
  });
  return { member, members: res.members ?? [] };
}

export async function removeMember(s: EtcdServer, id: bigint): Promise<Member[]> {
  if (strict(s)) {
    const store = s.applier.members;
    const m = store.get(id);
    if (m === undefined || !m.isLearner) {
      if (!store.isReadyToRemoveVotingMember(id)) throw new EtcdError(Err.memberNotEnoughStarted);
      if (!(id !== s.memberId && s.transport.activeSince(id) === undefined)) {
        const voting = store.votingMembers();
        const active = numConnectedSince(s, Date.now() - HEALTH_INTERVAL_MS, voting);
        if (active - 1 < 1 + Math.floor((voting.length - 1) / 2)) throw new EtcdError(Err.unhealthy);
      }
    }
  }
  const res = await s.configure({
    type: ConfChangeType.RemoveNode,
    nodeId: id,
    context: new Uint8Array(0),
    id: 0n,
  });
  return res.members ?? [];
}

export async function updateMember(s: EtcdServer, id: bigint, peerURLs: string[]): Promise<Member[]> {
  if (!validPeerUrls(peerURLs)) throw new EtcdError(Err.memberBadURLs);
  const m: Member = { id, name: '', peerURLs, clientURLs: [], isLearner: false };
  const res = await s.configure({
    type: ConfChangeType.UpdateNode,
    nodeId: id,
    context: encodeMember(m),
    id: 0n,
  });
  return res.members ?? [];
}

/** Errors of the leader's promote that a follower passes on instead of trying another URL. */
const FINAL_PROMOTE_ERRORS = new Set<string>([Err.learnerNotReady, Err.memberNotFound, Err.memberNotLearner]);

/**
 * Promotes a learner. Only the leader knows whether the learner's log is in sync with its own, so
 * a follower forwards the request to the leader (etcd forwards it over the peer URLs; ketch over the
 * leader's client URLs).
 */
export async function promoteMember(s: EtcdServer, id: bigint): Promise<Member[]> {
  if (s.raft.isLeader) return promoteOnLeader(s, id);
  const leader = s.applier.members.get(s.raft.lead);
  if (leader === undefined) throw new EtcdError(Err.noLeader);
  const req = MemberPromoteRequest.encode({ ID: id });
  let last: unknown = new EtcdError(Err.timeout);
  for (const url of leader.clientURLs) {
    try {
      const res = await grpcUnary(url, '/etcdserverpb.Cluster/MemberPromote', req, s.requestTimeoutMs);
      return MemberPromoteResponse.decode(res).members.map((m) => ({
        id: m.ID,
        name: m.name,
        peerURLs: m.peerURLs,
        clientURLs: m.clientURLs,
        isLearner: m.isLearner,
      }));
    } catch (err) {
      if (err instanceof EtcdError && FINAL_PROMOTE_ERRORS.has(err.message)) throw err;
      last = err;
    }
  }
  throw last;
}

async function promoteOnLeader(s: EtcdServer, id: bigint): Promise<Member[]> {
  const st = s.raft.node.status();
  if (st.raftState !== StateType.StateLeader) throw new EtcdError(Err.notLeader);
  const pr = st.progress.get(id);
  const leaderMatch = st.progress.get(s.memberId)?.match ?? 0n;
  if (pr !== undefined && Number(pr.match) < Number(leaderMatch) * READY_PERCENT)
    throw new EtcdError(Err.learnerNotReady);
  if (strict(s) && !s.applier.members.isReadyToPromoteMember())
    throw new EtcdError(Err.memberNotEnoughStarted);
  const ctx = configChangeContext({ id, name: '', peerURLs: [], clientURLs: [], isLearner: false }, true);
  const res = await s.configure({ type: ConfChangeType.AddNode, nodeId: id, context: ctx, id: 0n });
  return res.members ?? [];
}

/** Hands leadership to `transferee` and waits until it leads (leader only). */
export async function moveLeader(s: EtcdServer, transferee: bigint): Promise<void> {
  if (s.raft.lead !== s.memberId || !s.raft.isLeader) throw new EtcdError(Err.notLeader);
  const m = s.applier.members.get(transferee);
  if (m === undefined || m.isLearner) throw new EtcdError(Err.badLeaderTransferee);
  s.logger.info('leadership transfer starting', {
    'local-member-id': idString(s.memberId),
    'transferee-member-id': idString(transferee),
  });
  const start = Date.now();
  // The new leader continues every lease from what is left of it, not from a second-old checkpoint.
  await s.leases.checkpointAll().catch(() => undefined);
  s.raft.node.transferLeader(transferee);
  s.raft.kick();
  while (s.raft.lead !== transferee) {
    if (Date.now() - start > s.requestTimeoutMs) throw new EtcdError(Err.timeoutLeaderTransfer);
    await new Promise((r) => setTimeout(r, s.heartbeatMs));
    s.checkRunning();
  }
  s.logger.info('leadership transfer finished', { 'new-leader-member-id': idString(transferee) });
}

/**
 * Records this member's name and client URLs in the cluster through raft (etcd's publish), retrying
 * until it is applied or the server stops.
 */
export async function publish(s: EtcdServer): Promise<void> {
  const val = `{"name":${JSON.stringify(s.opts.name)},"clientURLs":${JSON.stringify(s.opts.clientUrls)}}`;
  const v2 = Request.create({
    Method: 'PUT',
    Path: `/0/members/${idString(s.memberId)}/attributes`,
    Val: val,
  });
  for (;;) {
    try {
      await s.propose({ v2 });
      return;
    } catch (err) {
      if (err instanceof EtcdError && err.message === Err.stopped) throw err;
      s.logger.warn('failed to publish local member to cluster through raft', { error: String(err) });
      if (s.raft.lead === None) await new Promise((r) => setTimeout(r, s.heartbeatMs));
    }
  }
}

/**
 * etcd's TransferLeadership on a graceful stop: a leader with other voters hands leadership to the
 * voter most caught up among those connected, and waits (at most two election timeouts) for it.
 */
export async function transferLeadershipOnStop(s: EtcdServer): Promise<void> {
  if (!s.raft.isLeader) return;
  const st = s.raft.node.status();
  let best: bigint | undefined;
  let bestMatch = -1n;
  for (const id of st.config.voters.ids()) {
    if (id === s.memberId || s.transport.activeSince(id) === undefined) continue;
    const match = st.progress.get(id)?.match ?? 0n;
    if (match > bestMatch) [best, bestMatch] = [id, match];
  }
  if (best === undefined) return;
  s.logger.info('leadership transfer starting', { 'transferee-member-id': idString(best) });
  await s.leases.checkpointAll().catch(() => undefined);
  s.raft.node.transferLeader(best);
  s.raft.kick();
  const deadline = Date.now() + 2 * s.electionMs;
  while (s.raft.lead !== best && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, s.heartbeatMs));
}
