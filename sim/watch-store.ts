// A node's MVCC state in watch mode: a KVStore over a MemoryBackend with a WatchableStore on top,
// applied from the same committed entries as the toy state machine. Like etcd's server it applies a
// Ready's entries in one backend transaction and notifies the watchers once after the commit; a
// compaction entry gets its own transaction, then WatchableStore.compacted. The state is volatile:
// snapshots carry a dump of the backend (etcd sends its db file), and a restarted node reopens the
// KVStore from its latest snapshot and re-applies the log. Installing a snapshot from the leader
// swaps the KVStore under the watchers (WatchableStore.rebind).
import { assert } from '../src/base/assert.js';
import { EtcdError } from '../src/base/errors.js';
import type { Bucket } from '../src/backend/backend.js';
import { MemoryBackend } from '../src/backend/memory-backend.js';
import { KVStore } from '../src/mvcc/kv-store.js';
import type { Event } from '../src/mvcc/key-value.js';
import { WatchableStore } from '../src/mvcc/watchable-store.js';
import { EntryType, type Entry } from '../src/raft/types.js';
import { decodeOp } from './state-machine.js';
import { applyCommand, decodeCommand } from './watch-ops.js';

/** Where a node reports what it applied (the committed-history checker). */
export interface MvccObserver {
  /** Node `id` applied entry `index`; its store is at `rev` with these events (maybe none). */
  onApplied(id: bigint, index: bigint, rev: bigint, events: readonly Event[]): void;
  /** Node `id` applied the compaction entry `index` at store revision `atRev` (undefined: refused). */
  onCompaction(id: bigint, index: bigint, atRev: bigint, compactRev: bigint | undefined): void;
  /** Node `id` holds the state after entry `index` from a snapshot: its store is at `rev`. */
  onRestored(id: bigint, index: bigint, rev: bigint): void;
}

export interface MvccParams {
  /** Runs a WatchableStore step in a later turn of the simulator's queue. */
  schedule: (fn: () => void) => void;
  catchUpEventsPerStep: number;
  observer: MvccObserver;
}

const DUMPED: readonly Bucket[] = ['key', 'meta'];

function openStore(backend: MemoryBackend): KVStore {
  // Compaction batches run as microtasks of the simulator's own awaits: deterministic.
  return KVStore.open(backend, { compactionBatchLimit: 64, yieldBetweenBatches: () => Promise.resolve() });
}

/** The backend's buckets as bytes: per entry a bucket number, then key and value with u32 lengths. */
function dumpBackend(backend: MemoryBackend): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  backend.read((tx) => {
    DUMPED.forEach((bucket, b) =>
      tx.forEach(bucket, new Uint8Array(0), undefined, (k, v) => {
        const head = new Uint8Array(9);
        const dv = new DataView(head.buffer);
        head[0] = b;
        dv.setUint32(1, k.length);
        dv.setUint32(5, v.length);
        parts.push(head, k.slice(), v.slice());
        size += 9 + k.length + v.length;
      }),
    );
  });
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function loadBackend(data: Uint8Array): MemoryBackend {
  const backend = new MemoryBackend();
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  backend.write((tx) => {
    for (let at = 0; at < data.length;) {
      assert(at + 9 <= data.length, 'truncated mvcc snapshot');
      const bucket = DUMPED[data[at]!];
      const kl = dv.getUint32(at + 1);
      const vl = dv.getUint32(at + 5);
      assert(bucket !== undefined && at + 9 + kl + vl <= data.length, 'bad mvcc snapshot');
      tx.put(bucket, data.subarray(at + 9, at + 9 + kl), data.subarray(at + 9 + kl, at + 9 + kl + vl));
      at += 9 + kl + vl;
    }
  });
  return backend;
}

/** Snapshot payload in watch mode: u32 length of the toy state, the toy state, the backend dump. */
export function joinSnapshot(sm: Uint8Array, mvcc: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + sm.length + mvcc.length);
  new DataView(out.buffer).setUint32(0, sm.length);
  out.set(sm, 4);
  out.set(mvcc, 4 + sm.length);
  return out;
}

export function splitSnapshot(data: Uint8Array): { sm: Uint8Array; mvcc: Uint8Array } {
  // The bootstrap snapshot carries nothing: an empty toy state and an empty store.
  if (data.length === 0) return { sm: data, mvcc: data };
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
  assert(4 + n <= data.length, 'bad watch-mode snapshot');
  return { sm: data.subarray(4, 4 + n), mvcc: data.subarray(4 + n) };
}

export class MvccState {
  kv: KVStore;
  readonly watchable: WatchableStore;
  applied: bigint;
  private backend: MemoryBackend;

  constructor(
    readonly id: bigint,
    index: bigint,
    data: Uint8Array,
    private readonly params: MvccParams,
  ) {
    this.backend = loadBackend(data);
    this.kv = openStore(this.backend);
    this.applied = index;
    this.watchable = new WatchableStore(this.kv, {
      schedule: params.schedule,
      catchUpEventsPerStep: params.catchUpEventsPerStep,
    });
    params.observer.onRestored(id, index, this.kv.currentRev);
  }

  /** Installs a snapshot from the leader: a new store under the same watchers. */
  restore(index: bigint, data: Uint8Array): void {
    const old = this.kv;
    this.backend = loadBackend(data);
    this.kv = openStore(this.backend);
    this.applied = index;
    old.close();
    this.watchable.rebind(this.kv);
    this.params.observer.onRestored(this.id, index, this.kv.currentRev);
  }

  encode(): Uint8Array {
    return dumpBackend(this.backend);
  }

  /** The process dies: no more steps, no more sink calls. */
  close(): void {
    this.watchable.close();
    this.kv.close();
  }

  /** Applies the next committed entries (a Ready's, in order). */
  applyEntries(entries: readonly Entry[]): void {
    let batch: Entry[] = [];
    for (const e of entries) {
      assert(e.index === this.applied + 1n, `mvcc apply of ${e.index} after ${this.applied}`);
      this.applied = e.index;
      const value = e.type === EntryType.Normal && e.data.length > 0 ? decodeOp(e.data).value : undefined;
      const cmd = value === undefined ? undefined : decodeCommand(value);
      if (cmd?.kind !== 'compact') {
        batch.push(e);
        continue;
      }
      this.applyBatch(batch);
      batch = [];
      this.compact(e.index, this.kv.currentRev - cmd.behind);
    }
    this.applyBatch(batch);
  }

  private applyBatch(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const applied: { index: bigint; rev: bigint; events: Event[] }[] = [];
    this.backend.write((tx) => {
      for (const e of entries) {
        if (e.type !== EntryType.Normal || e.data.length === 0) {
          applied.push({ index: e.index, rev: this.kv.currentRev, events: [] });
          continue;
        }
        const op = decodeOp(e.data);
        const txn = this.kv.write(tx);
        applyCommand(txn, decodeCommand(op.value), op);
        const events = txn.end();
        applied.push({ index: e.index, rev: this.kv.currentRev, events });
      }
    });
    for (const a of applied) this.params.observer.onApplied(this.id, a.index, a.rev, a.events);
    this.watchable.notify(applied.flatMap((a) => a.events));
  }

  private compact(index: bigint, rev: bigint): void {
    const atRev = this.kv.currentRev;
    let done: bigint | undefined;
    if (rev >= 1n) {
      try {
        this.backend.write((tx) => {
          this.kv.compact(tx, rev);
        });
        done = rev;
      } catch (err) {
        // Compacted or future revision: refused before anything changed, on every node alike.
        if (!(err instanceof EtcdError)) throw err;
      }
    }
    this.params.observer.onApplied(this.id, index, atRev, []);
    this.params.observer.onCompaction(this.id, index, atRev, done);
    if (done !== undefined) this.watchable.compacted(done);
  }
}
