// WalStorage: raft's Storage (src/raft/storage.ts) kept durable in a WAL and snapshot files, the
// persistent counterpart of MemoryStorage. Raft reads it synchronously from memory; the
// application writes to it while handling a Ready through async calls that persist first and only
// then change what raft reads, so raft never sees state that a crash could take back.
//
// Layout under `dir`: `wal/` (segments, src/wal/wal.ts) and `snap/` (snapshot files). Open loads
// the newest valid snapshot file whose (term, index) has a marker in the WAL (etcd's
// ValidSnapshotEntries + LoadNewestAvailable), then the WAL's hard state and entries after it.
//
// Write order for a snapshot from the leader: snapshot file (tmp + fsync + rename + dir fsync), then
// one WAL batch [restore marker, entries, hard state] + fdatasync, then memory. Local compaction:
// snapshot file, compaction marker, memory; compact() then releases WAL segments and old files.
import { assert } from '../base/assert.js';
import { joinPath, type FileSystem } from '../base/fs.js';
import { silentLogger, type Logger } from '../base/log.js';
import { ErrCompacted, ErrSnapOutOfDate } from '../raft/errors.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { InitialState, Storage } from '../raft/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';
import { WalError } from './errors.js';
import { Snapshotter, type SkippedSnapshot } from './snapshotter.js';
import { Wal, type WalRepair } from './wal.js';

/** etcd's default --max-snapshots: snapshot files kept by compact(). */
export const DEFAULT_KEEP_SNAPSHOTS = 5;

export interface WalStorageOptions {
  /** Written into a new WAL (e.g. member and cluster IDs); a reopened WAL returns its own. */
  metadata?: Uint8Array;
  segmentSizeBytes?: number;
  /** Snapshot files compact() keeps, newest first (at least 1). */
  keepSnapshots?: number;
  logger?: Logger;
}

interface Init {
  wal: Wal;
  snapshotter: Snapshotter;
  mem: MemoryStorage;
  metadata: Uint8Array;
  keepSnapshots: number;
  repaired: WalRepair | undefined;
  skipped: SkippedSnapshot[];
}

const markerKey = (term: bigint, index: bigint): string => `${term}/${index}`;

export class WalStorage implements Storage {
  private readonly wal: Wal;
  private readonly snapshotter: Snapshotter;
  private readonly mem: MemoryStorage;
  private readonly keepSnapshots: number;
  /** Mutations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The WAL's metadata. */
  readonly metadata: Uint8Array;
  /** What open() cut off a torn WAL tail, if anything. */
  readonly repaired: WalRepair | undefined;
  /** Snapshot files open() found damaged (renamed `.broken`), newest first. */
  readonly skippedSnapshots: SkippedSnapshot[];

  private constructor(init: Init) {
    this.wal = init.wal;
    this.snapshotter = init.snapshotter;
    this.mem = init.mem;
    this.metadata = init.metadata;
    this.keepSnapshots = init.keepSnapshots;
    this.repaired = init.repaired;
    this.skippedSnapshots = init.skipped;
  }

  /** Opens the storage in `dir`, creating an empty one (no snapshot, no entries) if there is none. */
  static async open(fs: FileSystem, dir: string, opts: WalStorageOptions = {}): Promise<WalStorage> {
    const logger = opts.logger ?? silentLogger;
    const keepSnapshots = opts.keepSnapshots ?? DEFAULT_KEEP_SNAPSHOTS;
    assert(Number.isInteger(keepSnapshots) && keepSnapshots >= 1, `keepSnapshots ${keepSnapshots} below 1`);
    const walDir = joinPath(dir, 'wal');
    const walOpts = {
      logger,
      ...(opts.segmentSizeBytes === undefined ? {} : { segmentSizeBytes: opts.segmentSizeBytes }),
    };
    const snapshotter = await Snapshotter.open(fs, joinPath(dir, 'snap'), logger);
    const mem = new MemoryStorage();
    const base = { snapshotter, mem, keepSnapshots, repaired: undefined, skipped: [] };
    if (!(await Wal.exists(fs, walDir))) {
      const metadata = opts.metadata ?? new Uint8Array(0);
      const wal = await Wal.create(fs, walDir, metadata, walOpts);
      return new WalStorage({ ...base, wal, metadata: metadata.slice() });
    }
    const { markers } = await Wal.snapshotMarkers(fs, walDir);
    const known = new Set(markers.map((m) => markerKey(m.term, m.index)));
    const { snapshot, skipped } = await snapshotter.loadNewest((m) => known.has(markerKey(m.term, m.index)));
    const from = { index: snapshot?.metadata.index ?? 0n, term: snapshot?.metadata.term ?? 0n };
    const r = await Wal.open(fs, walDir, { ...walOpts, snapshot: from });
    if (r.entriesAfter.index !== from.index) {
      await r.wal.close();
      throw new WalError(
        `wal: the log was replaced by the snapshot at term ${r.entriesAfter.term} index ${r.entriesAfter.index}, ` +
          `whose file is missing or damaged (newest usable snapshot: index ${from.index})`,
        true,
      );
    }
    if (snapshot !== undefined) mem.applySnapshot(snapshot);
    mem.append(r.entries);
    // A snapshot holds only committed state; its marker can outlive a torn hard-state record.
    const hs = r.hardState;
    mem.setHardState(hs.commit < from.index ? { ...hs, commit: from.index } : hs);
    return new WalStorage({ ...base, wal: r.wal, metadata: r.metadata, repaired: r.repaired, skipped });
  }

  initialState(): InitialState {
    return this.mem.initialState();
  }

  entries(lo: bigint, hi: bigint, maxSizeBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxSizeBytes);
  }

  term(i: bigint): bigint {
    return this.mem.term(i);
  }

  lastIndex(): bigint {
    return this.mem.lastIndex();
  }

  firstIndex(): bigint {
    return this.mem.firstIndex();
  }

  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  /**
   * Persists one Ready's hard state, entries and snapshot, then makes them visible to raft. A
   * snapshot (one that replaced the log) is written as a file first; the entries then follow it.
   * The WAL fdatasyncs every batch it writes; a hard state that changes only the commit index
   * (mustSync false) is not written on its own but with the next batch, so it costs no sync.
   * `mustSync` is informational: entries, snapshots and term/vote changes are always synced.
   */
  save(
    hardState: HardState | undefined,
    entries: Entry[],
    snapshot?: Snapshot,
    _mustSync = true,
  ): Promise<void> {
    return this.serial(async () => {
      if (snapshot !== undefined) {
        const { index, term } = snapshot.metadata;
        if (index <= this.mem.snapshot().metadata.index) throw ErrSnapOutOfDate;
        assert(
          entries.length === 0 || entries[0]!.index === index + 1n,
          'wal storage: entries must follow the snapshot',
        );
        await this.snapshotter.save(snapshot);
        await this.wal.save(hardState, entries, { index, term });
        this.mem.applySnapshot(snapshot);
      } else {
        const first = entries[0]?.index;
        assert(
          first === undefined || first <= this.mem.lastIndex() + 1n,
          `wal storage: missing log entry [last: ${this.mem.lastIndex()}, append at: ${first}]`,
        );
        // As MemoryStorage.append does, skip entries already compacted away.
        const firstKept = this.mem.firstIndex();
        await this.wal.save(
          hardState,
          entries.filter((e) => e.index >= firstKept),
        );
      }
      this.mem.append(entries);
      if (hardState !== undefined) this.mem.setHardState(hardState);
    });
  }

  /** Bootstraps or restores from a snapshot with nothing else: save(undefined, [], snapshot). */
  applySnapshot(snapshot: Snapshot): Promise<void> {
    return this.save(undefined, [], snapshot, true);
  }

  /**
   * Records a snapshot of the state machine at applied index `index` (durable: file, then WAL
   * marker) so lagging followers can be sent it; the entries stay until compact(). Returns it.
   */
  createSnapshot(index: bigint, confState: ConfState | undefined, data: Uint8Array): Promise<Snapshot> {
    return this.serial(async () => {
      const cur = this.mem.snapshot().metadata;
      if (index <= cur.index) throw ErrSnapOutOfDate;
      assert(
        index <= this.mem.lastIndex(),
        `snapshot ${index} is out of bound lastindex(${this.mem.lastIndex()})`,
      );
      const term = this.mem.term(index);
      const snap: Snapshot = { data, metadata: { index, term, confState: confState ?? cur.confState } };
      await this.snapshotter.save(snap);
      await this.wal.saveSnapshot({ index, term });
      return this.mem.createSnapshot(index, confState, data);
    });
  }

  /**
   * Drops the entries before `index` from memory (raft's Storage then starts at index + 1), deletes
   * the WAL segments that hold only entries below min(index, snapshot index), and keeps the newest
   * `keepSnapshots` snapshot files. After a reopen the log starts after the snapshot. Throws
   * ErrCompacted when memory holds nothing below `index` (the release still happens).
   */
  compact(index: bigint): Promise<void> {
    return this.serial(async () => {
      let refused = false;
      try {
        this.mem.compact(index);
      } catch (err) {
        // Compacted in memory already (e.g. a reopened storage starts at its snapshot): the WAL
        // may still hold segments to release.
        if (err !== ErrCompacted) throw err;
        refused = true;
      }
      const snapIndex = this.mem.snapshot().metadata.index;
      await this.wal.releaseTo(index < snapIndex ? index : snapIndex);
      await this.snapshotter.purge(this.keepSnapshots);
      if (refused) throw ErrCompacted;
    });
  }

  /** Names of the WAL segment files, oldest first. */
  get segmentNames(): string[] {
    return this.wal.segmentNames;
  }

  /** Writes a pending commit-only hard state and closes the WAL. */
  close(): Promise<void> {
    return this.serial(() => this.wal.close());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
