// `npm run bench -- raft`, part one: proposals per second through a three-member raft group held
// in memory (src/raft's RawNode over MemoryStorage, messages handed over in-process). No disk and no
// network: this is the cost of the consensus core itself — stepping, Ready, advance and the log —
// so it shows how far the core is from being the bottleneck behind the WAL's fdatasync.
import { Prng } from '../src/base/prng.js';
import { RawNode } from '../src/raft/raw-node.js';
import { MemoryStorage } from '../src/raft/memory-storage.js';
import { EntryType, emptyConfState, type Message } from '../src/raft/types.js';

export interface RaftCoreResult {
  members: number;
  /** Proposals handed to the leader before the group is pumped (1 = one round trip per proposal). */
  batch: number;
  proposals: number;
  elapsedSec: number;
  proposalsPerSec: number;
}

interface Member {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function newGroup(members: number, seed: number): Member[] {
  const prng = new Prng(seed);
  const ids = Array.from({ length: members }, (_, i) => BigInt(i + 1));
  return ids.map((id) => {
    const storage = new MemoryStorage();
    storage.applySnapshot({
      data: new Uint8Array(0),
      metadata: { index: 1n, term: 1n, confState: { ...emptyConfState(), voters: ids } },
    });
    const node = new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      maxInflightMsgs: 256,
      maxSizePerMsg: 1024 * 1024,
      prng: prng.fork(),
    });
    return { id, node, storage, applied: 0 };
  });
}

/** Handles every Ready of every member and delivers the messages, until the group is quiet. */
function pump(group: Member[]): void {
  const inbox: Message[] = [];
  for (;;) {
    let progressed = false;
    for (const m of group) {
      while (m.node.hasReady()) {
        progressed = true;
        const rd = m.node.ready();
        if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0n)
          m.storage.applySnapshot(rd.snapshot);
        if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
        if (rd.entries.length > 0) m.storage.append(rd.entries);
        for (const msg of rd.messages) inbox.push(msg);
        for (const e of rd.committedEntries)
          if (e.type === EntryType.Normal && e.data.length > 0) m.applied++;
        m.node.advance(rd);
      }
    }
    while (inbox.length > 0) {
      progressed = true;
      const msg = inbox.shift()!;
      group[Number(msg.to) - 1]!.node.step(msg);
    }
    if (!progressed) return;
  }
}

/** Elects member 1, then proposes `proposals` 256-byte entries in batches of `batch`. */
export function benchRaftCore(opts: {
  members?: number;
  batch: number;
  proposals: number;
  maxMs: number;
}): RaftCoreResult {
  const members = opts.members ?? 3;
  const group = newGroup(members, 1);
  const leader = group[0]!;
  leader.node.campaign();
  pump(group);
  const data = new Uint8Array(256).fill(7);
  const start = performance.now();
  let proposed = 0;
  while (proposed < opts.proposals && performance.now() - start < opts.maxMs) {
    for (let i = 0; i < opts.batch && proposed < opts.proposals; i++, proposed++) leader.node.propose(data);
    pump(group);
  }
  const elapsedSec = (performance.now() - start) / 1000;
  for (const m of group) {
    if (m.applied !== proposed)
      throw new Error(`member ${m.id} applied ${m.applied} of ${proposed} proposals`);
  }
  return {
    members,
    batch: opts.batch,
    proposals: proposed,
    elapsedSec,
    proposalsPerSec: proposed / elapsedSec,
  };
}
