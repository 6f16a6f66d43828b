// How a simulated node keeps its raft state on its disk. The node is written against this small
// interface so that the same run can use either the WAL-backed Storage (src/wal, the real thing,
// over the node's faulty simulated FileSystem) or a MemoryStorage whose every completed save counts
// as durable (a baseline that isolates raft from the WAL). Any error thrown by save/compact/open is
// a disk failure: the node stops (fail-stop) and is restarted later from what the disk kept.
import type { Storage } from '../src/raft/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../src/raft/types.js';
import { MemoryStorage } from '../src/raft/memory-storage.js';
import type { SimDisk } from './disk.js';

export interface PersistBatch {
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  mustSync: boolean;
}

export interface NodeLog {
  /** What the RawNode reads. */
  readonly storage: Storage;
  /** Makes a Ready's snapshot, entries and hard state durable (in that order), or throws. */
  save(b: PersistBatch): Promise<void>;
  /**
   * Records a snapshot of the state machine at applied index `index` and drops the log entries
   * before `compactTo` (<= index).
   */
  snapshotAndCompact(index: bigint, cs: ConfState, data: Uint8Array, compactTo: bigint): Promise<void>;
  /** Entries on stable storage after the snapshot, in order (for the log-matching check). */
  stableEntries(): Entry[];
}

export interface StorageKind {
  readonly name: string;
  /** Opens that found (and cut off) a torn log tail. */
  readonly stats: { repairs: number };
  /**
   * Writes a fresh node's initial state: the bootstrap snapshot listing the first voters, or
   * nothing (an empty log and configuration) for a machine that joins later.
   */
  bootstrap(id: bigint, disk: SimDisk, snap: Snapshot | undefined): Promise<void>;
  /** Opens the node's log after a (re)start, from the disk only. */
  open(id: bigint, disk: SimDisk): Promise<NodeLog>;
}

function stableOf(s: Storage): Entry[] {
  const first = s.firstIndex();
  const last = s.lastIndex();
  return last < first ? [] : s.entries(first, last + 1n, Number.MAX_SAFE_INTEGER);
}

class MemoryNodeLog implements NodeLog {
  constructor(
    readonly storage: MemoryStorage,
    private readonly disk: SimDisk,
  ) {}

  async save(b: PersistBatch): Promise<void> {
    // One fault check per save: a failed save changes nothing, a completed one is durable.
    this.disk.maybeFail('write', 'memory-log');
    if (b.snapshot !== undefined && b.snapshot.metadata.index > 0n) this.storage.applySnapshot(b.snapshot);
    this.storage.append(b.entries);
    if (b.hardState !== undefined) this.storage.setHardState(b.hardState);
  }

  async snapshotAndCompact(index: bigint, cs: ConfState, data: Uint8Array, compactTo: bigint): Promise<void> {
    this.disk.maybeFail('write', 'memory-log');
    this.storage.createSnapshot(index, cs, data);
    if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
  }

  stableEntries(): Entry[] {
    return stableOf(this.storage);
  }
}

/** MemoryStorage per node, kept across crashes: only completed saves exist, so nothing is torn. */
export class MemoryStorageKind implements StorageKind {
  readonly name = 'memory';
  readonly stats = { repairs: 0 };
  private readonly stores = new Map<bigint, MemoryStorage>();

  async bootstrap(id: bigint, _disk: SimDisk, snap: Snapshot | undefined): Promise<void> {
    const s = new MemoryStorage();
    if (snap !== undefined) s.applySnapshot(snap);
    this.stores.set(id, s);
  }

  async open(id: bigint, disk: SimDisk): Promise<NodeLog> {
    disk.maybeFail('read', 'memory-log');
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`node ${id} was never bootstrapped`);
    return new MemoryNodeLog(s, disk);
  }
}

export { stableOf };
