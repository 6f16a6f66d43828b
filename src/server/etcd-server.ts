// The EtcdServer facade: one member's raft loop, proposals and their waiters, apply, and the
// read/write entry points the API layer calls. Every mutation takes the one write path of
// DESIGN §1: encode as InternalRaftRequest → raft → WAL append + fdatasync → apply in one backend
// transaction together with the applied index → wake the waiting request.
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
import { InternalRaftRequest } from '../generated/etcdserverpb.js';
import { emptyConfState, type Entry } from '../raft/types.js';
import { SingleVoterRaft } from '../raft/single-voter.js';
import { applyRange, isTxnReadonly, isTxnSerializable } from './apply-kv.js';
import { Applier, type ApplyResult } from './applier.js';
import { IdGenerator } from './ids.js';
import { MAX_PENDING_PROPOSALS } from './limits.js';
import { effectiveQuotaBytes } from './quota.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../generated/etcdserverpb.js';
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
}

/** Entries kept in the WAL behind a snapshot, for followers that lag a little (etcd keeps 5000). */
const SNAPSHOT_CATCH_UP_ENTRIES = 5000n;
/** Applied batches between two reads of the backend's bytes in use (see usedBytes). */
const USED_BYTES_REFRESH_BATCHES = 64;
/** Snapshot files kept (etcd's --max-snapshots default). */
const MAX_SNAPSHOT_FILES = 5;

interface Waiter {
  resolve(r: ApplyResult): void;
  reject(e: unknown): void;
}

export class EtcdServer {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  private readonly raft: SingleVoterRaft;
  private readonly applier: Applier;
  private readonly ids: IdGenerator;
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly readWaiters: { index: bigint; resolve(): void }[] = [];
  private loopRunning = false;
  /**
   * The backend's bytes in use for the quota check. Reading it asks LMDB for statistics (~90 µs),
   * so it is read every USED_BYTES_REFRESH_BATCHES applied batches and grown in between by the
   * bytes applied, which over-estimates and so never lets a write past the quota unnoticed.
   */
  private usedBytes: number;
  private batchesSinceUsedBytes = 0;
  private snapshotIndex: bigint;
  private snapshotting: Promise<void> | undefined;
  private stopped = false;
  private fatal: unknown = undefined;

  constructor(
    readonly opts: ServerOptions,
    private readonly storage: MemberStorage,
    private readonly logger: Logger,
  ) {
    this.memberId = opts.memberId;
    this.clusterId = opts.clusterId;
    this.applier = new Applier(storage, opts, logger);
    const boot = storage.boot;
    this.snapshotIndex = boot.snapshotIndex;
    this.usedBytes = storage.backend.sizeInUseBytes();
    assert(
      this.applier.appliedIndex >= boot.snapshotIndex,
      `backend applied index ${this.applier.appliedIndex} is behind the snapshot at ${boot.snapshotIndex}`,
    );
    const unapplied = boot.entries.filter((e) => e.index > this.applier.appliedIndex);
    const last = boot.entries[boot.entries.length - 1];
    this.raft = new SingleVoterRaft({
      id: opts.memberId,
      hardState: boot.hardState,
      lastIndex: last?.index ?? boot.snapshotIndex,
      lastTerm: last?.term ?? boot.snapshotTerm,
      unapplied,
    });
    this.ids = new IdGenerator(opts.memberId, opts.nowMs);
    logger.info(`${hex(this.memberId)} became leader at term ${this.raft.currentTerm}`, {
      'raft-term': this.raft.currentTerm,
    });
    this.kick();
  }

  get term(): bigint {
    return this.raft.currentTerm;
  }

  get leaderId(): bigint {
    return this.raft.leaderId;
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

  /** etcd 3.4's HashKV: a CRC-32C over the kept history up to `revision` (0 = current). */
  hashKV(revision: bigint): { hash: number; compactRev: bigint; currentRev: bigint } {
    return this.applier.kv.hash(revision);
  }

  header(revision: bigint): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.raft.currentTerm };
  }

  /**
   * Refuses a write of `costBytes` that would take the backend past its quota, raising the NOSPACE
   * alarm through raft first, as etcd's quota alarmer does.
   */
  async checkQuota(costBytes: number): Promise<void> {
    if (costBytes === 0) return;
    const quota = effectiveQuotaBytes(this.opts.quotaBackendBytes);
    if (this.usedBytes + costBytes < quota) return;
    // The estimate only grows between reads; read the real figure before refusing anything.
    this.usedBytes = this.storage.backend.sizeInUseBytes();
    this.batchesSinceUsedBytes = 0;
    if (this.usedBytes + costBytes < quota) return;
    await this.propose({
      alarm: { action: AlarmRequest_AlarmAction.ACTIVATE, memberID: this.memberId, alarm: AlarmType.NOSPACE },
    });
    throw new EtcdError(Err.noSpace);
  }

  /** Resolves once this member has applied everything committed when it was called (ReadIndex). */
  async linearizableReadNotify(): Promise<void> {
    this.checkRunning();
    const index = this.raft.commitIndex;
    if (this.applier.appliedIndex >= index) return;
    await new Promise<void>((resolve) => this.readWaiters.push({ index, resolve }));
  }

  async range(r: RangeRequest): Promise<RangeResponse> {
    if (!r.serializable) await this.linearizableReadNotify();
    return applyRange(this.applier.readView(), r);
  }

  async put(r: PutRequest): Promise<PutResponse> {
    const res = await this.propose({ put: r });
    return res.put!;
  }

  async deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    const res = await this.propose({ deleteRange: r });
    return res.deleteRange!;
  }

  async txn(r: TxnRequest): Promise<TxnResponse> {
    if (isTxnReadonly(r)) {
      if (!isTxnSerializable(r)) await this.linearizableReadNotify();
      return this.applier.readonlyTxn(r);
    }
    const res = await this.propose({ txn: r });
    return res.txn!;
  }

  async compact(r: CompactionRequest): Promise<bigint> {
    const res = await this.propose({ compaction: r });
    if (r.physical && res.compactionDone !== undefined) {
      await res.compactionDone;
      await this.storage.backend.sync();
    }
    return this.applier.kv.currentRev;
  }

  /** Proposes a request through raft and resolves with its apply result once applied locally. */
  async propose(
    body: Omit<InternalRaftRequest, 'header' | 'ID'> | Partial<InternalRaftRequest>,
  ): Promise<ApplyResult> {
    this.checkRunning();
    const id = this.ids.next();
    const req = InternalRaftRequest.create({ ...body, header: { ID: id, username: '', authRevision: 0n } });
    const data = InternalRaftRequest.encode(req);
    if (data.length > this.opts.maxRequestBytes) throw new EtcdError(Err.requestTooLarge);
    if (this.raft.pendingCount >= MAX_PENDING_PROPOSALS) throw new EtcdError(Err.tooManyRequests);
    const result = new Promise<ApplyResult>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    this.raft.propose(data);
    this.kick();
    const res = await result;
    if (res.err !== undefined) throw res.err;
    return res;
  }

  /** Stops taking requests, lets the raft loop drain, fails what is still waiting, and closes storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    while (this.loopRunning) await new Promise((r) => setTimeout(r, 1));
    await this.snapshotting;
    for (const w of this.waiters.values()) w.reject(new EtcdError(Err.stopped));
    this.waiters.clear();
    await this.applier.stop();
    await this.storage.close();
  }

  private checkRunning(): void {
    if (this.fatal !== undefined) throw new EtcdError(Err.stopped);
    if (this.stopped) throw new EtcdError(Err.stopped);
  }

  private kick(): void {
    if (this.loopRunning || this.fatal !== undefined) return;
    this.loopRunning = true;
    // Start on the next turn of the event loop, after the rest of this socket read has been
    // handled: requests that arrived together are proposed together and share one fdatasync.
    new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runLoop())
      .then(
        () => {
          this.loopRunning = false;
        },
        (err: unknown) => {
          this.loopRunning = false;
          this.die('raft loop', err);
        },
      );
  }

  /**
   * A failed disk write or apply leaves us unsure what is on disk: the only safe move is to stop
   * serving and crash, and let restart-time recovery (WAL replay) decide.
   */
  private die(what: string, err: unknown): void {
    this.fatal = err;
    this.logger.error(`${what} failed; stopping`, {
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    process.nextTick(() => {
      throw err;
    });
  }

  /**
   * The raft loop (etcd raft's doc.go steps): apply what is committed, persist new entries and the
   * hard state (one fdatasync for the whole batch: group commit), then advance. Proposals arriving
   * while the disk is busy gather into the next batch.
   */
  private async runLoop(): Promise<void> {
    while (this.raft.hasReady()) {
      const rd = this.raft.ready();
      // Start persisting the new entries first, then apply the ones already persisted while the
      // WAL's fdatasync runs on the thread pool: the two disk flushes overlap instead of adding up.
      // A lone write with nothing to apply meanwhile (one client, a quiet server): waiting for the
      // disk on this thread is cheaper than the thread pool's round trip. Under load, the overlap
      // of this fdatasync with applying (and with reading new requests) wins.
      const inlineSync = rd.committedEntries.length === 0 && rd.entries.length <= 1 && this.waiters.size <= 1;
      const saved =
        rd.entries.length > 0 || rd.mustSync
          ? this.storage.wal.save(rd.hardState, rd.entries, undefined, { inlineSync })
          : undefined;
      try {
        if (rd.committedEntries.length > 0) this.applyCommitted(rd.committedEntries);
      } finally {
        if (saved !== undefined) await saved;
      }
      this.raft.advance(rd);
    }
  }

  private applyCommitted(entries: Entry[]): void {
    const results = this.applier.applyEntries(entries);
    for (const [id, res] of results) {
      const w = this.waiters.get(id);
      if (w === undefined) continue;
      this.waiters.delete(id);
      w.resolve(res);
    }
    if (++this.batchesSinceUsedBytes >= USED_BYTES_REFRESH_BATCHES) {
      this.batchesSinceUsedBytes = 0;
      this.usedBytes = this.storage.backend.sizeInUseBytes();
    } else {
      for (const e of entries) this.usedBytes += e.data.length;
    }
    const applied = this.applier.appliedIndex;
    assert(applied <= this.raft.commitIndex, 'applied index passed the commit index');
    while (this.readWaiters.length > 0 && this.readWaiters[0]!.index <= applied)
      this.readWaiters.shift()!.resolve();
    if (applied - this.snapshotIndex >= BigInt(this.opts.snapshotCount) && this.snapshotting === undefined) {
      this.snapshotting = this.snapshot().then(
        () => {
          this.snapshotting = undefined;
        },
        (err: unknown) => this.die('snapshot', err),
      );
    }
  }

  /**
   * Takes a snapshot at the applied index: the backend is made durable first (it is the state the
   * snapshot stands for), then the snapshot file and the WAL's marker are written, and only then
   * are WAL segments released. A crash between any two steps leaves a state restart can use.
   */
  private async snapshot(): Promise<void> {
    const index = this.applier.appliedIndex;
    const term = this.applier.appliedTerm;
    await this.storage.backend.sync();
    await this.storage.snapshotter.save({
      metadata: { index, term, confState: { ...emptyConfState(), voters: [this.memberId] } },
      data: new Uint8Array(0),
    });
    await this.storage.wal.saveSnapshot({ index, term });
    this.snapshotIndex = index;
    const releaseTo = index - SNAPSHOT_CATCH_UP_ENTRIES;
    const released = releaseTo > 0n ? await this.storage.wal.releaseTo(releaseTo) : [];
    const purged = await this.storage.snapshotter.purge(MAX_SNAPSHOT_FILES);
    this.logger.info('saved snapshot', {
      'snapshot-index': index,
      'released-wal-segments': released.length,
      'purged-snapshots': purged.length,
    });
  }
}

export function hex(id: bigint): string {
  return id.toString(16);
}
