// One member's raft loop (DESIGN §1, etcd's raftNode): a RawNode over a MemoryStorage that mirrors
// the WAL, ticked by a timer, fed by the PeerTransport, and drained Ready by Ready:
//   1. the leader sends its messages at once (it may replicate before its own fsync);
//   2. the WAL appends the Ready's entries and hard state with one fdatasync (group commit), while
//      the committed entries of the previous Ready are applied (their entries are durable already);
//   3. a follower sends its messages once persisted; ReadStates go to the read-index waiters;
//   4. the committed entries of this Ready are applied on the next turn (or at once when they hold
//      a conf change, which raft must see before it goes on), and the Ready is advanced.
// Committed entries are applied only once they are durable here, so a client is never answered
// for an entry a crash of this member could take back. Heartbeats and their responses are sent
// from the tick and the transport's callback even while the loop waits for the disk, so elections
// are not disturbed by a slow fsync.
import { Prng } from '../base/prng.js';
import type { Logger } from '../base/index.js';
import { StateType } from '../raft/config.js';
import { ErrStepPeerNotFound } from '../raft/errors.js';
import type { RaftLogger } from '../raft/logger.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { SoftState } from '../raft/raft.js';
import type { ReadState } from '../raft/read-only.js';
import { RawNode, SnapshotStatus, type Ready } from '../raft/raw-node.js';
import {
  EntryType,
  MessageType,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../raft/types.js';
import type { Wal, Snapshotter } from '../wal/index.js';
import type { PeerTransport } from './peer-transport.js';

export interface RaftNodeHooks {
  /** Applies committed, durable entries in order (conf changes through node.applyConfChange). */
  apply(entries: Entry[]): void;
  /** Installs a snapshot from the leader (already persisted): swap in its backend. */
  restoreSnapshot(snap: Snapshot): Promise<void>;
  onSoftState(ss: SoftState): void;
  onReadStates(rs: ReadState[]): void;
  /** Sends a MsgSnap with the state machine's bytes. */
  sendSnapshot(m: Message): void;
  /** Proposals waiting for their apply (for the inline-sync heuristic). */
  waitingCount(): number;
  /** The loop failed: the member must stop. */
  fatal(err: unknown): void;
}

export interface RaftNodeOptions {
  id: bigint;
  electionTicks: number;
  heartbeatMs: number;
  preVote: boolean;
  /** Raft's applied index at start: committed entries up to it are not handed out again. */
  applied: bigint;
  seed: number;
}

export function raftLogger(logger: Logger): RaftLogger {
  return {
    debug: (m) => logger.debug(m),
    info: (m) => logger.info(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
    panic: (m): never => {
      logger.error(m);
      throw new Error(m);
    },
  };
}

const URGENT = new Set<number>([MessageType.MsgHeartbeat, MessageType.MsgHeartbeatResp]);

export class RaftNode {
  readonly node: RawNode;
  private loopRunning = false;
  private stopped = false;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** The term of the last hard state made durable. */
  private persistedTerm: bigint;

  constructor(
    private readonly opts: RaftNodeOptions,
    readonly storage: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly transport: PeerTransport,
    private readonly hooks: RaftNodeHooks,
    logger: Logger,
  ) {
    this.persistedTerm = storage.initialState().hardState.term;
    this.node = new RawNode({
      id: opts.id,
      electionTick: opts.electionTicks,
      heartbeatTick: 1,
      storage,
      applied: opts.applied,
      maxSizePerMsg: 1024 * 1024,
      maxCommittedSizePerReady: 64 * 1024 * 1024,
      maxInflightMsgs: 512,
      checkQuorum: true,
      preVote: opts.preVote,
      logger: raftLogger(logger),
      prng: new Prng(opts.seed),
    });
  }

  start(): void {
    this.ticker = setInterval(() => this.tick(), this.opts.heartbeatMs);
    this.ticker.unref();
    this.campaignIfAlone();
    this.kick();
  }

  get isLeader(): boolean {
    return this.node.raft.state === StateType.StateLeader;
  }

  get lead(): bigint {
    return this.node.raft.lead;
  }

  get term(): bigint {
    return this.node.raft.term;
  }

  get commitIndex(): bigint {
    return this.node.raft.raftLog.committed;
  }

  /** A lone voter need not wait an election timeout: it elects itself at once, as etcd's does on start. */
  private campaignIfAlone(): void {
    const r = this.node.raft;
    if (r.state === StateType.StateLeader) return;
    const voters = r.prs.voterNodes();
    if (voters.length === 1 && voters[0] === this.opts.id && r.prs.learnerNodes().length === 0) {
      this.node.campaign();
    }
  }

  private tick(): void {
    if (this.stopped) return;
    this.node.tick();
    this.afterInput();
  }

  /** A message from a peer. */
  step(m: Message): void {
    if (this.stopped) return;
    try {
      this.node.step(m);
    } catch (err) {
      if (err !== ErrStepPeerNotFound) throw err;
      return;
    }
    this.afterInput();
  }

  reportUnreachable(id: bigint): void {
    if (this.stopped) return;
    this.node.reportUnreachable(id);
  }

  reportSnapshot(id: bigint, ok: boolean): void {
    if (this.stopped) return;
    this.node.reportSnapshot(id, ok ? SnapshotStatus.SnapshotFinish : SnapshotStatus.SnapshotFailure);
    this.kick();
  }

  /** After a tick or a message: send heartbeats now if the loop is busy with the disk, else run it. */
  private afterInput(): void {
    if (this.loopRunning) this.sendUrgent();
    else this.kick();
  }

  /** Heartbeats (and their answers) need no durable state unless the term moved since the last sync. */
  private sendUrgent(): void {
    const r = this.node.raft;
    if (r.msgs.length === 0 || r.term !== this.persistedTerm) return;
    const urgent = r.msgs.filter((m) => URGENT.has(m.type));
    if (urgent.length === 0) return;
    r.msgs = r.msgs.filter((m) => !URGENT.has(m.type));
    this.transport.send(urgent);
  }

  /** Makes sure the loop runs; it starts on the next event-loop turn so requests of one read batch. */
  kick(): void {
    if (this.loopRunning || this.stopped) return;
    this.loopRunning = true;
    // Not in this turn even for a lone proposal: the loop would then sync it inline while more
    // requests wait unread on the sockets, one fdatasync each (100 clients fell to a quarter).
    new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runLoop())
      .then(
        () => {
          this.loopRunning = false;
          // Input that arrived while the loop was finishing.
          if (!this.stopped && this.node.hasReady()) this.kick();
        },
        (err: unknown) => {
          this.loopRunning = false;
          this.stopped = true;
          this.hooks.fatal(err);
        },
      );
  }

  private async runLoop(): Promise<void> {
    let carry: Entry[] = [];
    while (!this.stopped) {
      const rd = this.node.hasReady() ? this.node.ready() : undefined;
      if (rd === undefined) {
        if (carry.length === 0) break;
        this.hooks.apply(carry);
        carry = [];
        continue;
      }
      if (rd.softState !== undefined) this.hooks.onSoftState(rd.softState);
      const leader = this.isLeader;
      if (leader) this.send(rd.messages);
      if (rd.snapshot !== undefined) {
        if (carry.length > 0) this.hooks.apply(carry);
        carry = [];
        await this.persistSnapshot(rd, rd.snapshot);
      } else {
        carry = await this.persist(rd, carry);
      }
      if (!leader) this.send(rd.messages);
      if (rd.readStates.length > 0) this.hooks.onReadStates(rd.readStates);
      if (rd.committedEntries.some((e) => e.type !== EntryType.Normal)) {
        this.hooks.apply(rd.committedEntries);
      } else {
        carry = rd.committedEntries;
      }
      this.node.advance(rd);
      this.campaignIfAlone();
    }
    if (carry.length > 0) this.hooks.apply(carry);
  }

  /**
   * Writes the Ready's entries and hard state, applying `carry` (durable already) while the disk
   * works. A lone write with nothing to apply meanwhile syncs on this thread: cheaper than the
   * thread pool's round trip when one client waits. Returns nothing left to carry.
   */
  private async persist(rd: Ready, carry: Entry[]): Promise<Entry[]> {
    const write = rd.entries.length > 0 || rd.hardState !== undefined;
    const inlineSync = carry.length === 0 && rd.entries.length <= 1 && this.hooks.waitingCount() <= 1;
    const saved = write ? this.wal.save(rd.hardState, rd.entries, undefined, { inlineSync }) : undefined;
    try {
      if (carry.length > 0) this.hooks.apply(carry);
    } finally {
      if (saved !== undefined) await saved;
    }
    this.stored(rd.entries, rd.hardState);
    return [];
  }

  private async persistSnapshot(rd: Ready, snap: Snapshot): Promise<void> {
    const { index, term } = snap.metadata;
    await this.snapshotter.save(snap);
    await this.wal.save(rd.hardState, rd.entries, { index, term });
    this.storage.applySnapshot(snap);
    this.stored(rd.entries, rd.hardState);
    await this.hooks.restoreSnapshot(snap);
  }

  private stored(entries: Entry[], hs: HardState | undefined): void {
    if (entries.length > 0) this.storage.append(entries);
    if (hs !== undefined) {
      this.storage.setHardState(hs);
      this.persistedTerm = hs.term;
    }
  }

  private send(msgs: Message[]): void {
    if (msgs.length === 0) return;
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.hooks.sendSnapshot(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.transport.send(plain);
  }

  /** Stops ticking and lets the loop finish its current Ready. */
  async stop(): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.stopped = true;
    while (this.loopRunning) await new Promise((r) => setTimeout(r, 1));
  }
}
