// A member's snapshots: taken every --snapshot-count applied entries (backend made durable first,
// then the snapshot file and its WAL marker, then raft's log compacted behind it and old WAL
// segments and snapshot files released per --max-wals/--max-snapshots); sent to a member that fell
// behind with the backend's bytes (snapshot-transfer.ts); and received from the leader, whose
// backend then replaces ours once raft has accepted and persisted the snapshot.
import { assert, EtcdError, Err } from '../base/index.js';
import type { MemoryStorage } from '../raft/memory-storage.js';
import type { Message, Snapshot } from '../raft/types.js';
import { Applier } from './applier.js';
import type { EtcdServer } from './etcd-server.js';
import { SNAPSHOT_CATCH_UP_ENTRIES } from './limits.js';

/** Applied entries the in-memory raft log keeps between snapshots (see trimMemoryLog). */
const MEMORY_LOG_ENTRIES = 2n * SNAPSHOT_CATCH_UP_ENTRIES;
/** Trim in steps, not after every apply. */
const MEMORY_LOG_TRIM_STEP = 1000n;
import { prepareSnapshot, receiveBackend } from './snapshot-transfer.js';
import { receivedBackendPath } from './storage.js';

/** etcd's --max-snapshots and --max-wals defaults. */
const DEFAULT_MAX_SNAPSHOTS = 5;
const DEFAULT_MAX_WALS = 5;

export class Snapshots {
  snapshotIndex: bigint;
  private taking: Promise<void> | undefined;
  private readonly sending = new Set<Promise<void>>();
  /** Backend copies handed to the transport, by peer, removed once the transfer is reported. */
  private readonly copies = new Map<bigint, () => Promise<void>>();

  constructor(
    private readonly server: EtcdServer,
    private readonly mem: MemoryStorage,
  ) {
    this.snapshotIndex = server.storage.boot.snapshotIndex;
  }

  /** After an apply: take a snapshot when --snapshot-count entries were applied since the last. */
  maybeTrigger(): void {
    const applied = this.server.applier.appliedIndex;
    this.trimMemoryLog(applied);
    if (this.taking !== undefined || applied - this.snapshotIndex < BigInt(this.server.opts.snapshotCount))
      return;
    this.taking = this.take().then(
      () => {
        this.taking = undefined;
      },
      (err: unknown) => this.server.die('snapshot', err),
    );
  }

  /**
   * Between snapshots (every --snapshot-count entries, 100,000 by default) the raft log would
   * otherwise hold every entry in memory. Only the last SNAPSHOT_CATCH_UP_ENTRIES matter to a
   * follower catching up by appends; one further behind is sent the backend anyway. So the memory
   * log is cut past MEMORY_LOG_ENTRIES, under an in-memory snapshot mark at the applied index (the
   * files on disk — WAL, .snap, backend — are untouched and still decide every restart).
   */
  private trimMemoryLog(applied: bigint): void {
    const keepFrom = applied - MEMORY_LOG_ENTRIES;
    if (keepFrom <= this.mem.firstIndex() + MEMORY_LOG_TRIM_STEP) return;
    if (applied > this.mem.snapshot().metadata.index) {
      this.mem.createSnapshot(applied, this.server.applier.confState, new Uint8Array(0));
    }
    this.mem.compact(keepFrom);
  }

  /**
   * Takes a snapshot at the applied index: the backend is made durable first (it is the state the
   * snapshot stands for), then the snapshot file and the WAL's marker are written, and only then
   * are the log, WAL segments and old snapshot files released.
   */
  private async take(): Promise<void> {
    const { storage, applier, opts, logger } = this.server;
    const index = applier.appliedIndex;
    const term = applier.appliedTerm;
    const confState = applier.confState;
    await storage.backend.sync();
    if (index <= this.mem.snapshot().metadata.index) return;
    const snap = this.mem.createSnapshot(index, confState, new Uint8Array(0));
    await storage.snapshotter.save(snap);
    await storage.wal.saveSnapshot({ index, term });
    this.snapshotIndex = index;
    const compactTo = index - BigInt(opts.snapshotCatchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES);
    if (compactTo > this.mem.firstIndex()) this.mem.compact(compactTo);
    // --max-wals as etcd reads it: segments beyond that many are deleted once nothing needs them
    // (0 keeps them all).
    const maxWals = opts.maxWals ?? DEFAULT_MAX_WALS;
    const surplus = maxWals > 0 && storage.wal.segmentNames.length > maxWals;
    const released = surplus && compactTo > 0n ? await storage.wal.releaseTo(compactTo) : [];
    const keep = opts.maxSnapshots ?? DEFAULT_MAX_SNAPSHOTS;
    const purged = keep === 0 ? [] : await storage.snapshotter.purge(keep);
    logger.info('saved snapshot', {
      'snapshot-index': index,
      'released-wal-segments': released.length,
      'purged-snapshots': purged.length,
    });
  }

  /** The leader sends `m` (a MsgSnap) with a copy of its backend. */
  send(m: Message): void {
    const { storage, raft, logger } = this.server;
    const p = prepareSnapshot(m, storage.backend, storage.snapDir).then(
      (prepared) => {
        logger.info('sending database snapshot', {
          'remote-peer-id': m.to.toString(16),
          'snapshot-index': prepared.msg.snapshot?.metadata.index,
        });
        void this.copies.get(m.to)?.();
        this.copies.set(m.to, prepared.discard);
        this.server.transport.sendSnapshot(prepared.msg, prepared.body);
      },
      (err: unknown) => {
        logger.warn('failed to prepare a snapshot', { error: String(err) });
        raft.reportSnapshot(m.to, false);
      },
    );
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p));
  }

  /** The transport reported the snapshot to `to` done (or failed): its copy can go. */
  reported(to: bigint): void {
    const discard = this.copies.get(to);
    this.copies.delete(to);
    if (discard !== undefined) void discard().catch(() => undefined);
  }

  /** A MsgSnap from the leader with its backend bytes: store them durably, then let raft decide. */
  async receive(m: Message, body: AsyncIterable<Uint8Array>): Promise<void> {
    this.server.checkRunning();
    const snap = m.snapshot;
    if (snap === undefined) throw new EtcdError(Err.stopped);
    await receiveBackend(this.server.storage.snapDir, snap.metadata.index, body);
    this.server.logger.info('received database snapshot', {
      'remote-peer-id': m.from.toString(16),
      'snapshot-index': snap.metadata.index,
    });
    this.server.raft.step(m);
  }

  /** Set while a received backend replaces ours: reads wait for it. */
  restoring: Promise<void> | undefined;

  /** Raft accepted and persisted a snapshot from the leader: its backend replaces ours. */
  restore(snap: Snapshot): Promise<void> {
    const p = this.swapIn(snap).finally(() => {
      this.restoring = undefined;
    });
    this.restoring = p;
    return p;
  }

  private async swapIn(snap: Snapshot): Promise<void> {
    const server = this.server;
    const index = snap.metadata.index;
    // Watch catch-up reads the backend: hold it until the watchers are rebound to the new one.
    server.watchSchedule.pause();
    try {
      await server.applier.stop();
      await server.storage.swapBackend(receivedBackendPath(server.storage.snapDir, index));
      server.applier = new Applier(server.storage, server.opts, server.logger);
      server.applier.watch = server.watchable;
      server.leases.recovered(server.applier.lessor);
      server.watchable.rebind(server.applier.kv.store);
    } finally {
      server.watchSchedule.resume();
    }
    assert(
      server.applier.appliedIndex === index,
      `received backend has applied index ${server.applier.appliedIndex}, the snapshot ${index}`,
    );
    this.snapshotIndex = index;
    server.syncPeers();
    server.reads.onApplied(index);
    server.logger.info('applied snapshot from the leader', { 'snapshot-index': index });
  }

  /** Resolves once no snapshot is being taken or prepared. */
  async idle(): Promise<void> {
    await this.taking;
    await Promise.allSettled([...this.sending]);
  }
}
