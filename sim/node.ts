// One simulated raft node: a RawNode over a NodeLog on the node's simulated disk, and the tiny
// state machine it applies committed entries to (in watch mode also an MVCC store with watchers,
// watch-store.ts). The node follows raft's application loop for each
// Ready: persist (snapshot, entries, hard state) before anything else, then send the messages, then
// apply the committed entries, then advance. A disk error at any point stops the node (fail-stop);
// `crash` drops every piece of memory the process had, and `start` rebuilds the node from its disk
// alone. The checkers see every leader, commit, apply and snapshot restore.
import type { Prng } from '../src/base/prng.js';
import { RawNode, type Ready } from '../src/raft/raw-node.js';
import { StateType } from '../src/raft/raft.js';
import type { Checkers } from './checkers.js';
import type { SimDisk } from './disk.js';
import type { NodeLog, StorageKind } from './node-storage.js';
import { StateMachine, type Op } from './state-machine.js';
import { EntryType, MessageType, type ConfState, type Entry, type Message } from '../src/raft/types.js';
import { decodeConfChange, decodeConfChangeV2 } from '../src/raft/confchange/codec.js';
import type { TickSchedule } from './clock.js';
import { joinSnapshot, MvccState, splitSnapshot, type MvccParams } from './watch-store.js';

export interface RaftParams {
  electionTick: number;
  heartbeatTick: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  checkQuorum: boolean;
  preVote: boolean;
  /** Take a snapshot and compact after this many applied entries. */
  snapshotEvery: number;
  /** Entries kept below the snapshot index when compacting. */
  compactKeep: number;
}

/** What a node needs from the run: the network, the checkers and the workload. */
export interface NodeEnv {
  readonly checkers: Checkers;
  send(m: Message): void;
  /** Node `id` applied an entry carrying `op` (its state now holds `op`). */
  onApplied(id: bigint, op: Op): void;
  /**
   * Node `id`, a leader, is about to send MsgApp with entries (the Figure-8 fault injector watches
   * this). Returns true to crash the node before it sends anything.
   */
  onLeaderReplicating(id: bigint): boolean;
  /** Some node applied a configuration change (checkers already told). */
  onConfApplied(cs: ConfState): void;
  /** Node `id` applied a configuration that no longer names it. */
  onRemoved(id: bigint): void;
  log(msg: string): void;
}

/** Thrown by `process` when the fault injector kills the node between its write and its sends. */
export class CrashBeforeSend extends Error {
  override name = 'CrashBeforeSend';
}

export class SimNode {
  raw: RawNode | undefined;
  private nodeLog: NodeLog | undefined;
  sm: StateMachine | undefined;
  /** Watch mode: the MVCC store and its watchers, applied from the same entries. */
  mvcc: MvccState | undefined;
  private commit = 0n;
  /** Highest index whose committed entry was reported to the checkers. */
  private checkedCommit = 0n;
  private lastSnap = 0n;
  /** The configuration as of the last applied entry (or restored snapshot). */
  confState: ConfState;
  /** A process pause (GC, VM steal, SIGSTOP): until then the node neither ticks nor handles anything. */
  pausedUntil = 0;
  readonly stats = { starts: 0, crashes: 0, applied: 0, snapshots: 0, restored: 0 };

  constructor(
    readonly id: bigint,
    readonly disk: SimDisk,
    private readonly kind: StorageKind,
    private readonly prng: Prng,
    private readonly params: RaftParams,
    readonly schedule: TickSchedule,
    initialConf: ConfState,
    private readonly mvccParams?: MvccParams,
  ) {
    this.confState = initialConf;
  }

  get up(): boolean {
    return this.raw !== undefined;
  }

  /** Boots from the disk; throws (and stays down) if the disk fails. */
  async start(env: NodeEnv): Promise<void> {
    const log = await this.kind.open(this.id, this.disk);
    const snap = log.storage.snapshot();
    const { hardState } = log.storage.initialState();
    this.confState = snap.metadata.confState;
    const state = this.splitState(snap.data);
    this.sm = StateMachine.decode(snap.metadata.index, state.sm);
    if (this.mvccParams !== undefined) {
      this.mvcc = new MvccState(this.id, snap.metadata.index, state.mvcc, this.mvccParams);
    }
    if (snap.metadata.index > 0n)
      env.checkers.onSnapshotPoint(this.id, snap.metadata.index, snap.metadata.term);
    env.checkers.onDigest(this.id, snap.metadata.index, this.sm.digest, 'restarting from a snapshot at');
    this.commit = hardState.commit;
    this.checkedCommit = snap.metadata.index;
    this.lastSnap = snap.metadata.index;
    this.nodeLog = log;
    this.raw = new RawNode({
      id: this.id,
      electionTick: this.params.electionTick,
      heartbeatTick: this.params.heartbeatTick,
      storage: log.storage,
      applied: snap.metadata.index,
      maxSizePerMsg: this.params.maxSizePerMsg,
      maxInflightMsgs: this.params.maxInflightMsgs,
      checkQuorum: this.params.checkQuorum,
      preVote: this.params.preVote,
      prng: this.prng.fork(),
    });
    this.stats.starts++;
    this.reportCommitted(env);
  }

  /** A power cut: the process and every unsynced byte are gone. */
  crash(): void {
    this.raw = undefined;
    this.nodeLog = undefined;
    this.sm = undefined;
    this.mvcc?.close();
    this.mvcc = undefined;
    this.disk.crash();
    this.stats.crashes++;
  }

  /** Reports this node to the election-safety checker if it is a leader now. */
  observe(env: NodeEnv): void {
    const st = this.raw?.basicStatus();
    if (st === undefined || st.raftState !== StateType.StateLeader) return;
    env.checkers.onLeader(this.id, st.term);
    env.checkers.onLeaderConfig(this.id, st.term, this.confState, st.leadTransferee);
  }

  /** Handles every pending Ready. Throws on a disk error (the caller crashes the node). */
  async process(env: NodeEnv): Promise<void> {
    while (this.raw !== undefined && this.raw.hasReady()) {
      const rd = this.raw.ready();
      await this.handle(env, rd);
    }
  }

  private async handle(env: NodeEnv, rd: Ready): Promise<void> {
    const raw = this.raw!;
    const log = this.nodeLog!;
    if (rd.softState !== undefined && rd.softState.raftState === StateType.StateLeader) {
      const term = raw.basicStatus().term;
      env.checkers.onLeader(this.id, term);
      env.log(`node ${this.id} is leader of term ${term}`);
    }
    const snap = rd.snapshot !== undefined && rd.snapshot.metadata.index > 0n ? rd.snapshot : undefined;
    await log.save({ hardState: rd.hardState, entries: rd.entries, snapshot: snap, mustSync: rd.mustSync });
    if (snap !== undefined)
      this.restoreSnapshot(env, snap.metadata.index, snap.data, snap.metadata.confState);
    if (rd.hardState !== undefined && rd.hardState.commit > this.commit) this.commit = rd.hardState.commit;
    this.reportCommitted(env);
    const replicates = rd.messages.some((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
    if (
      replicates &&
      raw.basicStatus().raftState === StateType.StateLeader &&
      env.onLeaderReplicating(this.id)
    ) {
      // The process dies after its write and before its messages leave: the entries exist on this
      // node's disk only.
      throw new CrashBeforeSend(`node ${this.id} crashes before sending its appends`);
    }
    for (const m of rd.messages) env.send(m);
    let confChanged = false;
    for (const e of rd.committedEntries) confChanged = this.applyEntry(env, e) || confChanged;
    this.mvcc?.applyEntries(rd.committedEntries);
    raw.advance(rd);
    await this.maybeSnapshot(confChanged);
  }

  private restoreSnapshot(env: NodeEnv, index: bigint, data: Uint8Array, cs: ConfState): void {
    const state = this.splitState(data);
    this.sm = StateMachine.decode(index, state.sm);
    this.mvcc?.restore(index, state.mvcc);
    this.confState = cs;
    this.lastSnap = index;
    if (index > this.checkedCommit) this.checkedCommit = index;
    if (index > this.commit) this.commit = index;
    this.stats.restored++;
    env.checkers.onDigest(this.id, index, this.sm.digest, 'restoring a snapshot at');
  }

  /** Reports the stable entries up to the commit index that the checkers have not seen from us. */
  private reportCommitted(env: NodeEnv): void {
    const s = this.nodeLog!.storage;
    if (this.commit <= this.checkedCommit) return;
    let lo = this.checkedCommit + 1n;
    if (lo < s.firstIndex()) lo = s.firstIndex();
    const hi = this.commit < s.lastIndex() ? this.commit : s.lastIndex();
    if (hi >= lo)
      for (const e of s.entries(lo, hi + 1n, Number.MAX_SAFE_INTEGER)) env.checkers.onCommitted(this.id, e);
    this.checkedCommit = hi > this.checkedCommit ? hi : this.checkedCommit;
  }

  /** Applies one committed entry; returns true if it changed the configuration. */
  private applyEntry(env: NodeEnv, e: Entry): boolean {
    const sm = this.sm!;
    const op = sm.apply(e);
    this.stats.applied++;
    env.checkers.onApply(this.id, e, this.commit, sm.digest);
    if (e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2) {
      const cc = e.type === EntryType.ConfChange ? decodeConfChange(e.data) : decodeConfChangeV2(e.data);
      this.confState = this.raw!.applyConfChange(cc);
      env.checkers.onConfState(this.id, e.index, this.confState);
      env.onConfApplied(this.confState);
      const cs = this.confState;
      if (
        ![cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].some((ids) => ids.includes(this.id))
      ) {
        env.onRemoved(this.id);
      }
      return true;
    }
    if (op !== undefined) env.onApplied(this.id, op);
    return false;
  }

  /**
   * Snapshots every `snapshotEvery` applied entries, and after every membership change: raft
   * refuses a snapshot whose configuration does not name the receiver, so a machine that joins
   * can only be caught up from a snapshot taken after it was added.
   */
  private async maybeSnapshot(force: boolean): Promise<void> {
    const sm = this.sm!;
    if (sm.applied === this.lastSnap) return;
    if (!force && sm.applied - this.lastSnap < BigInt(this.params.snapshotEvery)) return;
    const keep = BigInt(this.params.compactKeep);
    const compactTo = sm.applied - keep > this.lastSnap ? sm.applied - keep : this.lastSnap;
    const data = this.mvcc === undefined ? sm.encode() : joinSnapshot(sm.encode(), this.mvcc.encode());
    await this.nodeLog!.snapshotAndCompact(sm.applied, this.confState, data, compactTo);
    this.lastSnap = sm.applied;
    this.stats.snapshots++;
  }

  /** A snapshot's payload: the toy state alone, or in watch mode the toy state and the MVCC backend. */
  private splitState(data: Uint8Array): { sm: Uint8Array; mvcc: Uint8Array } {
    return this.mvccParams === undefined ? { sm: data, mvcc: data } : splitSnapshot(data);
  }

  stableEntries(): ReturnType<NodeLog['stableEntries']> {
    return this.nodeLog!.stableEntries();
  }
}
