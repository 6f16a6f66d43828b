// KVStore: the multi-version key-value store over a Backend (etcd's kvstore.go). The `key` bucket
// maps revision bytes to protobuf KeyValues (tombstones carry only the key); the in-memory tree
// index maps each key to its revisions. Everything is a pure function of the writes applied: no
// clock, no randomness, so replicas that apply the same entries hold the same bytes and hash.
//
// Failures a client should see (compacted, future revision) are thrown as EtcdError before any
// state changes, so a caller may catch them and go on with the same backend transaction. If a
// backend transaction that carried changes of this store aborts, the in-memory index no longer
// matches the backend: the store then refuses all further use (reopen it to rebuild the index).
import { assert, AssertionError } from '../base/assert.js';
import { utf8 } from '../base/bytes.js';
import { crc32c } from '../base/crc32c.js';
import { Err, EtcdError } from '../base/errors.js';
import { silentLogger, type Logger } from '../base/log.js';
import type { Backend, WriteTx } from '../backend/backend.js';
import {
  CompactionRun,
  SCHEDULED_COMPACT_KEY,
  type CompactionEnv,
  type CompactionJob,
} from './compaction.js';
import {
  rangeKeys,
  StoreTxnWrite,
  type RangeOptions,
  type RangeResult,
  type TxnHost,
  type TxnWrite,
} from './kv-txn.js';
import { restoreStore } from './restore.js';
import { bytesToRev, revGreaterThan, revId, revToBytes, type Revision } from './revision.js';
import { TreeIndex } from './tree-index.js';

export const DEFAULT_COMPACTION_BATCH_LIMIT = 1000;
export const DEFAULT_RESTORE_CHUNK_KEYS = 10000;
const KEY_BUCKET_NAME = utf8('key');
const EMPTY = new Uint8Array(0);

export interface KVStoreOptions {
  /** Revisions deleted per backend transaction by a compaction job (etcd's default 1000). */
  compactionBatchLimit?: number;
  /** Entries of the key bucket read per chunk while rebuilding the index (etcd's 10000). */
  restoreChunkKeys?: number;
  logger?: Logger;
  /** Awaited between compaction batches; defaults to one turn of the event loop. */
  yieldBetweenBatches?: () => Promise<void>;
  /** Called once per live key attached to a lease while the store is opened (for the lessor). */
  onRestoreLeasedKey?: (key: Uint8Array, lease: bigint) => void;
}

export interface HashResult {
  /** CRC-32C over "key" then each kept revision key and value, as etcd 3.4's HashKV. */
  hash: number;
  compactRev: bigint;
  currentRev: bigint;
}

export class KVStore implements TxnHost {
  readonly index = new TreeIndex();
  private curRev = 1n;
  private compactMain = -1n;
  private activeTxn: StoreTxnWrite | undefined;
  /** The backend transaction whose commit and abort hooks are registered. */
  private hookedTx: WriteTx | undefined;
  private broken: string | undefined;
  private closed = false;
  /** Compaction jobs run one after another, in the order they were requested. */
  private compactionChain: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly batchLimit: number;
  private readonly yieldFn: () => Promise<void>;
  /** The compaction resumed by open() when a previous one had not finished. */
  resumedCompaction: CompactionJob | undefined;

  private constructor(
    readonly backend: Backend,
    opts: KVStoreOptions,
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.batchLimit = opts.compactionBatchLimit ?? DEFAULT_COMPACTION_BATCH_LIMIT;
    assert(this.batchLimit > 0, 'compactionBatchLimit must be positive');
    this.yieldFn = opts.yieldBetweenBatches ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  }

  /** Opens the store: rebuilds the index from the key bucket and resumes an unfinished compaction. */
  static open(backend: Backend, opts: KVStoreOptions = {}): KVStore {
    const s = new KVStore(backend, opts);
    const chunk = opts.restoreChunkKeys ?? DEFAULT_RESTORE_CHUNK_KEYS;
    assert(chunk > 0, 'restoreChunkKeys must be positive');
    const restored = restoreStore(backend, s.index, chunk, opts.onRestoreLeasedKey);
    s.compactMain = restored.finishedCompactRev;
    if (s.compactMain !== -1n) {
      s.logger.info('restored last compact revision', {
        'restored-compact-revision': s.compactMain.toString(),
      });
    }
    // Revisions just below the compaction may all have been deleted: never go below it.
    s.curRev = restored.lastRev > s.compactMain ? restored.lastRev : s.compactMain;
    const scheduled = restored.scheduledCompactRev;
    if (scheduled !== 0n && scheduled > s.compactMain && scheduled <= s.curRev) {
      s.logger.info('resume scheduled compaction', { 'scheduled-compact-revision': scheduled.toString() });
      s.compactMain = scheduled;
      s.resumedCompaction = s.startCompaction(scheduled);
    }
    return s;
  }

  /** The revision of the last completed write transaction. */
  get currentRev(): bigint {
    return this.curRev;
  }

  /** etcd's compactMainRev: the last compaction revision (-1 before any). */
  get compactRev(): bigint {
    return this.compactMain;
  }

  /** etcd's FirstRev(): the compaction revision, below which history is gone. */
  get firstRev(): bigint {
    return this.compactMain;
  }

  get compactMainRev(): bigint {
    return this.compactMain;
  }

  /** Reads at the current revision (or opts.rev) outside any write transaction. */
  range(key: Uint8Array, end?: Uint8Array, opts?: RangeOptions): RangeResult {
    this.assertUsable();
    return this.backend.read((tx) => rangeKeys(this, tx, key, end, this.curRev, opts));
  }

  /** Begins a write transaction inside the caller's backend transaction; call end() before it commits. */
  write(tx: WriteTx): TxnWrite {
    this.assertUsable();
    assert(this.activeTxn === undefined, 'a TxnWrite is already open');
    const txn = new StoreTxnWrite(this, tx, this.curRev);
    this.activeTxn = txn;
    // A batch applies many TxnWrites in one backend transaction: hook it once, not per TxnWrite.
    if (this.hookedTx !== tx) {
      this.hookedTx = tx;
      tx.onAbort(() => this.breakStore('a backend transaction holding a TxnWrite aborted'));
      tx.onCommit(() =>
        assert(this.activeTxn === undefined, 'backend transaction committed with a TxnWrite not ended'),
      );
    }
    return txn;
  }

  /** @internal Called by TxnWrite.end(). */
  finishTxn(txn: TxnWrite, changed: boolean): void {
    assert(this.activeTxn === txn, 'ending a TxnWrite that is not the open one');
    this.activeTxn = undefined;
    if (changed) this.curRev++;
  }

  /**
   * Compacts history before rev: records scheduledCompactRev in the caller's transaction,
   * compacts the index now (reads below rev fail from here on) and returns the job that deletes
   * the obsolete revisions from the backend once that transaction has committed.
   */
  compact(tx: WriteTx, rev: bigint): CompactionJob {
    this.assertUsable();
    assert(this.activeTxn === undefined, 'compact while a TxnWrite is open');
    if (rev <= this.compactMain) throw new EtcdError(Err.compacted);
    if (rev > this.curRev) throw new EtcdError(Err.futureRev);
    tx.put('meta', SCHEDULED_COMPACT_KEY, revToBytes({ main: rev, sub: 0n }));
    tx.onAbort(() => this.breakStore('a backend transaction holding a compaction aborted'));
    this.compactMain = rev;
    const job = new CompactionRun(rev, this.index.compact(rev), this.compactionEnv());
    tx.onCommit(() => this.chain(job));
    return job;
  }

  /** etcd's HashByRev: a hash of the revisions at or below rev that a compaction at rev keeps. */
  hashByRev(rev: bigint): HashResult {
    this.assertUsable();
    const compactRev = this.compactMain;
    const currentRev = this.curRev;
    if (rev > 0n && rev <= compactRev) throw new EtcdError(Err.compacted);
    if (rev > 0n && rev > currentRev) throw new EtcdError(Err.futureRev);
    const at = rev === 0n ? currentRev : rev;
    const keep = this.index.keep(at);
    const upper: Revision = { main: at + 1n, sub: 0n };
    const lower: Revision = { main: compactRev + 1n, sub: 0n };
    let h = crc32c(KEY_BUCKET_NAME);
    this.backend.read((tx) =>
      tx.forEach('key', EMPTY, undefined, (k, v) => {
        const kr = bytesToRev(k);
        if (!revGreaterThan(upper, kr)) return false;
        // Revisions the compaction is deleting do not count; nor, before any, does anything kept.
        if (revGreaterThan(lower, kr) && keep.size > 0 && !keep.has(revId(kr))) return true;
        h = crc32c(v, crc32c(k, h));
        return true;
      }),
    );
    return { hash: h, compactRev, currentRev };
  }

  /** Stops compaction between batches (it resumes on the next open); the store refuses further use. */
  close(): void {
    this.closed = true;
  }

  private startCompaction(rev: bigint): CompactionJob {
    const job = new CompactionRun(rev, this.index.compact(rev), this.compactionEnv());
    this.chain(job);
    return job;
  }

  private chain(job: CompactionRun): void {
    this.compactionChain = this.compactionChain.then(() => job.run());
  }

  private compactionEnv(): CompactionEnv {
    return {
      backend: this.backend,
      logger: this.logger,
      batchLimit: this.batchLimit,
      yieldBetweenBatches: this.yieldFn,
      stopped: () => this.closed,
    };
  }

  private breakStore(why: string): void {
    this.broken = why;
    this.activeTxn = undefined;
  }

  private assertUsable(): void {
    assert(!this.closed, 'kv store is closed');
    if (this.broken !== undefined) {
      throw new AssertionError(`kv store unusable: ${this.broken}; reopen it to rebuild the index`);
    }
  }
}
