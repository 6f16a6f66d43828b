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
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase, type TransactionFlags } from 'lmdb';
import { assert, AssertionError } from '../base/assert.js';
import { copyBytes } from './copy-bytes.js';
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
}

interface Stat {
  pageSize?: number;
  treeBranchPageCount?: number;
  treeLeafPageCount?: number;
  overflowPages?: number;
}

interface SyncableDb {
  sync(callback: (error?: Error | null) => void): void;
}

class LmdbReadTx implements ReadTx {
  constructor(protected readonly dbs: Map<Bucket, Db>) {}

  protected db(bucket: Bucket): Db {
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
}

class LmdbWriteTx extends LmdbReadTx implements WriteTx {
  readonly commitHooks: (() => void)[] = [];
  readonly abortHooks: (() => void)[] = [];
  open = true;

  put(bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    assert(this.open, 'write transaction already finished');
    this.db(bucket).putSync(key, value);
  }

  delete(bucket: Bucket, key: Uint8Array): boolean {
    assert(this.open, 'write transaction already finished');
    return this.db(bucket).removeSync(key);
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
  private readonly reader: LmdbReadTx;
  private writing: LmdbWriteTx | undefined;
  private closed = false;

  private constructor(
    private readonly path: string,
    mapSizeBytes: number,
  ) {
    this.root = open<Uint8Array, Uint8Array>({
      path,
      noSubdir: false,
      maxDbs: 16,
      mapSize: mapSizeBytes,
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
    }
    this.reader = new LmdbReadTx(this.dbs);
  }

  static open(opts: LmdbBackendOptions): LmdbBackend {
    return new LmdbBackend(opts.path, opts.mapSizeBytes ?? DEFAULT_MAP_SIZE_BYTES);
  }

  /** Deletes a closed backend's directory and files (for tests, benchmarks and tooling). */
  static remove(path: string): void {
    rmSync(path, { recursive: true, force: true });
  }

  read<T>(fn: (tx: ReadTx) => T): T {
    assert(!this.closed, 'backend is closed');
    // lmdb-js reads through the open write transaction when there is one, and otherwise through
    // a read transaction it renews after every commit; nothing commits while fn runs.
    return fn(this.writing ?? this.reader);
  }

  write<T>(fn: (tx: WriteTx) => T): T {
    assert(!this.closed, 'backend is closed');
    assert(this.writing === undefined, 'write transactions do not nest');
    const tx = new LmdbWriteTx(this.dbs);
    this.writing = tx;
    let result: T;
    try {
      result = this.root.transactionSync(() => {
        const r = fn(tx);
        assert(!isThenable(r), 'backend write callback must be synchronous');
        return r;
      }, WRITE_TXN_FLAGS);
    } catch (err) {
      tx.open = false;
      this.writing = undefined;
      for (const h of tx.abortHooks) h();
      throw err;
    }
    tx.open = false;
    this.writing = undefined;
    for (const h of tx.commitHooks) h();
    return result;
  }

  sync(): Promise<void> {
    assert(!this.closed, 'backend is closed');
    return new Promise((resolve, reject) => {
      (this.root as unknown as SyncableDb).sync((error) => {
        if (error !== undefined && error !== null) reject(error);
        else resolve();
      });
    });
  }

  sizeBytes(): number {
    return statSync(join(this.path, 'data.mdb')).size;
  }

  /** Pages reachable from the meta pages: the two metas, every tree (buckets, names, free list). */
  sizeInUseBytes(): number {
    const rootStats = this.root.getStats() as Stat & { free?: Stat; root?: Stat };
    const pageSize = rootStats.pageSize ?? 4096;
    let pages = 2 + treePages(rootStats.root) + treePages(rootStats.free);
    for (const db of this.dbs.values()) pages += treePages(db.getStats());
    return pages * pageSize;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    await this.root.close();
  }
}

function treePages(s: Stat | undefined): number {
  if (s === undefined) return 0;
  return (s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0);
}
