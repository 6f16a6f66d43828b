// Starting a member's raft state, as etcd's bootstrap does: a new cluster's first WAL holds one
// committed ConfChangeAddNode entry per initial member (term 1, context = the member's JSON), so
// the members reach the backend through the same apply path as runtime changes; a member joining
// an existing cluster starts with an empty log that the leader fills; a restart rebuilds raft's
// MemoryStorage from the WAL and the newest snapshot, with the configuration and applied index the
// backend recorded, so nothing applied is handed out again.
import { encodeConfChange } from '../raft/confchange/codec.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import { ConfChangeType, EntryType, type ConfState, type Entry, type HardState } from '../raft/types.js';
import { encodeMember, type Member } from './members.js';
import type { BootState, MemberStorage } from './storage.js';

/** etcd's bootstrap entries: AddNode for each initial member, in ascending ID order. */
export function bootstrapEntries(members: readonly Member[]): Entry[] {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.map((m, i) => ({
    term: 1n,
    index: BigInt(i + 1),
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: m.id, context: encodeMember(m), id: 0n }),
  }));
}

/** Writes a new cluster's bootstrap entries to the fresh WAL (durable) and into the boot state. */
export async function bootstrapNewCluster(storage: MemberStorage, members: readonly Member[]): Promise<void> {
  const entries = bootstrapEntries(members);
  const hs: HardState = { term: 1n, vote: 0n, commit: BigInt(entries.length) };
  await storage.wal.save(hs, entries);
  storage.boot.entries = entries;
  storage.boot.hardState = hs;
}

/**
 * Raft's storage at start. `applied`/`confState` are what the backend recorded; raft starts with
 * that configuration and does not hand out entries up to `applied` again.
 */
export function raftStorageFor(boot: BootState, applied: bigint, confState: ConfState): MemoryStorage {
  const mem = new MemoryStorage();
  if (boot.snapshot !== undefined) {
    const md = boot.snapshot.metadata;
    mem.applySnapshot({ data: boot.snapshot.data, metadata: { ...md, confState } });
  } else {
    mem.bootstrapConfState(confState);
  }
  mem.append(boot.entries.filter((e) => e.index > (boot.snapshot?.metadata.index ?? 0n)));
  const hs = boot.hardState;
  // A commit-only hard state may not have reached the WAL; what the backend applied was committed.
  mem.setHardState(hs.commit < applied ? { ...hs, commit: applied } : hs);
  return mem;
}
