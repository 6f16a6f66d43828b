// The simulated operator: now and then it changes the membership through the current leader, as
// etcd's member add/remove/promote do — adding a spare machine as a voter or learner, promoting a
// learner, demoting or removing a voter (the leader included) or a learner — one change at a time
// or several at once through a joint configuration (V1 ConfChange, V2 with transition Auto,
// JointImplicit or JointExplicit), and leaving an explicit joint configuration. Changes are built
// against the leader's applied configuration and proposed only to a node that leads right now
// (raft drops a change while an earlier one is unapplied), so every committed change is valid. A
// removed machine is never added back (etcd never reuses a member ID).
import type { Prng } from '../src/base/prng.js';
import { ErrProposalDropped } from '../src/raft/errors.js';
import { StateType } from '../src/raft/raft.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
} from '../src/raft/types.js';
import type { SimNode } from './node.js';

const EMPTY = new Uint8Array(0);

function describe(ccs: readonly ConfChangeSingle[]): string {
  const t = ['v', 'r', 'u', 'l'];
  return ccs.map((c) => `${t[c.type]}${c.nodeId}`).join(' ');
}

export class Admin {
  private readonly retired = new Set<bigint>();
  /** Machines named by any applied configuration so far. */
  private readonly members = new Set<bigint>();
  readonly stats = { proposed: 0, dropped: 0 };

  constructor(
    private readonly prng: Prng,
    /** Probability per time unit of an attempt. */
    private readonly rate: number,
    private readonly machines: readonly bigint[],
    initialVoters: readonly bigint[],
  ) {
    for (const id of initialVoters) this.members.add(id);
  }

  /** A configuration some node applied: a machine it no longer names is never added again. */
  onConfApplied(cs: ConfState): void {
    const now = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
    for (const id of this.members) if (!now.has(id)) this.retired.add(id);
    for (const id of now) this.members.add(id);
  }

  /** One time unit: maybe propose a change (in the liveness phase only a pending explicit leave). */
  step(nodes: readonly SimNode[], liveness: boolean, log: (msg: string) => void): void {
    if (!this.prng.chance(liveness ? 0.01 : this.rate)) return;
    const leader = currentLeader(nodes);
    if (leader === undefined) return;
    const cs = leader.confState;
    let cc: ConfChange | ConfChangeV2 | undefined;
    if (cs.votersOutgoing.length > 0) {
      if (!cs.voters.includes(leader.id) && this.prng.chance(0.5)) {
        // Leaving the joint configuration removes this leader: half the time the operator hands
        // leadership to an incoming voter first, half the time the core has to do it.
        leader.raw!.transferLeader(this.prng.pick(cs.voters));
        return;
      }
      if (cs.autoLeave) return;
      cc = { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY };
    } else if (!liveness) {
      cc = this.build(cs);
    }
    if (cc === undefined) return;
    const changes = 'changes' in cc ? cc.changes : [cc];
    if (
      changes.some((c) => c.nodeId === leader.id && c.type !== ConfChangeType.AddNode) &&
      this.prng.chance(0.5)
    ) {
      // Half the time the operator moves leadership away before removing or demoting the leader,
      // as etcd's operators do; the other half the leader applies its own removal and must hand
      // leadership over itself.
      const to = cs.voters.filter((id) => id !== leader.id);
      if (to.length > 0) leader.raw!.transferLeader(this.prng.pick(to));
      return;
    }
    for (const c of changes) if (c.type === ConfChangeType.RemoveNode) this.retired.add(c.nodeId);
    this.stats.proposed++;
    try {
      leader.raw!.proposeConfChange(cc);
      const what =
        'changes' in cc ? `v2/${cc.transition} [${describe(cc.changes)}]` : `v1 [${describe([cc])}]`;
      log(`admin proposes ${what} to node ${leader.id}`);
    } catch (err) {
      if (err !== ErrProposalDropped) throw err;
      this.stats.dropped++;
    }
  }

  private build(cs: ConfState): ConfChange | ConfChangeV2 | undefined {
    const voters = new Set(cs.voters);
    const learners = new Set(cs.learners);
    const n = this.prng.chance(0.7) ? 1 : this.prng.intBetween(2, 3);
    const ccs: ConfChangeSingle[] = [];
    const touched = new Set<bigint>();
    for (let i = 0; i < n; i++) {
      const c = this.pickChange(voters, learners, touched);
      if (c === undefined) break;
      ccs.push(c);
      touched.add(c.nodeId);
    }
    if (ccs.length === 0 || voters.size === 0) return undefined;
    // A change takes effect when a node applies it. Until every member has learned that it is
    // committed, a member that has not may still need a quorum of the old voters — so the old
    // voters that stay must form one by themselves. Otherwise a crash that loses a commit index,
    // or a removed node with a longer log that votes no, blocks elections for good (etcd warns
    // the same for shrinking a two-member cluster).
    const staying = cs.voters.filter((id) => voters.has(id)).length;
    if (staying < Math.floor(cs.voters.length / 2) + 1) return undefined;
    if (ccs.length === 1 && this.prng.chance(0.4)) {
      const c = ccs[0]!;
      return { type: c.type, nodeId: c.nodeId, context: EMPTY, id: 0n };
    }
    const transition = this.prng.pick([
      ConfChangeTransition.Auto,
      ConfChangeTransition.JointImplicit,
      ConfChangeTransition.JointExplicit,
    ]);
    return { transition, changes: ccs, context: EMPTY };
  }

  /** One change applied to the model (voters, learners); undefined when none is possible. */
  private pickChange(
    voters: Set<bigint>,
    learners: Set<bigint>,
    touched: Set<bigint>,
  ): ConfChangeSingle | undefined {
    const spares = this.machines.filter(
      (id) => !voters.has(id) && !learners.has(id) && !this.retired.has(id),
    );
    const vs = [...voters].filter((id) => !touched.has(id));
    const ls = [...learners].filter((id) => !touched.has(id));
    const options: (() => ConfChangeSingle)[] = [];
    const fresh = spares.filter((id) => !touched.has(id));
    if (fresh.length > 0) {
      options.push(() => add(voters, learners, this.prng.pick(fresh), ConfChangeType.AddNode));
      options.push(() => add(voters, learners, this.prng.pick(fresh), ConfChangeType.AddLearnerNode));
    }
    if (ls.length > 0) options.push(() => add(voters, learners, this.prng.pick(ls), ConfChangeType.AddNode));
    if (vs.length > 0 && voters.size > 1) {
      options.push(() => add(voters, learners, this.prng.pick(vs), ConfChangeType.AddLearnerNode));
      options.push(() => remove(voters, learners, this.prng.pick(vs)));
    }
    if (ls.length > 0) options.push(() => remove(voters, learners, this.prng.pick(ls)));
    return options.length === 0 ? undefined : this.prng.pick(options)();
  }
}

function add(voters: Set<bigint>, learners: Set<bigint>, id: bigint, type: ConfChangeType): ConfChangeSingle {
  if (type === ConfChangeType.AddNode) {
    learners.delete(id);
    voters.add(id);
  } else {
    voters.delete(id);
    learners.add(id);
  }
  return { type, nodeId: id };
}

function remove(voters: Set<bigint>, learners: Set<bigint>, id: bigint): ConfChangeSingle {
  voters.delete(id);
  learners.delete(id);
  return { type: ConfChangeType.RemoveNode, nodeId: id };
}

/** The live node that leads the highest term, if any. */
export function currentLeader(nodes: readonly SimNode[]): SimNode | undefined {
  let best: SimNode | undefined;
  let bestTerm = -1n;
  for (const n of nodes) {
    if (!n.up) continue;
    const st = n.raw!.basicStatus();
    if (st.raftState === StateType.StateLeader && st.term > bestTerm) {
      best = n;
      bestTerm = st.term;
    }
  }
  return best;
}
