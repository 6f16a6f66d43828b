// Log replication, both sides. The leader sends each follower MsgApp from its Progress.next (or a
// snapshot once the entries it needs are compacted away) and heartbeats; the follower appends what
// matches, answers with its new last index, or rejects with a hint — the largest index of its log
// whose term is at most the leader's logTerm, with that term — so the leader can skip a whole
// divergent term per round trip instead of one index.
import { ErrCompacted, ErrSnapshotTemporarilyUnavailable, ErrUnavailable } from './errors.js';
import { isEmptySnap, type Raft } from './raft.js';
import { hexId } from './util.js';
import { entrySizeBytes } from './storage.js';
import { StateType as ProgressState } from './tracker/state.js';
import { MessageType, newMessage, type Entry, type Message, type Snapshot } from './types.js';
import { minBig } from './util.js';

/** Send the follower an append (or a snapshot); also when there are no new entries (a probe). */
export function sendAppend(r: Raft, to: bigint): void {
  maybeSendAppend(r, to, true);
}

/**
 * Send `to` the entries from its next index, unless its progress is paused. With sendIfEmpty false,
 * nothing is sent when there are no entries to send. Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: bigint, sendIfEmpty: boolean): boolean {
  const pr = r.prs.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  let term: bigint | undefined;
  let ents: Entry[] | undefined;
  try {
    term = r.raftLog.term(pr.next - 1n);
    ents = r.raftLog.entries(pr.next, r.maxMsgSize);
  } catch (err) {
    if (err !== ErrCompacted && err !== ErrUnavailable) throw err;
  }
  if (!sendIfEmpty && (ents === undefined || ents.length === 0)) return false;
  if (term === undefined || ents === undefined) return sendSnapshot(r, to);
  const m = newMessage({
    type: MessageType.MsgApp,
    to,
    index: pr.next - 1n,
    logTerm: term,
    entries: ents,
    commit: r.raftLog.committed,
  });
  const last = ents[ents.length - 1];
  if (last !== undefined) {
    if (pr.state === ProgressState.StateReplicate) {
      // Replicating optimistically: assume the append arrives and pipeline the next one.
      pr.optimisticUpdate(last.index);
      let bytes = 0;
      for (const e of ents) bytes += entrySizeBytes(e);
      pr.inflights.add(last.index, bytes);
    } else if (pr.state === ProgressState.StateProbe) {
      // One probe at a time until the follower answers.
      pr.probeSent = true;
    } else {
      r.logger.panic(`${hexId(r.id)} is sending append in unhandled state ${pr.state}`);
    }
  }
  r.send(m);
  return true;
}

/** The entries `to` needs are gone from the log: send the latest snapshot instead. */
function sendSnapshot(r: Raft, to: bigint): boolean {
  const pr = r.prs.progress.get(to);
  if (pr === undefined) return false;
  if (!pr.recentActive) {
    r.logger.debug(`ignore sending snapshot to ${hexId(to)} since it is not recently active`);
    return false;
  }
  let snapshot: Snapshot;
  try {
    snapshot = r.raftLog.snapshot();
  } catch (err) {
    if (err === ErrSnapshotTemporarilyUnavailable) {
      r.logger.debug(
        `${hexId(r.id)} failed to send snapshot to ${hexId(to)} because snapshot is temporarily unavailable`,
      );
      return false;
    }
    throw err;
  }
  if (isEmptySnap(snapshot)) r.logger.panic('need non-empty snapshot');
  const { index, term } = snapshot.metadata;
  r.logger.debug(
    `${hexId(r.id)} [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${hexId(to)} [${pr.toString()}]`,
  );
  pr.becomeSnapshot(index);
  r.logger.debug(`${hexId(r.id)} paused sending replication messages to ${hexId(to)} [${pr.toString()}]`);
  r.send(newMessage({ type: MessageType.MsgSnap, to, snapshot }));
  return true;
}

/**
 * A heartbeat carries min(match, commit): a follower must not learn a commit index beyond what it
 * is known to have, since its log past `match` may still diverge from the leader's.
 */
export function sendHeartbeat(r: Raft, to: bigint, ctx: Uint8Array): void {
  const pr = r.prs.progress.get(to);
  const commit = minBig(pr?.match ?? 0n, r.raftLog.committed);
  r.send(newMessage({ type: MessageType.MsgHeartbeat, to, commit, context: ctx }));
}

export function bcastAppend(r: Raft): void {
  r.prs.visit((id) => {
    if (id !== r.id) sendAppend(r, id);
  });
}

/** Heartbeats carry the newest pending ReadIndex context, so their acks confirm that read too. */
export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx() ?? new Uint8Array(0));
}

export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array): void {
  r.prs.visit((id) => {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  });
}

/** Follower side of MsgApp. */
export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    // Everything up to our commit index matches the leader's log already.
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: lastNew }));
    return;
  }
  // Our log does not have (m.index, m.logTerm). Entries after m.index cannot match either, and an
  // entry at or below it whose term exceeds m.logTerm cannot match the leader's log there; the
  // first candidate is the last entry at or below min(m.index, lastIndex) with term <= m.logTerm.
  const hint = r.raftLog.findConflictByTerm(minBig(m.index, r.raftLog.lastIndex()), m.logTerm);
  r.logger.debug(
    `${hexId(r.id)} [logterm: ${r.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${hexId(m.from)}`,
  );
  r.send(
    newMessage({
      type: MessageType.MsgAppResp,
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    }),
  );
}

/** Follower side of MsgHeartbeat: learn the commit index, echo the context (for ReadIndex). */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send(newMessage({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
}

/** Follower side of MsgSnap. The answer tells the leader where to continue either way. */
export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (s === undefined) {
    r.logger.error(`${hexId(r.id)} received MsgSnap without a snapshot from ${hexId(m.from)}`);
    return;
  }
  const { index, term } = s.metadata;
  if (r.restore(s)) {
    r.logger.info(
      `${hexId(r.id)} [commit: ${r.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.lastIndex() }));
  } else {
    r.logger.info(
      `${hexId(r.id)} [commit: ${r.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.committed }));
  }
}
