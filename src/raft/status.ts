// A snapshot of a node's state for callers (etcd-io/raft's Status/BasicStatus): its hard and soft
// state, applied index, and — on the leader — a copy of every peer's progress. Copies, so the
// caller can keep them while the node moves on.
import { StateType } from './config.js';
import type { Raft } from './raft.js';
import type { Progress } from './tracker/progress.js';
import type { TrackerConfig } from './tracker/tracker.js';

export interface BasicStatus {
  id: bigint;
  term: bigint;
  vote: bigint;
  commit: bigint;
  lead: bigint;
  raftState: StateType;
  applied: bigint;
  leadTransferee: bigint;
}

export interface Status extends BasicStatus {
  config: TrackerConfig;
  /** Every peer's progress (ascending ID) when this node is the leader; empty otherwise. */
  progress: Map<bigint, Progress>;
}

export function getBasicStatus(r: Raft): BasicStatus {
  return {
    id: r.id,
    term: r.term,
    vote: r.vote,
    commit: r.raftLog.committed,
    lead: r.lead,
    raftState: r.state,
    applied: r.raftLog.applied,
    leadTransferee: r.leadTransferee,
  };
}

export function getStatus(r: Raft): Status {
  const progress = new Map<bigint, Progress>();
  if (r.state === StateType.StateLeader) r.prs.visit((id, pr) => progress.set(id, pr.clone()));
  return { ...getBasicStatus(r), config: r.prs.config.clone(), progress };
}
