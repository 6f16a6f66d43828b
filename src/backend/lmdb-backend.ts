// The LMDB backend: one LMDB environment (a directory holding data.mdb and lock.mdb) with one
// named database per bucket, binary keys in byte order and binary values. This is the only file
// that imports `lmdb`.
//
// Durability model. The WAL is the source of truth: an entry is fsynced there before it is
// acknowledged, and the applied index is written in the same backend transaction as the data it
// covers, so after a crash the server replays the WAL from the applied index. A backend commit
// therefore needs integrity (never a corrupt or half-applied file after kill -9 or power loss) but
// not durability of its own; sync() is the durability point, called before WAL segments are
// released. The options chosen for that, measured on this machine's disk (one put per
// transaction; see write-cost.bench.ts):
//   - default LMDB commit: fdatasync of the data pages, then the meta page through an O_DSYNC fd:
//     ~370 us per write().
//   - overlappingSync (lmdb-js's default on Linux): its synchronous commits still flush in the
//     committing thread after releasing the write lock, so each transactionSync blocks on a sync:
//     ~490 us. Its flush-later benefit only exists for lmdb-js's asynchronous write queue, whose
//     commits become visible later than the call, which a synchronous apply cannot use.
//   - noSync: ~10 us, but LMDB then gives no integrity on power loss (a meta page may reach the
//     disk before the pages it points to, and pages of the last durable tree may be reused).
//   - noMetaSync (chosen): one fdatasync per commit (data pages) and the meta page written
//     without a sync: ~230 us. LMDB documents that this keeps integrity (ACI) and only defers
//     durability of the last commit to the next commit or to mdb_env_sync, which sync() calls in
//     a worker thread. That is the fastest option that keeps integrity.
//
// Batching. Even one fdatasync per commit costs ~230 us of blocked main thread per applied batch,
// so, like etcd's bbolt backend (commit every 100 ms or 10,000 ops behind a read buffer), write()
// does not commit to LMDB: its changes are staged (a throw discards them whole) and, when fn
// returns, folded into an in-memory pending overlay that every read merges over LMDB (overlay.ts).
// A flush writes the whole overlay in ONE LMDB transaction (same options as above) when it holds
// batchLimitOps changes, when the batchIntervalMs timer fires, and always at the start of sync()
// and close(). kill -9 loses the overlay, which is safe: the applied index is written in the same
// write() as the data it covers, so LMDB always holds a whole prefix of the write()s with its own
// index, and the server replays the rest from the WAL (lmdb-crash.test.ts checks the prefix).
// onCommit hooks run when write() returns (the logical commit), onAbort hooks when fn throws.
// sizeBytes()/sizeInUseBytes() add an estimate of the overlay (key + value + 48 bytes a change).
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type TransactionFlags } from 'lmdb';
import { assert, AssertionError } from '../base/assert.js';
import { copyBytes } from './copy-bytes.js';
import { OverlayReadTx, newPendingMap, type BaseStore, type Layer, type PendingMap } from './overlay.js';
import {
  BUCKETS,
  isThenable,
  type Backend,
  type BackendEntry,
  type Bucket,
  type ReadTx,
  type WriteTx,
} from './backend.js';

type Db = Database<Uint8Array, Uint8Array>;

/** 2 GiB (etcd's default quota) plus as much again of headroom; lmdb-js grows the map beyond it. */
export const DEFAULT_MAP_SIZE_BYTES = 4 * 1024 * 1024 * 1024;

/** TXN_ABORTABLE | TXN_SYNCHRONOUS_COMMIT: an abortable transaction committed before return. */
const WRITE_TXN_FLAGS: TransactionFlags = 1 | 2;

export interface LmdbBackendOptions {
  /** Directory holding data.mdb and lock.mdb; created when missing. */
  path: string;
  /** Initial address space to map; the map grows past it when the file needs more. */
  mapSizeBytes?: number;
  /** Pending changes that trigger a flush when write() returns (default 10,000; 1 = every write). */
  batchLimitOps?: number;
  /** Longest time a change waits in the pending overlay before a flush (default 100 ms). */
  batchIntervalMs?: number;
  /** Schedules the interval flush and returns its cancel; defaults to an unref'd setTimeout. */
  setTimer?: SetTimer;
}

export type SetTimer = (fn: () => void, ms: number) => () => void;

/** etcd's defaultBatchLimit and defaultBatchInterval. */
export const DEFAULT_BATCH_LIMIT_OPS = 10_000;
export const DEFAULT_BATCH_INTERVAL_MS = 100;
/** Estimated bytes a pending change will take in LMDB beyond its key and value. */
const PENDING_ENTRY_OVERHEAD_BYTES = 48;

interface Stat {
  pageSize?: number;
  treeBranchPageCount?: number;
  treeLeafPageCount?: number;
  overflowPages?: number;
}

interface SyncableDb {
  sync(callback: (error?: Error | null) => void): void;
}

/** Reads straight from LMDB: the base under the pending overlay. */
class LmdbStore implements BaseStore {
  constructor(private readonly dbs: Map<Bucket, Db>) {}

  db(bucket: Bucket): Db {
    const db = this.dbs.get(bucket);
    if (db === undefined) throw new AssertionError(`unknown bucket ${bucket}`);
    return db;
  }

  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    // getBinaryFast returns lmdb-js's reused read buffer (its length set to the value's);
    // copyBytes is much cheaper than the Buffer getBinary would allocate.
    const v = this.db(bucket).getBinaryFast(key);
    return v === undefined ? undefined : copyBytes(v, v.length);
  }

  peek(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    const v = this.db(bucket).getBinaryFast(key);
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.length);
  }

  range(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, limit?: number): BackendEntry[] {
    const out: BackendEntry[] = [];
    const opts = limit !== undefined && limit > 0 ? { start, end, limit } : { start, end };
    for (const { key, value } of this.db(bucket).getRange(opts)) out.push({ key: key, value });
    return out;
  }

  forEach(
    bucket: Bucket,
    start: Uint8Array,
    end: Uint8Array | undefined,
    fn: (key: Uint8Array, value: Uint8Array) => boolean | void,
  ): void {
    for (const { key, value } of this.db(bucket).getRange({ start, end })) {
      if (fn(key, value) === false) return;
    }
  }

  iterate(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined): Iterator<BackendEntry> {
    return this.db(bucket).getRange({ start, end })[Symbol.iterator]() as Iterator<BackendEntry>;
  }
}

/**
 * A write() in progress: its changes are staged in a layer of its own above the backend's pending
 * overlay, so a throw discards them whole and a commit folds them into the pending overlay.
 */
class LmdbWriteTx extends OverlayReadTx implements WriteTx {
  readonly staged: Layer = new Map();
  readonly commitHooks: (() => void)[] = [];
  readonly abortHooks: (() => void)[] = [];
  open = true;

  constructor(base: LmdbStore, pending: Layer) {
    super(base, []);
    this.layers.push(this.staged, pending);
  }

  private stagedMap(bucket: Bucket): PendingMap {
    let m = this.staged.get(bucket);
    if (m === undefined) {
      (this.base as LmdbStore).db(bucket); // asserts the bucket exists
      m = newPendingMap();
      this.staged.set(bucket, m);
    }
    return m;
  }

  put(bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    assert(this.open, 'write transaction already finished');
    this.stagedMap(bucket).set(copyBytes(key), copyBytes(value));
  }

  delete(bucket: Bucket, key: Uint8Array): boolean {
    assert(this.open, 'write transaction already finished');
    if (this.peek(bucket, key) === undefined) return false;
    this.stagedMap(bucket).set(copyBytes(key), null);
    return true;
  }

  onCommit(fn: () => void): void {
    this.commitHooks.push(fn);
  }

  onAbort(fn: () => void): void {
    this.abortHooks.push(fn);
  }
}

export class LmdbBackend implements Backend {
  private readonly root: RootDatabase<Uint8Array, Uint8Array>;
  private readonly dbs = new Map<Bucket, Db>();
  private readonly store: LmdbStore;
  /** Changes of returned write()s not yet in LMDB. */
  private readonly pending: Layer = new Map();
  private readonly reader: OverlayReadTx;
  private pendingOps = 0;
  private pendingBytes = 0;
  private readonly batchLimitOps: number;
  private readonly batchIntervalMs: number;
  private readonly setTimer: SetTimer;
  private cancelTimer: (() => void) | undefined;
  /** The last failure of a background flush; sync() retries the flush and reports it. */
  private flushError: unknown;
  private writing: LmdbWriteTx | undefined;
  private closed = false;

  private constructor(
    private readonly path: string,
    opts: LmdbBackendOptions,
  ) {
    this.root = open<Uint8Array, Uint8Array>({
      path,
      noSubdir: false,
      maxDbs: 16,
      mapSize: opts.mapSizeBytes ?? DEFAULT_MAP_SIZE_BYTES,
      pageSize: 4096,
      // See the comment at the top of this file for why these four are what they are.
      overlappingSync: false,
      noSync: false,
      noMetaSync: true,
      useWritemap: false,
      remapChunks: false,
      noMemInit: false,
      readOnly: false,
      encoding: 'binary',
      keyEncoding: 'binary',
      cache: false,
      compression: false,
    });
    for (const name of BUCKETS) {
      this.dbs.set(
        name,
        this.root.openDB<Uint8Array, Uint8Array>(name, {
          encoding: 'binary',
          keyEncoding: 'binary',
          cache: false,
          compression: false,
          dupSort: false,
        }),
      );
      this.pending.set(name, newPendingMap());
    }
    this.store = new LmdbStore(this.dbs);
    this.reader = new OverlayReadTx(this.store, [this.pending]);
    this.batchLimitOps = opts.batchLimitOps ?? DEFAULT_BATCH_LIMIT_OPS;
    this.batchIntervalMs = opts.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS;
    this.setTimer = opts.setTimer ?? unrefTimer;
    assert(this.batchLimitOps >= 1, 'batchLimitOps must be at least 1');
  }

  static open(opts: LmdbBackendOptions): LmdbBackend {
    return new LmdbBackend(opts.path, opts);
  }

  /** Deletes a closed backend's directory and files (for tests, benchmarks and tooling). */
  static remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }

  read<T>(fn: (tx: ReadTx) => T): T {
    assert(!this.closed, 'backend is closed');
    // Reads see LMDB under the pending overlay (and, inside write(), that write's staged changes);
    // nothing flushes while fn runs.
    return fn(this.writing ?? this.reader);
  }

  write<T>(fn: (tx: WriteTx) => T): T {
    assert(!this.closed, 'backend is closed');
    assert(this.writing === undefined, 'write transactions do not nest');
    const tx = new LmdbWriteTx(this.store, this.pending);
    this.writing = tx;
    let result: T;
    try {
      result = fn(tx);
      assert(!isThenable(result), 'backend write callback must be synchronous');
    } catch (err) {
      tx.open = false;
      this.writing = undefined;
      for (const h of tx.abortHooks) h();
      throw err;
    }
    tx.open = false;
    this.writing = undefined;
    this.fold(tx.staged);
    if (this.pendingOps >= this.batchLimitOps) this.flushInBackground();
    else if (this.pendingOps > 0 && this.cancelTimer === undefined) {
      this.cancelTimer = this.setTimer(() => {
        this.cancelTimer = undefined;
        if (!this.closed) this.flushInBackground();
      }, this.batchIntervalMs);
    }
    for (const h of tx.commitHooks) h();
    return result;
  }

  /** Moves a committed write's staged changes into the pending overlay. */
  private fold(staged: Layer): void {
    for (const [bucket, m] of staged) {
      const into = this.pending.get(bucket)!;
      m.forEachRange(undefined, undefined, (key, value) => {
        into.set(key, value);
        this.pendingOps++;
        this.pendingBytes += key.length + (value === null ? 0 : value.length) + PENDING_ENTRY_OVERHEAD_BYTES;
      });
    }
  }

  /**
   * Writes the pending overlay into LMDB in one transaction (integrity, not durability: see the
   * top of this file). On failure LMDB rolls back and the overlay stays as it was.
   */
  flush(): void {
    assert(!this.closed, 'backend is closed');
    assert(this.writing === undefined, 'cannot flush inside a write transaction');
    if (this.cancelTimer !== undefined) {
      this.cancelTimer();
      this.cancelTimer = undefined;
    }
    if (this.pendingOps === 0) return;
    this.root.transactionSync(() => {
      for (const [bucket, m] of this.pending) {
        if (m.size === 0) continue;
        const db = this.store.db(bucket);
        m.forEachRange(undefined, undefined, (key, value) => {
          if (value === null) db.removeSync(key);
          else db.putSync(key, value);
        });
      }
    }, WRITE_TXN_FLAGS);
    for (const m of this.pending.values()) m.clear();
    this.pendingOps = 0;
    this.pendingBytes = 0;
    this.flushError = undefined;
  }

  /** A flush from the timer or the batch limit: a failure is kept for sync() to report. */
  private flushInBackground(): void {
    try {
      this.flush();
    } catch (err) {
      this.flushError = err;
    }
  }

  /** Number of changes waiting in the pending overlay (for tests and metrics). */
  pendingCount(): number {
    return this.pendingOps;
  }

  sync(): Promise<void> {
    assert(!this.closed, 'backend is closed');
    try {
      this.flush();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise((resolve, reject) => {
      (this.root as unknown as SyncableDb).sync((error) => {
        if (error !== undefined && error !== null) reject(error);
        else resolve();
      });
    });
  }

  /** The data file's size plus an estimate of the pending overlay (keys, values, overhead). */
  sizeBytes(): number {
    return statSync(join(this.path, 'data.mdb')).size + this.pendingBytes;
  }

  /**
   * Pages reachable from the meta pages (the two metas, every tree: buckets, names, free list),
   * plus the same estimate of the pending overlay as sizeBytes().
   */
  sizeInUseBytes(): number {
    const rootStats = this.root.getStats() as Stat & { free?: Stat; root?: Stat };
    const pageSize = rootStats.pageSize ?? 4096;
    let pages = 2 + treePages(rootStats.root) + treePages(rootStats.free);
    for (const db of this.dbs.values()) pages += treePages(db.getStats());
    return pages * pageSize + this.pendingBytes;
  }

  /**
   * Writes a consistent copy of the committed data into directory `dir` (created if missing) as
   * `data.mdb`, for a snapshot sent to a member that fell behind. Pending changes are flushed into
   * LMDB first; the copy is LMDB's own (a read transaction, so writes may go on meanwhile).
   */
  async backup(dir: string): Promise<void> {
    assert(!this.closed, 'backend is closed');
    this.flush();
    mkdirSync(dir, { recursive: true });
    await this.root.backup(dir, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    if (this.cancelTimer !== undefined) {
      this.cancelTimer();
      this.cancelTimer = undefined;
    }
    this.closed = true;
    await this.root.close();
  }
}

function unrefTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

function treePages(s: Stat | undefined): number {
  if (s === undefined) return 0;
  return (s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0);
}
