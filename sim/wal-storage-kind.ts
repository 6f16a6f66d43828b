// The node's raft state kept by the real thing: src/wal's WalStorage (WAL segments + snapshot
// files) over the node's fault-injecting simulated disk. A restart reopens it from the disk alone,
// after MemFileSystem's crash has dropped, kept or torn whatever was not fsynced — so the run
// exercises the WAL's torn-tail repair, snapshot markers and its durability promises.
import { WalStorage } from '../src/wal/wal-storage.js';
import type { ConfState, Entry, Snapshot } from '../src/raft/types.js';
import type { SimDisk } from './disk.js';
import { stableOf, type NodeLog, type PersistBatch, type StorageKind } from './node-storage.js';

const DIR = '/data';

class WalNodeLog implements NodeLog {
  constructor(readonly storage: WalStorage) {}

  async save(b: PersistBatch): Promise<void> {
    await this.storage.save(b.hardState, b.entries, b.snapshot, b.mustSync);
  }

  async snapshotAndCompact(index: bigint, cs: ConfState, data: Uint8Array, compactTo: bigint): Promise<void> {
    await this.storage.createSnapshot(index, cs, data);
    if (compactTo > this.storage.firstIndex()) await this.storage.compact(compactTo);
  }

  stableEntries(): Entry[] {
    return stableOf(this.storage);
  }
}

export class WalStorageKind implements StorageKind {
  readonly name = 'wal';
  readonly stats = { repairs: 0 };
  /** Small segments, so cuts and segment release happen within a run. */
  constructor(private readonly segmentSizeBytes = 16 * 1024) {}

  async bootstrap(_id: bigint, disk: SimDisk, snap: Snapshot | undefined): Promise<void> {
    const s = await WalStorage.open(disk, DIR, { segmentSizeBytes: this.segmentSizeBytes });
    if (snap !== undefined) await s.applySnapshot(snap);
    await s.close();
  }

  async open(_id: bigint, disk: SimDisk): Promise<NodeLog> {
    const s = await WalStorage.open(disk, DIR, { segmentSizeBytes: this.segmentSizeBytes });
    if (s.repaired !== undefined) this.stats.repairs++;
    return new WalNodeLog(s);
  }
}
