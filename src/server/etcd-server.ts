// The EtcdServer facade: one member's raft node, proposals and their waiters, apply, linearizable
// reads, membership and the read/write entry points the API layer calls. Every mutation takes the
// one write path of DESIGN §1: encode as InternalRaftRequest → raft (a follower forwards it to the
// leader) → WAL append + fdatasync → apply in one backend transaction together with the applied
// index → wake the waiting request. Cluster operations live in cluster-ops.ts, the raft loop in
// raft-node.ts, snapshots in snapshots.ts. The member's WatchableStore lives here, not in the
// Applier: it survives a snapshot replacing the backend (and with it the Applier) and is rebound.
import { assert, EtcdError, Err, type Logger } from '../base/index.js';
import type {
  AlarmMember,
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from '../generated/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType, InternalRaftRequest } from '../generated/etcdserverpb.js';
import { WatchableStore } from '../mvcc/watchable-store.js';
import type { SoftState } from '../raft/raft.js';
import { None, type ConfChange, type Entry } from '../raft/types.js';
import { applyRange, isTxnReadonly, isTxnSerializable } from './apply-kv.js';
import { Applier, type ApplyResult } from './applier.js';
import { bootstrapNewCluster, raftStorageFor } from './boot.js';
import { IdGenerator } from './ids.js';
import { MAX_APPLY_LAG_ENTRIES } from './limits.js';
import { idString, type Member } from './members.js';
import { NullTransport, type PeerTransport } from './peer-transport.js';
import { effectiveQuotaBytes } from './quota.js';
import { Proposals } from './proposals.js';
import { RaftNode } from './raft-node.js';
import { ReadIndexer } from './read-index.js';
import { Snapshots } from './snapshots.js';
import type { MemberStorage } from './storage.js';
import { LeaseServer } from './leases.js';
import type { Clock } from '../base/index.js';
import { immediateSchedule, PausableSchedule, type Schedule } from './watch-schedule.js';

export interface ServerOptions {
  name: string;
  memberId: bigint;
  clusterId: bigint;
  peerUrls: string[];
  clientUrls: string[];
  maxRequestBytes: number;
  maxTxnOps: number;
  quotaBackendBytes: number;
  /** Applied entries between snapshots; each snapshot lets the WAL drop the segments before it. */
  snapshotCount: number;
  nowMs: number;
  /** --heartbeat-interval (default 100 ms) and --election-timeout (default 1000 ms). */
  heartbeatMs?: number;
  electionMs?: number;
  preVote?: boolean;
  strictReconfigCheck?: boolean;
  maxSnapshots?: number;
  maxWals?: number;
  /** Entries kept in raft's log behind a snapshot (etcd's 5000; smaller in tests). */
  snapshotCatchUpEntries?: number;
  /** Members of a new cluster (bootstrap) or the existing cluster's members (join); default: this member alone. */
  initialCluster?: Member[];
  initialClusterState?: 'new' | 'existing';
  /** Runs the watchable store's catch-up steps (default: setImmediate; the simulator: its queue). */
  watchSchedule?: Schedule;
  /** The leader's lease clock (default: monotonic time). */
  leaseClock?: Clock;
}

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly raft: RaftNode;
  readonly snapshots: Snapshots;
  applier: Applier;
  /** Every watcher of this member (followers and learners serve watches from their own store). */
  readonly watchable: WatchableStore;
  /** The watchable store's scheduler, paused while a received backend is swapped in. */
  readonly watchSchedule: PausableSchedule;
  private readonly ids: IdGenerator;
  private readonly proposals: Proposals;
  readonly reads: ReadIndexer;
  /** Leases: grant/revoke through raft, keepalives and TimeToLive on the leader, its expiry loop. */
  readonly leases: LeaseServer;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  private knownPeers = new Map<bigint, string>();
  private stopped = false;
  private fatal: unknown = undefined;
  private stopListeners: ((reason: string | undefined) => void)[] = [];

  /** Opens a member: bootstraps a new cluster's log when the data dir is fresh, then starts raft. */
  static async create(
    opts: ServerOptions,
    storage: MemberStorage,
    logger: Logger,
    transport: PeerTransport = new NullTransport(),
  ): Promise<EtcdServer> {
    if (storage.boot.fresh && (opts.initialClusterState ?? 'new') === 'new') {
      const self = {
        id: opts.memberId,
        name: opts.name,
        peerURLs: opts.peerUrls,
        clientURLs: [],
        isLearner: false,
      };
      await bootstrapNewCluster(storage, opts.initialCluster ?? [self]);
    }
    const server = new EtcdServer(opts, storage, logger, transport);
    await server.start();
    return server;
  }

  private constructor(
    readonly opts: ServerOptions,
    readonly storage: MemberStorage,
    readonly logger: Logger,
    readonly transport: PeerTransport,
  ) {
    this.memberId = opts.memberId;
    this.clusterId = opts.clusterId;
    this.heartbeatMs = opts.heartbeatMs ?? 100;
    this.electionMs = opts.electionMs ?? 1000;
    this.applier = new Applier(storage, opts, logger);
    this.watchSchedule = new PausableSchedule(opts.watchSchedule ?? immediateSchedule);
    this.watchable = new WatchableStore(this.applier.kv.store, {
      schedule: this.watchSchedule.schedule,
      logger,
    });
    this.applier.watch = this.watchable;
    const boot = storage.boot;
    assert(
      this.applier.appliedIndex >= boot.snapshotIndex,
      `backend applied index ${this.applier.appliedIndex} is behind the snapshot at ${boot.snapshotIndex}`,
    );
    let confState = this.applier.confState;
    if (this.applier.appliedIndex > 0n && confState.voters.length === 0 && confState.learners.length === 0) {
      // A data dir written before members were kept in the backend: a lone member.
      confState = { ...confState, voters: [this.memberId] };
    }
    const mem = raftStorageFor(boot, this.applier.appliedIndex, confState);
    this.ids = new IdGenerator(opts.memberId, opts.nowMs);
    this.snapshots = new Snapshots(this, mem);
    this.raft = new RaftNode(
      {
        id: opts.memberId,
        electionTicks: Math.max(2, Math.round(this.electionMs / this.heartbeatMs)),
        heartbeatMs: this.heartbeatMs,
        preVote: opts.preVote ?? true,
        applied: this.applier.appliedIndex,
        seed: Number(opts.memberId & 0xffffffffn) ^ Math.floor(opts.nowMs),
      },
      mem,
      storage.wal,
      storage.snapshotter,
      transport,
      {
        apply: (entries) => this.apply(entries),
        restoreSnapshot: (snap) => this.snapshots.restore(snap),
        onSoftState: (ss) => this.onSoftState(ss),
        onReadStates: (rs) => this.reads.onReadStates(rs),
        sendSnapshot: (m) => this.snapshots.send(m),
        waitingCount: () => this.proposals.size,
        fatal: (err) => this.die('raft loop', err),
      },
      logger,
    );
    this.proposals = new Proposals({
      memberId: this.memberId,
      transport,
      electionMs: this.electionMs,
      requestTimeoutMs: this.requestTimeoutMs,
      lead: () => this.raft.lead,
      voters: () => this.applier.confState.voters,
      kick: () => this.raft.kick(),
    });
    this.reads = new ReadIndexer(
      {
        readIndex: (ctx) => {
          this.raft.node.readIndex(ctx);
          this.raft.kick();
        },
        appliedIndex: () => this.applier.appliedIndex,
        nowMs: () => Date.now(),
      },
      this.electionMs,
      this.requestTimeoutMs,
    );
    this.leases = new LeaseServer(this.applier.lessor, {
      memberId: this.memberId,
      logger,
      electionMs: this.electionMs,
      heartbeatMs: this.heartbeatMs,
      requestTimeoutMs: this.requestTimeoutMs,
      transport,
      isLeader: () => this.raft.isLeader,
      leaderId: () => this.raft.lead,
      term: () => this.raft.term,
      propose: (body) => this.propose(body),
      confirmLeadership: () => this.reads.wait(),
      waitApplied: () => this.reads.waitApplied(this.raft.commitIndex),
      header: () => this.header(this.revision),
      nextId: () => this.ids.next(),
      checkRunning: () => this.checkRunning(),
    });
  }

  private async start(): Promise<void> {
    this.proposals.start();
    this.leases.start();
    await this.transport.start({
      process: (m) => this.raft.step(m),
      receiveSnapshot: (m, body) => this.snapshots.receive(m, body),
      reportUnreachable: (id) => this.raft.reportUnreachable(id),
      reportSnapshot: (id, ok) => {
        this.snapshots.reported(id);
        this.raft.reportSnapshot(id, ok);
      },
      serveLease: (path, body) => this.leases.serveLease(path, body),
    });
    for (const m of this.opts.initialCluster ?? []) if (!this.applier.members.has(m.id)) this.setPeer(m);
    this.syncPeers();
    this.raft.start();
  }

  /** etcd's request timeout: 5 s plus two election timeouts. */
  get requestTimeoutMs(): number {
    return 5000 + 2 * this.electionMs;
  }

  get term(): bigint {
    return this.raft.term;
  }

  get leaderId(): bigint {
    return this.raft.lead;
  }

  get isLearner(): boolean {
    return this.applier.confState.learners.includes(this.memberId);
  }

  get appliedIndex(): bigint {
    return this.applier.appliedIndex;
  }

  get commitIndex(): bigint {
    return this.raft.commitIndex;
  }

  get revision(): bigint {
    return this.applier.kv.currentRev;
  }

  get compactRevision(): bigint {
    return this.applier.kv.compactRev;
  }

  get alarms(): AlarmMember[] {
    return this.applier.alarms.list();
  }

  /** While a received backend is swapped in, the figures of the one before it. */
  private lastSizes = { size: 0, inUse: 0 };

  get backendSizeBytes(): number {
    if (this.snapshots.restoring === undefined) this.lastSizes.size = this.storage.backend.sizeBytes();
    return this.lastSizes.size;
  }

  get backendSizeInUseBytes(): number {
    if (this.snapshots.restoring === undefined) this.lastSizes.inUse = this.storage.backend.sizeInUseBytes();
    return this.lastSizes.inUse;
  }

  members(): Member[] {
    return this.applier.members.list();
  }

  /** etcd 3.4's HashKV: a CRC-32C over the kept history up to `revision` (0 = current). */
  async hashKV(revision: bigint): Promise<{ hash: number; compactRev: bigint; currentRev: bigint }> {
    if (this.snapshots.restoring !== undefined) await this.snapshots.restoring;
    return this.applier.kv.hash(revision);
  }

  header(revision: bigint): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.raft.term };
  }

  /** Registers a callback for when the server stops by itself (removed from the cluster, or failed). */
  onStop(fn: (reason: string | undefined) => void): void {
    this.stopListeners.push(fn);
  }

  /** Refuses a write of `costBytes` past the quota, raising the NOSPACE alarm through raft first. */
  async checkQuota(costBytes: number): Promise<void> {
    if (costBytes === 0) return;
    if (this.snapshots.restoring !== undefined) await this.snapshots.restoring;
    const quota = effectiveQuotaBytes(this.opts.quotaBackendBytes);
    if (this.applier.usedBytesEstimate + costBytes < quota) return;
    if (this.applier.refreshUsedBytes() + costBytes < quota) return;
    await this.propose({
      alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: this.memberId, alarm: AlarmType.NOSPACE },
    });
    throw new EtcdError(Err.noSpace);
  }

  /** Resolves once this member has applied everything committed when it was called (ReadIndex). */
  async linearizableReadNotify(): Promise<void> {
    this.checkRunning();
    await this.reads.wait();
  }

  private checkNotLearner(): void {
    if (this.isLearner) throw new EtcdError(Err.notSupportedForLearner);
  }

  async range(r: RangeRequest): Promise<RangeResponse> {
    if (!r.serializable) {
      this.checkNotLearner();
      await this.linearizableReadNotify();
    }
    if (this.snapshots.restoring !== undefined) await this.snapshots.restoring;
    return applyRange(this.applier.readView(), r);
  }

  async put(r: PutRequest): Promise<PutResponse> {
    this.checkNotLearner();
    return (await this.propose({ put: r })).put!;
  }

  async deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    this.checkNotLearner();
    return (await this.propose({ deleteRange: r })).deleteRange!;
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    if (isTxnReadonly(r)) {
      if (!isTxnSerializable(r)) {
        this.checkNotLearner();
        await this.linearizableReadNotify();
      }
      if (this.snapshots.restoring !== undefined) await this.snapshots.restoring;
      return this.applier.readonlyTxn(r);
    }
    this.checkNotLearner();
    return (await this.propose({ txn: r })).txn!;
  }

  async compact(r: CompactionRequest): Promise<bigint> {
    this.checkNotLearner();
    const res = await this.propose({ compaction: r });
    if (r.physical && res.compactionDone !== undefined) {
      await res.compactionDone;
      await this.storage.backend.sync();
    }
    return this.applier.kv.currentRev;
  }

  /** Proposes a request through raft and resolves with its apply result once applied locally. */
  async propose(body: Partial<InternalRaftRequest>): Promise<ApplyResult> {
    this.checkRunning();
    if (this.raft.commitIndex > this.applier.appliedIndex + MAX_APPLY_LAG_ENTRIES) {
      throw new EtcdError(Err.tooManyRequests);
    }
    const id = this.ids.next();
    // create() then assign: 15 times cheaper than create({ ...body }), whose spread object makes
    // every one of the ~45 field reads in create() a slow miss (3.5 µs a put, measured).
    const req = InternalRaftRequest.create();
    Object.assign(req, body);
    req.header = { ID: id, username: '', authRevision: 0n };
    const data = InternalRaftRequest.encode(req);
    if (data.length > this.opts.maxRequestBytes) throw new EtcdError(Err.requestTooLarge);
    return this.proposals.submit(id, () => this.raft.node.propose(data));
  }

  /** Proposes a conf change (its ID is set here) and resolves once it is applied locally. */
  configure(cc: ConfChange): Promise<ApplyResult> {
    this.checkRunning();
    const change = { ...cc, id: this.ids.next() };
    return this.proposals.submit(change.id, () => this.raft.node.proposeConfChange(change));
  }

  private onSoftState(ss: SoftState): void {
    this.leases.roleChanged(this.raft.isLeader);
    const prev = this.lastLead;
    this.lastLead = ss.lead;
    if (ss.lead === prev) return;
    this.proposals.leaderChanged(prev, ss.lead);
    if (ss.lead !== None) {
      this.logger.info(
        `raft.node: ${idString(this.memberId)} elected leader ${idString(ss.lead)} at term ${this.raft.term}`,
      );
    } else {
      this.logger.info(
        `raft.node: ${idString(this.memberId)} lost leader ${idString(prev)} at term ${this.raft.term}`,
      );
    }
    if (prev !== None) this.reads.onLeaderChange();
  }
  private lastLead: bigint = None;

  /** Applies committed entries and wakes their waiters (raft-node calls this with durable entries). */
  private apply(entries: Entry[]): void {
    if (this.stopped && this.fatal !== undefined) return;
    let confChanged = false;
    const results = this.applier.applyEntries(entries, (cc) => {
      confChanged = true;
      return this.raft.node.applyConfChange(cc);
    });
    this.proposals.applied(results);
    this.leases.applied(entries);
    this.applier.noteApplied(entries);
    assert(this.applier.appliedIndex <= this.raft.commitIndex, 'applied index passed the commit index');
    if (confChanged) this.syncPeers();
    this.reads.onApplied(this.applier.appliedIndex);
    this.snapshots.maybeTrigger();
    if (this.applier.removedSelf) this.removedFromCluster();
  }

  /** Points the transport at every member but this one. */
  syncPeers(): void {
    const seen = new Set<bigint>();
    for (const m of this.applier.members.list()) {
      seen.add(m.id);
      this.setPeer(m);
    }
    for (const id of [...this.knownPeers.keys()]) {
      if (seen.has(id) || this.applier.members.has(id)) continue;
      if (!this.applier.members.isRemoved(id) && (this.opts.initialCluster ?? []).some((m) => m.id === id))
        continue;
      this.knownPeers.delete(id);
      this.transport.removePeer(id);
    }
  }

  private setPeer(m: Member): void {
    if (m.id === this.memberId) return;
    const urls = m.peerURLs.join(',');
    const known = this.knownPeers.get(m.id);
    if (known === urls) return;
    this.knownPeers.set(m.id, urls);
    if (known === undefined) this.transport.addPeer(m.id, m.peerURLs);
    else this.transport.updatePeer(m.id, m.peerURLs);
  }

  private removedFromCluster(): void {
    if (this.stopped) return;
    this.logger.warn('the member has been permanently removed from the cluster');
    this.logger.warn('the data-dir used by this member must be removed.');
    // Give the commit a moment to reach the others (etcd waits 10 heartbeats too).
    const t = setTimeout(() => {
      void this.stop().then(() => {
        for (const f of this.stopListeners) f('the member has been permanently removed from the cluster');
      });
    }, 10 * this.heartbeatMs);
    t.unref();
  }

  /** Stops taking requests, lets the raft loop drain, fails what is still waiting, and closes storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.raft.stop();
    await this.snapshots.idle();
    this.watchable.close();
    this.leases.stop();
    const err = new EtcdError(Err.stopped);
    this.proposals.stop(err);
    this.reads.stop(err);
    await this.transport.stop();
    await this.applier.stop();
    await this.storage.close();
  }

  checkRunning(): void {
    if (this.fatal !== undefined || this.stopped) throw new EtcdError(Err.stopped);
  }

  /**
   * A failed disk write or apply leaves us unsure what is on disk: the only safe move is to stop
   * serving and crash, and let restart-time recovery (WAL replay) decide.
   */
  die(what: string, err: unknown): void {
    this.fatal = err;
    this.logger.error(`${what} failed; stopping`, {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    process.nextTick(() => {
      throw err;
    });
  }
}

export function hex(id: bigint): string {
  return id.toString(16);
}
