// The simulated world of one seed: N nodes, their disks, the network, the clients and the
// checkers, advanced one time unit at a time. Each unit: scheduled events (restarts, delayed
// leader faults), random faults (safety phase only), message deliveries, raft ticks, client
// proposals, then every live node's Ready handling. Everything random comes from forks of the
// seed's Prng, nodes are visited in id order, and the only asynchrony is the in-memory disk's
// already-resolved promises, awaited one at a time — so a seed replays exactly.
import { Prng } from '../src/base/prng.js';
import { ErrProposalDropped, ErrStepPeerNotFound } from '../src/raft/errors.js';
import { SnapshotStatus } from '../src/raft/raw-node.js';
import { MessageType, type ConfState, type Message, type Snapshot } from '../src/raft/types.js';
import { Checkers, SimFailure } from './checkers.js';
import { SimClock, TickSchedule } from './clock.js';
import { SimDisk } from './disk.js';
import { SimNetwork } from './network.js';
import { CrashBeforeSend, SimNode, type NodeEnv } from './node.js';
import type { StorageKind } from './node-storage.js';
import type { SwarmOptions } from './options.js';
import type { Op } from './state-machine.js';
import { Workload } from './workload.js';
import { Admin, currentLeader } from './admin.js';
import { WatchClients } from './watch-clients.js';
import { WatchHistoryRecorder } from './watch-history.js';
import { drawCommandValue } from './watch-ops.js';
import type { MvccParams } from './watch-store.js';

interface Event {
  at: number;
  kind: 'restart' | 'crash' | 'isolate' | 'rejoin';
  id: bigint;
}

/** True for the errors the simulated disk injects (fail-stop for the node, not a bug). */
export function isInjectedDiskError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message.includes('simulated') || e.message.includes('died in a crash')) return true;
  }
  return false;
}

export class Cluster implements NodeEnv {
  readonly clock = new SimClock();
  readonly checkers = new Checkers();
  readonly nodes: SimNode[] = [];
  readonly network: SimNetwork;
  readonly workload: Workload;
  readonly admin: Admin;
  private readonly faultPrng: Prng;
  private events: Event[] = [];
  liveness = false;
  core: bigint[] = [];
  /** Watch mode: the watch clients and the committed MVCC history (undefined otherwise). */
  readonly watch: WatchClients | undefined;
  readonly history: WatchHistoryRecorder | undefined;
  /** Work the watchable stores scheduled (catch-up steps), run once per time unit, in order. */
  private tasks: (() => void)[] = [];
  readonly stats = {
    crashes: 0,
    restarts: 0,
    failedRestarts: 0,
    partitions: 0,
    leaderFaults: 0,
    snapshotsSent: 0,
    pauses: 0,
  };

  constructor(
    prng: Prng,
    readonly opts: SwarmOptions,
    readonly kind: StorageKind,
    private readonly logger?: (line: string) => void,
  ) {
    this.network = new SimNetwork(prng.fork(), { ...opts.network });
    this.faultPrng = prng.fork();
    this.workload = new Workload(prng.fork(), opts.workload, this.checkers);
    const machines = Array.from({ length: opts.nodes }, (_, i) => BigInt(i + 1));
    const voters = machines.slice(0, opts.initialVoters);
    this.admin = new Admin(prng.fork(), opts.membershipRate, machines, voters);
    this.history = opts.watch === undefined ? undefined : new WatchHistoryRecorder();
    const mvcc: MvccParams | undefined =
      opts.watch === undefined
        ? undefined
        : {
            schedule: (fn) => this.tasks.push(fn),
            catchUpEventsPerStep: opts.watch.catchUpEventsPerStep,
            observer: this.history!,
          };
    for (const id of machines) {
      const p = prng.fork();
      const interval = p.intBetween(Math.ceil(opts.tickUnits * 0.8), Math.floor(opts.tickUnits * 1.2));
      const sched = new TickSchedule(interval, p.intBelow(interval));
      const conf = {
        voters: id <= voters.length ? voters : [],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      };
      this.nodes.push(
        new SimNode(id, new SimDisk(p.fork(), { ...opts.disk }), kind, p, opts.raft, sched, conf, mvcc),
      );
    }
    if (opts.watch !== undefined) {
      this.watch = new WatchClients(prng.fork(), opts.watch);
      const commands = prng.fork();
      const share = opts.watch.compactShare;
      this.workload.drawValue = () => drawCommandValue(commands, share);
    }
  }

  log(msg: string): void {
    this.logger?.(`[${this.clock.now}] ${msg}`);
  }

  private node(id: bigint): SimNode | undefined {
    return this.nodes[Number(id) - 1];
  }

  async boot(): Promise<void> {
    const voters = this.nodes.slice(0, this.opts.initialVoters).map((n) => n.id);
    const snap: Snapshot = {
      data: new Uint8Array(0),
      metadata: {
        index: 1n,
        term: 1n,
        confState: { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
      },
    };
    for (const n of this.nodes) {
      const faults = n.disk.faults;
      n.disk.faults = { writeErrorRate: 0, readErrorRate: 0, syncErrorRate: 0 };
      await this.kind.bootstrap(n.id, n.disk, n.id <= voters.length ? snap : undefined);
      await n.start(this);
      n.disk.faults = faults;
    }
  }

  send(m: Message): void {
    if (m.type === MessageType.MsgSnap) this.stats.snapshotsSent++;
    this.network.send(this.clock.now, m);
  }

  onApplied(id: bigint, op: Op): void {
    this.workload.onApplied(id, op);
  }

  onLeaderReplicating(id: bigint): boolean {
    const p = this.faultPrng;
    if (this.liveness || !p.chance(this.opts.faults.leaderFaultRate)) return false;
    if (this.events.some((e) => e.id === id && e.kind !== 'restart' && e.kind !== 'rejoin')) return false;
    this.stats.leaderFaults++;
    const kind = p.intBelow(4);
    if (kind === 0) return true;
    if (kind === 3) {
      // A stale leader: it sends these appends, then stops; it wakes up still believing it leads.
      this.pause(this.node(id)!, 'leader fault');
      return false;
    }
    const at = this.clock.now + p.intBetween(0, this.opts.network.maxDelay);
    this.schedule({ at, kind: kind === 1 ? 'crash' : 'isolate', id });
    return false;
  }

  /**
   * Unlike etcd's server, which stops a member once it applies its own removal, a removed node
   * keeps running: configurations take effect when applied, so after a crash that loses a commit
   * index the remaining members may need the removed node's vote to commit its removal again.
   */
  onConfApplied(cs: ConfState): void {
    this.admin.onConfApplied(cs);
  }

  onRemoved(id: bigint): void {
    this.log(`node ${id} applied its own removal`);
  }

  private schedule(e: Event): void {
    this.events.push(e);
  }

  crash(n: SimNode, why: string): void {
    if (!n.up) return;
    this.watch?.onCrash(n.id);
    n.crash();
    this.stats.crashes++;
    this.log(`node ${n.id} crashes (${why})`);
    if (!this.liveness || this.core.includes(n.id)) {
      const f = this.opts.faults;
      const delay = this.liveness ? 1 : this.faultPrng.intBetween(f.restartMin, f.restartMax);
      this.schedule({ at: this.clock.now + delay, kind: 'restart', id: n.id });
    }
  }

  private async restart(n: SimNode): Promise<void> {
    if (n.up) return;
    try {
      await n.start(this);
      this.stats.restarts++;
      this.log(`node ${n.id} restarts`);
    } catch (err) {
      if (!isInjectedDiskError(err)) throw err;
      this.stats.failedRestarts++;
      n.disk.crash();
      this.schedule({ at: this.clock.now + this.opts.faults.restartMin, kind: 'restart', id: n.id });
    }
  }

  private async runEvents(): Promise<void> {
    const now = this.clock.now;
    const due = this.events.filter((e) => e.at <= now);
    if (due.length === 0) return;
    this.events = this.events.filter((e) => e.at > now);
    for (const e of due) {
      const n = this.node(e.id)!;
      if (e.kind === 'restart') await this.restart(n);
      else if (e.kind === 'crash') this.crash(n, 'leader fault');
      else if (e.kind === 'isolate') {
        for (const m of this.nodes) if (m !== n) this.network.cutBoth(n.id, m.id);
        const f = this.opts.faults;
        this.schedule({
          at: now + this.faultPrng.intBetween(f.restartMin, f.restartMax),
          kind: 'rejoin',
          id: n.id,
        });
        this.log(`node ${n.id} isolated (leader fault)`);
      } else if (!this.liveness) {
        this.network.healNode(n.id);
        this.log(`node ${n.id} rejoins`);
      }
    }
  }

  private randomFaults(): void {
    const f = this.opts.faults;
    const p = this.faultPrng;
    if (p.chance(f.partitionRate)) this.changePartition();
    for (const n of this.nodes) if (n.up && p.chance(f.crashRate)) this.crash(n, 'random');
    for (const n of this.nodes) if (this.active(n) && p.chance(f.pauseRate)) this.pause(n, 'random');
  }

  private pause(n: SimNode, why: string): void {
    const timeout = this.opts.raft.electionTick * this.opts.tickUnits;
    this.stats.pauses++;
    n.pausedUntil = this.clock.now + this.faultPrng.intBetween(Math.ceil(timeout / 2), 3 * timeout);
    this.log(`node ${n.id} pauses until ${n.pausedUntil} (${why})`);
  }

  /** Up and not paused. */
  private active(n: SimNode): boolean {
    return n.up && n.pausedUntil <= this.clock.now;
  }

  private changePartition(): void {
    const p = this.faultPrng;
    const ids = this.nodes.map((n) => n.id);
    this.stats.partitions++;
    if (p.chance(this.opts.faults.healShare) || ids.length < 2) {
      this.network.heal();
      this.log('network healed');
      return;
    }
    const kind = p.intBelow(4);
    const shuffled = p.shuffle([...ids]);
    if (kind === 0) {
      const cut = p.intBetween(1, ids.length - 1);
      this.network.split(shuffled.slice(0, cut), shuffled.slice(cut));
    } else if (kind === 1) {
      for (const other of shuffled.slice(1)) this.network.cutBoth(shuffled[0]!, other);
    } else if (kind === 2) {
      // One way: the node's messages get out but nothing reaches it (or the reverse).
      const inbound = p.chance(0.5);
      for (const other of shuffled.slice(1)) {
        if (inbound) this.network.cutOneWay(other, shuffled[0]!);
        else this.network.cutOneWay(shuffled[0]!, other);
      }
    } else {
      this.network.cutOneWay(shuffled[0]!, shuffled[1]!);
    }
    this.log(`partition: ${this.network.describeCuts()}`);
  }

  private deliver(): void {
    for (const { msg, delivered } of this.network.due(this.clock.now)) {
      const from = this.node(msg.from);
      const to = this.node(msg.to);
      const arrives = delivered && to !== undefined && to.up;
      if (arrives && to.pausedUntil > this.clock.now) {
        this.network.holdUntil(to.pausedUntil, msg);
        continue;
      }
      if (msg.type === MessageType.MsgSnap && from?.raw !== undefined) {
        from.raw.reportSnapshot(
          msg.to,
          arrives ? SnapshotStatus.SnapshotFinish : SnapshotStatus.SnapshotFailure,
        );
      } else if (!arrives && msg.type === MessageType.MsgApp && from?.raw !== undefined) {
        from.raw.reportUnreachable(msg.to);
      }
      if (!arrives) continue;
      try {
        to.raw!.step(msg);
      } catch (err) {
        // A forwarded proposal that reaches a node with no leader (or a transferring leader) is dropped.
        if (err !== ErrStepPeerNotFound && err !== ErrProposalDropped) throw err;
      }
      to.observe(this);
    }
  }

  /** One time unit. */
  async unit(): Promise<void> {
    await this.runEvents();
    if (!this.liveness) this.randomFaults();
    this.deliver();
    const now = this.clock.now;
    for (const n of this.nodes) {
      if (!this.active(n) || !n.schedule.due(now)) continue;
      n.raw!.tick();
      n.observe(this);
    }
    const targets = this.nodes.filter((n) => this.active(n) && (!this.liveness || this.core.includes(n.id)));
    this.workload.step(now, targets);
    if (this.opts.membershipRate > 0) this.admin.step(this.nodes, this.liveness, (m) => this.log(m));
    for (const n of this.nodes) {
      if (!this.active(n)) continue;
      try {
        await n.process(this);
      } catch (err) {
        if (err instanceof CrashBeforeSend) {
          this.crash(n, 'leader fault before sending');
          continue;
        }
        if (err instanceof SimFailure || !isInjectedDiskError(err)) throw err;
        this.crash(n, `disk: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (this.watch !== undefined) {
      const due = this.tasks;
      this.tasks = [];
      for (const fn of due) fn();
      this.watch.step(
        this.nodes.filter((n) => this.active(n)),
        this.workload.active,
      );
    }
    this.clock.advance();
  }

  /** The machines the cluster's configuration names (per the current leader, else all core nodes). */
  members(): SimNode[] {
    const leader = currentLeader(this.nodes);
    const core = this.nodes.filter((n) => this.core.includes(n.id));
    if (leader === undefined || this.opts.membershipRate === 0) return core;
    const cs = leader.confState;
    const ids = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
    return core.filter((n) => ids.has(n.id));
  }

  checkLogMatching(): void {
    this.checkers.checkLogMatching(
      this.nodes.filter((n) => n.up).map((n) => ({ id: n.id, entries: n.stableEntries() })),
    );
  }

  /** Ends the safety phase: a majority core is healed, restarted and left alone; the rest stay cut off. */
  async enterLiveness(): Promise<void> {
    this.liveness = true;
    const p = this.faultPrng;
    const ids = p.shuffle(this.nodes.map((n) => n.id));
    // With membership changes the voters are a moving target: every machine is healed instead.
    const coreSize = this.opts.membershipRate > 0 ? ids.length : Math.floor(ids.length / 2) + 1;
    this.core = ids.slice(0, coreSize).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const rest = ids.filter((id) => !this.core.includes(id));
    this.events = this.events.filter((e) => e.kind === 'restart' && this.core.includes(e.id));
    for (const n of this.nodes) {
      n.disk.faults = { writeErrorRate: 0, readErrorRate: 0, syncErrorRate: 0 };
      n.pausedUntil = 0;
    }
    this.network.heal();
    this.network.split(this.core, rest);
    this.network.opts = { ...this.network.opts, lossRate: Math.min(this.network.opts.lossRate, 0.05) };
    if (!this.opts.raft.preVote) {
      // Without pre-vote, candidates with stale logs keep bumping the term and resetting the
      // timers of the one node that could win, which may last arbitrarily long (Raft thesis §9.6).
      // Liveness is owed only with pre-vote, so the core restarts with it turned on.
      this.opts.raft.preVote = true;
      for (const id of this.core) this.crash(this.node(id)!, 'restart with pre-vote for the liveness phase');
    }
    for (const id of this.core) await this.restart(this.node(id)!);
    this.workload.mark();
    this.log(`liveness phase: core ${this.core.join(',')}`);
  }
}
