// The EtcdServer facade: one member's raft node, proposals and their waiters, apply, linearizable
// reads, membership and the read/write entry points the API layer calls. Every mutation takes the
// one write path of DESIGN §1: encode as InternalRaftRequest → raft (a follower forwards it to the
// leader) → WAL append + fdatasync → apply in one backend transaction together with the applied
// index → wake the waiting request. Cluster operations live in cluster-ops.ts, the raft loop in
// raft-node.ts, snapshots in snapshots.ts.
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
import { ErrProposalDropped } from '../raft/errors.js';
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
import { RaftNode } from './raft-node.js';
import { ReadIndexer } from './read-index.js';
import { Snapshots } from './snapshots.js';
import type { MemberStorage } from './storage.js';

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
}

interface Waiter {
  resolve(r: ApplyResult): void;
  reject(e: unknown): void;
  startMs: number;
  timer: ReturnType<typeof setTimeout>;
}

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly raft: RaftNode;
  readonly snapshots: Snapshots;
  applier: Applier;
  private readonly ids: IdGenerator;
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly leaderWaiters: (() => void)[] = [];
  readonly reads: ReadIndexer;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  private leadElectedMs = 0;
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
    const boot = storage.boot;
    assert(
      this.applier.appliedIndex >= boot.snapshotIndex,
      `backend applied index ${this.applier.appliedIndex} is behind the snapshot at ${boot.snapshotIndex}`,
    );
    const mem = raftStorageFor(boot, this.applier.appliedIndex, this.applier.confState);
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
        waitingCount: () => this.waiters.size,
        fatal: (err) => this.die('raft loop', err),
      },
      logger,
    );
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
  }

  private async start(): Promise<void> {
    await this.transport.start({
      process: (m) => this.raft.step(m),
      receiveSnapshot: (m, body) => this.snapshots.receive(m, body),
      reportUnreachable: (id) => this.raft.reportUnreachable(id),
      reportSnapshot: (id, ok) => this.raft.reportSnapshot(id, ok),
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

  get backendSizeBytes(): number {
    return this.storage.backend.sizeBytes();
  }

  get backendSizeInUseBytes(): number {
    return this.storage.backend.sizeInUseBytes();
  }

  members(): Member[] {
    return this.applier.members.list();
  }

  /** etcd 3.4's HashKV: a CRC-32C over the kept history up to `revision` (0 = current). */
  hashKV(revision: bigint): { hash: number; compactRev: bigint; currentRev: bigint } {
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
    const req = InternalRaftRequest.create({ ...body, header: { ID: id, username: '', authRevision: 0n } });
    const data = InternalRaftRequest.encode(req);
    if (data.length > this.opts.maxRequestBytes) throw new EtcdError(Err.requestTooLarge);
    return this.submit(id, () => this.raft.node.propose(data));
  }

  /** Proposes a conf change (its ID is set here) and resolves once it is applied locally. */
  configure(cc: ConfChange): Promise<ApplyResult> {
    this.checkRunning();
    const change = { ...cc, id: this.ids.next() };
    return this.submit(change.id, () => this.raft.node.proposeConfChange(change));
  }

  private async submit(id: bigint, proposeFn: () => void): Promise<ApplyResult> {
    const startMs = Date.now();
    if (this.raft.lead === None) await this.waitLeader(startMs);
    const result = new Promise<ApplyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiters.delete(id)) reject(this.timeoutError(startMs));
      }, this.requestTimeoutMs);
      timer.unref();
      this.waiters.set(id, { resolve, reject, startMs, timer });
    });
    try {
      proposeFn();
    } catch (err) {
      clearTimeout(this.waiters.get(id)?.timer);
      this.waiters.delete(id);
      if (err === ErrProposalDropped) throw new Error('raft proposal dropped');
      throw err;
    }
    this.raft.kick();
    const res = await result;
    if (res.err !== undefined) throw res.err;
    return res;
  }

  /** Waits for a leader until the request timeout (etcd's proposals block the same way). */
  private async waitLeader(startMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.timeoutError(startMs)), this.requestTimeoutMs);
      timer.unref();
      this.leaderWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.checkRunning();
  }

  /** etcd's parseProposeCtxErr for a deadline: which "request timed out" the client gets. */
  private timeoutError(startMs: number): EtcdError {
    const prevLeadLost = this.leadElectedMs - 2 * this.electionMs;
    if (startMs > prevLeadLost && startMs < this.leadElectedMs)
      return new EtcdError(Err.timeoutDueToLeaderFail);
    const lead = this.raft.lead;
    if (lead === this.memberId) {
      const voters = this.applier.confState.voters.filter((v) => v !== this.memberId);
      const connected =
        voters.filter((v) => (this.transport.activeSince(v) ?? Infinity) <= startMs).length + 1;
      if (connected < Math.floor((voters.length + 1) / 2) + 1)
        return new EtcdError(Err.timeoutDueToConnectionLost);
    } else if (lead !== None) {
      const since = this.transport.activeSince(lead);
      if (since === undefined || since > startMs) return new EtcdError(Err.timeoutDueToConnectionLost);
    }
    return new EtcdError(Err.timeout);
  }

  private onSoftState(ss: SoftState): void {
    const prev = this.lastLead;
    this.lastLead = ss.lead;
    if (ss.lead === prev) return;
    if (ss.lead !== None) {
      this.leadElectedMs = Date.now();
      this.logger.info(
        `raft.node: ${idString(this.memberId)} elected leader ${idString(ss.lead)} at term ${this.raft.term}`,
      );
      for (const w of this.leaderWaiters.splice(0)) w();
    } else {
      this.logger.info(
        `raft.node: ${idString(this.memberId)} lost leader ${idString(prev)} at term ${this.raft.term}`,
      );
    }
    if (prev !== None) {
      // Proposals made under the previous leader may never commit: their clients hear it now.
      for (const [id, w] of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new EtcdError(Err.leaderChanged));
        this.waiters.delete(id);
      }
      this.reads.onLeaderChange();
    }
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
    for (const [id, res] of results) {
      const w = this.waiters.get(id);
      if (w === undefined) continue;
      this.waiters.delete(id);
      clearTimeout(w.timer);
      w.resolve(res);
    }
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
    const err = new EtcdError(Err.stopped);
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
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
