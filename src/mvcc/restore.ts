// Rebuilding the tree index from the backend when a store opens (etcd's store.restore): the key
// bucket is read in revision order, in chunks, replaying each revision into its keyIndex. A key
// first seen at a put after compaction starts from that put's created revision and version; a
// tombstone of a key never seen is history already compacted away and is skipped.
import { AssertionError } from '../base/assert.js';
import type { Backend } from '../backend/backend.js';
import { FINISHED_COMPACT_KEY, SCHEDULED_COMPACT_KEY } from './compaction.js';
import { KeyIndex } from './key-index.js';
import { decodeKeyValue } from './key-value.js';
import { bytesToRev, isTombstone, revToBytes, REV_BYTES_LEN } from './revision.js';
import type { TreeIndex } from './tree-index.js';

const MAX_INT64 = (1n << 63n) - 1n;

export interface Restored {
  /** Main revision of the last entry in the key bucket (1 when it is empty). */
  lastRev: bigint;
  /** finishedCompactRev from meta, -1 when absent. */
  finishedCompactRev: bigint;
  /** scheduledCompactRev from meta, 0 when absent. */
  scheduledCompactRev: bigint;
}

export function restoreStore(
  backend: Backend,
  index: TreeIndex,
  chunkKeys: number,
  onLeasedKey?: (key: Uint8Array, lease: bigint) => void,
): Restored {
  const [finished, scheduled] = backend.read((tx) => [
    tx.get('meta', FINISHED_COMPACT_KEY),
    tx.get('meta', SCHEDULED_COMPACT_KEY),
  ]);
  const leases = new Map<KeyIndex, bigint>();
  let lastRev = 1n;
  let min = revToBytes({ main: 1n, sub: 0n });
  const max = revToBytes({ main: MAX_INT64, sub: MAX_INT64 });
  for (;;) {
    const entries = backend.read((tx) => tx.range('key', min, max, chunkKeys));
    for (const { key: revBytes, value } of entries) {
      const r = bytesToRev(revBytes);
      lastRev = r.main;
      const kv = decodeKeyValue(value, true);
      if (kv.key.length === 0) throw new AssertionError(`stored KeyValue at ${r.main}.${r.sub} has no key`);
      let ki = index.keyIndex(kv.key);
      if (isTombstone(revBytes)) {
        if (ki !== undefined) {
          ki.tombstone(r.main, r.sub);
          leases.delete(ki);
        }
        continue;
      }
      if (ki === undefined) {
        ki = new KeyIndex(kv.key.slice());
        ki.restore({ main: kv.createRevision, sub: 0n }, r, kv.version);
        index.insert(ki);
      } else {
        ki.put(r.main, r.sub);
      }
      if (kv.lease !== 0n) leases.set(ki, kv.lease);
      else leases.delete(ki);
    }
    if (entries.length < chunkKeys) break;
    const lr = bytesToRev(entries[entries.length - 1]!.key.subarray(0, REV_BYTES_LEN));
    min = revToBytes({ main: lr.main, sub: lr.sub + 1n });
  }
  if (onLeasedKey !== undefined) for (const [ki, lease] of leases) onLeasedKey(ki.key, lease);
  return {
    lastRev,
    finishedCompactRev: finished === undefined ? -1n : bytesToRev(finished).main,
    scheduledCompactRev: scheduled === undefined ? 0n : bytesToRev(scheduled).main,
  };
}
