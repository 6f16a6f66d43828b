// Configuration changes of a running node and snapshot restore (etcd-io/raft's applyConfChange,
// switchToConfig and restore): the application applies a committed conf change, the tracker's
// config and progress are replaced, and a leader commits what the new quorum allows — or steps
// down when it is no longer a voter. A snapshot from the leader replaces log and configuration.
import { Changer } from './confchange/confchange.js';
import { enterJoint, leaveJoint } from './confchange/conf-change.js';
import { restore as restoreConfig } from './confchange/restore.js';
import { StateType } from './config.js';
import type { Raft } from './raft.js';
import { bcastAppend, maybeSendAppend } from './raft-replication.js';
import type { ProgressMap } from './tracker/progress.js';
import { ProgressTracker, type TrackerConfig } from './tracker/tracker.js';
import { MessageType, newMessage, None, type ConfChangeV2, type ConfState, type Snapshot } from './types.js';
import { assertConfStatesEquivalent, describeConfState, hexId } from './util.js';

/** Install a snapshot from the leader; false if it is stale or merely fast-forwards the commit index. */
export function restoreSnapshot(r: Raft, s: Snapshot): boolean {
  const { index, term, confState: cs } = s.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.state !== StateType.StateFollower) {
    r.logger.warn(`${hexId(r.id)} attempted to restore snapshot as leader; should never happen`);
    r.becomeFollower(r.term + 1n, None);
    return false;
  }
  if (!cs.voters.includes(r.id) && !cs.learners.includes(r.id)) {
    r.logger.warn(
      `${hexId(r.id)} attempted to restore snapshot but it is not in the ConfState ${describeConfState(cs)}; should never happen`,
    );
    return false;
  }
  if (r.raftLog.matchTerm(index, term)) {
    r.logger.info(
      `${hexId(r.id)} [commit: ${r.raftLog.committed}, lastindex: ${r.raftLog.lastIndex()}, lastterm: ${r.raftLog.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
    );
    r.raftLog.commitTo(index);
    return false;
  }
  r.raftLog.restore(s);
  r.prs = new ProgressTracker(r.prs.maxInflight, r.prs.maxInflightBytes);
  restoreConfState(r, cs);
  const pr = r.prs.progress.get(r.id);
  pr?.maybeUpdate(pr.next - 1n);
  r.logger.info(
    `${hexId(r.id)} [commit: ${r.raftLog.committed}, lastindex: ${r.raftLog.lastIndex()}, lastterm: ${r.raftLog.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
  );
  return true;
}

export function restoreConfState(r: Raft, cs: ConfState): void {
  const changer = new Changer({ tracker: r.prs, lastIndex: r.raftLog.lastIndex() });
  const [cfg, prs] = restoreConfig(changer, cs);
  const got = switchToConfig(r, cfg, prs);
  assertConfStatesEquivalent(r.logger, cs, got);
}

/** Apply a committed conf change (simple, enter joint, or leave joint); returns the new ConfState. */
export function applyConfChange(r: Raft, cc: ConfChangeV2): ConfState {
  const changer = new Changer({ tracker: r.prs, lastIndex: r.raftLog.lastIndex() });
  let result: [TrackerConfig, ProgressMap];
  if (leaveJoint(cc)) {
    result = changer.leaveJoint();
  } else {
    const { autoLeave, ok } = enterJoint(cc);
    result = ok ? changer.enterJoint(autoLeave, ...cc.changes) : changer.simple(...cc.changes);
  }
  return switchToConfig(r, result[0], result[1]);
}

/**
 * A leader that is no longer a voter transfers leadership to the voter with the longest log
 * (lowest ID on a tie); tickHeartbeat calls this again when a transfer times out.
 */
export function handOverLeadership(r: Raft): void {
  if (r.state !== StateType.StateLeader || r.leadTransferee !== None) return;
  let best: bigint | undefined;
  let bestMatch = -1n;
  for (const id of r.prs.config.voters.ids()) {
    const p = r.prs.progress.get(id);
    if (id === r.id || p === undefined || p.isLearner) continue;
    if (p.match > bestMatch) {
      best = id;
      bestMatch = p.match;
    }
  }
  if (best === undefined) return;
  r.logger.info(`${hexId(r.id)} is no longer a voter; hands leadership to ${hexId(best)}`);
  r.step(newMessage({ type: MessageType.MsgTransferLeader, from: best }));
}

/**
 * Make cfg/prs the configuration. A (pre-)candidate that is no longer a voter gives up; a leader
 * commits what the new quorum allows, probes new members at once, and hands leadership over if it
 * is no longer a voter itself.
 */
export function switchToConfig(r: Raft, cfg: TrackerConfig, prs: ProgressMap): ConfState {
  r.prs.config = cfg;
  r.prs.progress = prs;
  r.logger.info(`${hexId(r.id)} switched to configuration ${cfg.toString()}`);
  const cs = r.prs.confState();
  const pr = r.prs.progress.get(r.id);
  r.isLearner = pr !== undefined && pr.isLearner;
  const candidate = r.state === StateType.StateCandidate || r.state === StateType.StatePreCandidate;
  if ((pr === undefined || r.isLearner) && candidate) {
    // Removed or demoted while campaigning: winning now would make a leader that is not a voter.
    r.logger.info(`${hexId(r.id)} stops campaigning since it is no longer a voter`);
    r.becomeFollower(r.term, None);
    return cs;
  }
  if (r.state !== StateType.StateLeader || cs.voters.length === 0) return cs;
  if (r.maybeCommit()) {
    bcastAppend(r);
  } else {
    r.prs.visit((id) => {
      if (id !== r.id) maybeSendAppend(r, id, false);
    });
  }
  if (r.leadTransferee !== None && !r.prs.progress.has(r.leadTransferee)) r.abortLeaderTransfer();
  // Removed or demoted, a leader keeps leading (counting only the new voters) until it has handed
  // leadership to an up-to-date voter. Stepping down at once could leave the others unable to
  // elect anyone: they learn that the change committed only from this leader, and until then they
  // still need its vote, which it refuses to a log shorter than its own.
  if (!r.promotable()) handOverLeadership(r);
  return cs;
}
