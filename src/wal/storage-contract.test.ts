// Runs the raft Storage contract against MemoryStorage and WalStorage (over MemFileSystem): fresh,
// reopened after a clean close after every write, and reopened after a power cut after every write.
import { MemFileSystem } from '../base/mem-fs.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import { storageContract, type StorageHarness } from './storage-contract.js';
import { WalStorage } from './wal-storage.js';

const DIR = '/node';
const SEG = 4096;

storageContract({
  name: 'MemoryStorage',
  reopens: false,
  async create(): Promise<StorageHarness> {
    const s = new MemoryStorage();
    return {
      storage: () => s,
      async save(hs, ents, snap) {
        if (snap !== undefined) s.applySnapshot(snap);
        s.append(ents);
        if (hs !== undefined) s.setHardState(hs);
      },
      createSnapshot: async (i, cs, data) => s.createSnapshot(i, cs, data),
      compact: async (i) => s.compact(i),
    };
  },
});

/** A WalStorage harness; `restart` (if given) replaces the storage after every write. */
function walHarness(name: string, restart?: 'close' | 'crash') {
  storageContract({
    name,
    reopens: restart !== undefined,
    async create(): Promise<StorageHarness> {
      let fs = new MemFileSystem();
      let s = await WalStorage.open(fs, DIR, { segmentSizeBytes: SEG });
      const after = async <T>(p: Promise<T>): Promise<T> => {
        const out = await p;
        if (restart === 'close') await s.close();
        if (restart === 'crash') fs = fs.crash();
        if (restart !== undefined) s = await WalStorage.open(fs, DIR, { segmentSizeBytes: SEG });
        return out;
      };
      return {
        storage: () => s,
        save: (hs, ents, snap) => after(s.save(hs, ents, snap, true)),
        createSnapshot: (i, cs, data) => after(s.createSnapshot(i, cs, data)),
        compact: (i) => after(s.compact(i)),
      };
    },
  });
}

walHarness('WalStorage');
walHarness('WalStorage reopened after each write', 'close');
walHarness('WalStorage reopened after a power cut after each write', 'crash');
