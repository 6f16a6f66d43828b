// Binds the MVCC store to the views apply works on (kv-view.ts): one write view per request, all
// inside the batch's backend transaction; compaction jobs started by apply are tracked so a
// graceful stop can wait for them. The events of a batch's write transactions are collected for
// the watchable store (handed over once the batch committed), which must see every revision once.
// Every put and delete also keeps the lessor's key attachments in step with the keys' lease field
// (etcd's kvstore_txn does the same), and reopening the store re-attaches every leased key.
import { AssertionError, assert, type Logger } from '../base/index.js';
import type { Backend, WriteTx } from '../backend/index.js';
import { KVStore, type Event, type TxnWrite } from '../mvcc/index.js';
import type { RangeOptions, RangeResult, ReadView, WriteView } from './kv-view.js';

/** The lessor's side of key attachments (lease/lessor.ts). */
export interface LeaseAttachments {
  /** False when there is no such lease. */
  attach(id: bigint, key: Uint8Array): boolean;
  detach(id: bigint, key: Uint8Array): boolean;
}

class StoreWriteView implements WriteView {
  changed = false;
  constructor(
    readonly txn: TxnWrite,
    readonly firstRev: bigint,
    private readonly leases: LeaseAttachments,
  ) {}

  get rev(): bigint {
    return this.txn.rev;
  }

  range(key: Uint8Array, end: Uint8Array, o: RangeOptions): RangeResult {
    return this.txn.range(key, end, { rev: o.rev, limit: o.limit, countOnly: o.countOnly });
  }

  put(key: Uint8Array, value: Uint8Array, lease: bigint): bigint {
    this.changed = true;
    const prev = this.txn.put(key, value, lease);
    if (prev !== undefined && prev.lease !== 0n && prev.lease !== lease) this.leases.detach(prev.lease, key);
    if (lease !== 0n && !this.leases.attach(lease, key)) {
      throw new AssertionError(`put attached key to lease ${lease} that does not exist`);
    }
    return this.txn.rev;
  }

  deleteRange(key: Uint8Array, end: Uint8Array): { deleted: number; rev: bigint } {
    const gone = this.txn.deleteRange(key, end);
    for (const kv of gone) if (kv.lease !== 0n) this.leases.detach(kv.lease, kv.key);
    if (gone.length > 0) this.changed = true;
    return { deleted: gone.length, rev: this.txn.rev };
  }
}

export class MvccAdapter {
  private active: StoreWriteView | undefined;
  /** The batch's events so far: the first transaction's own array (no copy), later ones appended. */
  private batchEvents: Event[] | undefined;

  private constructor(
    readonly store: KVStore,
    private readonly track: (p: Promise<void>) => void,
    private readonly leases: LeaseAttachments,
  ) {
    if (store.resumedCompaction !== undefined) track(store.resumedCompaction.done);
  }

  /** Opens the store over `backend`, attaching every live leased key to `leases` (opened first). */
  static open(
    backend: Backend,
    logger: Logger,
    track: (p: Promise<void>) => void,
    leases: LeaseAttachments,
  ): MvccAdapter {
    let orphans = 0;
    const onRestoreLeasedKey = (key: Uint8Array, lease: bigint): void => {
      if (!leases.attach(lease, key)) orphans++;
    };
    const store = KVStore.open(backend, { logger, onRestoreLeasedKey });
    if (orphans > 0) logger.error('failed to attach keys to their leases', { keys: orphans });
    return new MvccAdapter(store, track, leases);
  }

  get currentRev(): bigint {
    return this.store.currentRev;
  }

  /** The last compaction revision; 0 before any (etcd reports it so in HashKV). */
  get compactRev(): bigint {
    return this.store.compactRev < 0n ? 0n : this.store.compactRev;
  }

  readView(): ReadView {
    const store = this.store;
    return {
      rev: store.currentRev,
      firstRev: store.firstRev,
      range: (key, end, o) => store.range(key, end, { rev: o.rev, limit: o.limit, countOnly: o.countOnly }),
    };
  }

  beginWrite(tx: WriteTx): WriteView {
    assert(this.active === undefined, 'a write view is already open');
    this.active = new StoreWriteView(this.store.write(tx), this.store.firstRev, this.leases);
    return this.active;
  }

  endWrite(): void {
    if (this.active === undefined) return;
    const events = this.active.txn.end();
    this.active = undefined;
    if (events.length === 0) return;
    // The ended transaction never touches its array again, so the batch may own it: a batch of one
    // write transaction (the put path) allocates nothing here.
    if (this.batchEvents === undefined) this.batchEvents = events;
    else for (const e of events) this.batchEvents.push(e);
  }

  /** Starts collecting a batch's events for takeBatchEvents(). */
  beginBatch(): void {
    this.batchEvents = undefined;
  }

  /** The events the batch's write transactions produced, in revision order (undefined: none). */
  takeBatchEvents(): Event[] | undefined {
    const events = this.batchEvents;
    this.batchEvents = undefined;
    return events;
  }

  /** Ends a write view after a request failed its checks; the checks run before any change. */
  abortWrite(): void {
    if (this.active === undefined) return;
    if (this.active.changed) throw new AssertionError('a request failed after it changed the store');
    this.endWrite();
  }

  inWrite<T>(tx: WriteTx, fn: (w: WriteView) => T): T {
    const w = this.beginWrite(tx);
    const out = fn(w);
    this.endWrite();
    return out;
  }

  /** Schedules a compaction in the batch's transaction; resolves when its data is physically gone. */
  compact(tx: WriteTx, rev: bigint): Promise<void> {
    const job = this.store.compact(tx, rev);
    this.track(job.done);
    return job.done;
  }

  hash(rev: bigint): { hash: number; compactRev: bigint; currentRev: bigint } {
    return this.store.hashByRev(rev);
  }
}
