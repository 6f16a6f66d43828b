// The memory backend: each bucket is a SortedMap in byte order. Writes go straight into the maps
// with an undo log, so a transaction sees its own writes and a throw rolls everything back. It is
// used by tests and the simulator; nothing is persisted, so sync() resolves at once.
import { assert, AssertionError } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import {
  BUCKETS,
  collectRange,
  isThenable,
  type Backend,
  type BackendEntry,
  type Bucket,
  type ReadTx,
  type WriteTx,
} from './backend.js';
import { copyBytes } from './copy-bytes.js';
import { SortedMap } from './sorted-map.js';

type BucketMap = SortedMap<Uint8Array, Uint8Array>;

/** Rough per-entry bookkeeping cost, so sizeBytes() moves like a real file would. */
const ENTRY_OVERHEAD_BYTES = 16;

interface Undo {
  map: BucketMap;
  key: Uint8Array;
  prev: Uint8Array | undefined;
}

class MemoryReadTx implements ReadTx {
  constructor(protected readonly buckets: Map<Bucket, BucketMap>) {}

  protected map(bucket: Bucket): BucketMap {
    const m = this.buckets.get(bucket);
    if (m === undefined) throw new AssertionError(`unknown bucket ${bucket}`);
    return m;
  }

  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    return this.map(bucket).get(key);
  }

  peek(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    return this.map(bucket).get(key);
  }

  range(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, limit?: number): BackendEntry[] {
    return collectRange(limit, (fn) => this.map(bucket).forEachRange(start, end, fn));
  }

  forEach(
    bucket: Bucket,
    start: Uint8Array,
    end: Uint8Array | undefined,
    fn: (key: Uint8Array, value: Uint8Array) => boolean | void,
  ): void {
    this.map(bucket).forEachRange(start, end, fn);
  }
}

class MemoryWriteTx extends MemoryReadTx implements WriteTx {
  readonly undo: Undo[] = [];
  readonly commitHooks: (() => void)[] = [];
  readonly abortHooks: (() => void)[] = [];
  sizeDelta = 0;
  open = true;

  put(bucket: Bucket, key: Uint8Array, value: Uint8Array): void {
    assert(this.open, 'write transaction already finished');
    const map = this.map(bucket);
    const k = copyBytes(key);
    const prev = map.get(k);
    this.undo.push({ map, key: k, prev });
    map.set(k, copyBytes(value));
    this.sizeDelta += value.length - (prev === undefined ? -k.length - ENTRY_OVERHEAD_BYTES : prev.length);
  }

  delete(bucket: Bucket, key: Uint8Array): boolean {
    assert(this.open, 'write transaction already finished');
    const map = this.map(bucket);
    const prev = map.get(key);
    if (prev === undefined) return false;
    this.undo.push({ map, key: copyBytes(key), prev });
    map.delete(key);
    this.sizeDelta -= prev.length + key.length + ENTRY_OVERHEAD_BYTES;
    return true;
  }

  onCommit(fn: () => void): void {
    this.commitHooks.push(fn);
  }

  onAbort(fn: () => void): void {
    this.abortHooks.push(fn);
  }

  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const u = this.undo[i]!;
      if (u.prev === undefined) u.map.delete(u.key);
      else u.map.set(u.key, u.prev);
    }
  }
}

export class MemoryBackend implements Backend {
  private readonly buckets = new Map<Bucket, BucketMap>();
  private writing: MemoryWriteTx | undefined;
  private readonly reader: MemoryReadTx;
  private bytes = 0;
  private closed = false;

  constructor() {
    for (const b of BUCKETS) this.buckets.set(b, new SortedMap<Uint8Array, Uint8Array>(compareBytes));
    this.reader = new MemoryReadTx(this.buckets);
  }

  read<T>(fn: (tx: ReadTx) => T): T {
    assert(!this.closed, 'backend is closed');
    return fn(this.writing ?? this.reader);
  }

  write<T>(fn: (tx: WriteTx) => T): T {
    assert(!this.closed, 'backend is closed');
    assert(this.writing === undefined, 'write transactions do not nest');
    const tx = new MemoryWriteTx(this.buckets);
    this.writing = tx;
    let result: T;
    try {
      result = fn(tx);
      assert(!isThenable(result), 'backend write callback must be synchronous');
    } catch (err) {
      tx.open = false;
      tx.rollback();
      this.writing = undefined;
      for (const h of tx.abortHooks) h();
      throw err;
    }
    tx.open = false;
    this.writing = undefined;
    this.bytes += tx.sizeDelta;
    for (const h of tx.commitHooks) h();
    return result;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  sizeBytes(): number {
    return this.bytes;
  }

  sizeInUseBytes(): number {
    return this.bytes;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
