// The tree index: every key's keyIndex in a B+tree ordered by key bytes (etcd's index.go), and
// the same keyIndexes in a hash map for point lookups, the path of every put. Ranges follow
// etcd's convention at this layer's API: end undefined or empty = the single key `key`;
// end = "\0" (one zero byte) = every key >= key; otherwise [key, end).
import { assert } from '../base/assert.js';
import { compareBytes } from '../base/bytes.js';
import { SortedMap } from '../backend/sorted-map.js';
import { BytesMap } from './bytes-map.js';
import { KeyIndex, type KeyAtRev } from './key-index.js';
import { compareRev, type Revision, type RevisionSet } from './revision.js';

/** What a range end means: one key, [key, end), or everything from key on. */
function rangeEnd(end: Uint8Array | undefined): Uint8Array | undefined | null {
  if (end === undefined || end.length === 0) return null;
  if (end.length === 1 && end[0] === 0) return undefined;
  return end;
}

export class TreeIndex {
  private readonly tree = new SortedMap<Uint8Array, KeyIndex>(compareBytes);
  private readonly byKey = new BytesMap<KeyIndex>();

  /** Number of keys with a keyIndex (live or with history not yet compacted). */
  get size(): number {
    return this.tree.size;
  }

  keyIndex(key: Uint8Array): KeyIndex | undefined {
    return this.byKey.get(key);
  }

  /** Records a put of key at rev. A new key is stored as a copy, so callers' buffers are not pinned. */
  put(key: Uint8Array, rev: Revision): void {
    let ki = this.byKey.get(key);
    if (ki === undefined) {
      ki = new KeyIndex(key.slice());
      this.insert(ki);
    }
    ki.putRev(rev);
  }

  /** Records a delete of key at rev; false when the key has no live version to delete. */
  tombstone(key: Uint8Array, rev: Revision): boolean {
    const ki = this.byKey.get(key);
    if (ki === undefined) return false;
    return ki.tombstone(rev.main, rev.sub);
  }

  /** Inserts a keyIndex built elsewhere (restore). */
  insert(ki: KeyIndex): void {
    assert(this.tree.set(ki.key, ki), 'keyIndex inserted twice');
    this.byKey.set(ki.key, ki);
  }

  get(key: Uint8Array, atRev: bigint): KeyAtRev | undefined {
    return this.byKey.get(key)?.get(atRev);
  }

  /**
   * Visits each key in the range that exists at atRev, in key order, with the revision visible
   * then; stops when fn returns false.
   */
  visitAt(
    key: Uint8Array,
    end: Uint8Array | undefined,
    atRev: bigint,
    fn: (key: Uint8Array, rev: Revision) => boolean | void,
  ): void {
    const e = rangeEnd(end);
    if (e === null) {
      const got = this.get(key, atRev);
      if (got !== undefined) fn(key, got.modified);
      return;
    }
    this.tree.forEachRange(key, e, (k, ki) => {
      const got = ki.get(atRev);
      if (got === undefined) return true;
      return fn(k, got.modified);
    });
  }

  /** Keys in the range that exist at atRev, with their visible revisions. */
  range(
    key: Uint8Array,
    end: Uint8Array | undefined,
    atRev: bigint,
  ): { keys: Uint8Array[]; revs: Revision[] } {
    const keys: Uint8Array[] = [];
    const revs: Revision[] = [];
    this.visitAt(key, end, atRev, (k, r) => {
      keys.push(k);
      revs.push(r);
    });
    return { keys, revs };
  }

  /**
   * Up to `limit` keys in key order with their visible revisions (limit 0 = all, negative =
   * none, for a count), and the count of every key in the range that exists at atRev.
   */
  revisions(
    key: Uint8Array,
    end: Uint8Array | undefined,
    atRev: bigint,
    limit: number,
  ): { keys: Uint8Array[]; revs: Revision[]; count: number } {
    const keys: Uint8Array[] = [];
    const revs: Revision[] = [];
    let count = 0;
    this.visitAt(key, end, atRev, (k, r) => {
      if (limit === 0 || revs.length < limit) {
        keys.push(k);
        revs.push(r);
      }
      count++;
    });
    return { keys, revs, count };
  }

  /** Every revision at or after rev of the keys in the range, in revision order (for watch). */
  rangeSince(key: Uint8Array, end: Uint8Array | undefined, rev: bigint): Revision[] {
    const e = rangeEnd(end);
    if (e === null) return this.byKey.get(key)?.since(rev) ?? [];
    const out: Revision[] = [];
    this.tree.forEachRange(key, e, (_k, ki) => {
      for (const r of ki.since(rev)) out.push(r);
    });
    return out.sort(compareRev);
  }

  /** Compacts every keyIndex at rev, dropping the ones left empty; returns the revisions kept. */
  compact(rev: bigint): RevisionSet {
    const available: RevisionSet = new Set();
    const emptied: Uint8Array[] = [];
    this.tree.forEachRange(undefined, undefined, (k, ki) => {
      ki.compact(rev, available);
      if (ki.isEmpty()) emptied.push(k);
    });
    for (const k of emptied) {
      assert(this.tree.delete(k) && this.byKey.delete(k), 'compacted keyIndex vanished');
    }
    return available;
  }

  /** The revisions compact(rev) would keep, without changing anything (for hashByRev). */
  keep(rev: bigint): RevisionSet {
    const available: RevisionSet = new Set();
    this.tree.forEachRange(undefined, undefined, (_k, ki) => ki.keep(rev, available));
    return available;
  }

  /** Every keyIndex in key order (for tests and equality checks). */
  *entries(): IterableIterator<KeyIndex> {
    for (const [, ki] of this.tree.entries()) yield ki;
  }
}
