// Reads through in-memory overlays of pending changes on top of a base store. The LMDB backend
// batches its commits the way etcd's bbolt backend does: a write() lands in an overlay (per
// bucket, a SortedMap from key to the new value, or null for a delete) and a later flush moves
// the overlay into LMDB in one transaction. Every read must still see every write that returned,
// so reads go through OverlayReadTx: a point lookup checks the overlays first (newest first,
// O(log n) each) and falls back to the base; a range merges the overlays' ordered entries with
// the base's ordered entries, the newest layer winning for equal keys and deleted keys hidden.
// An empty overlay costs one size check, so reads with nothing pending run as before.
import { compareBytes } from '../base/bytes.js';
import { collectRange, type BackendEntry, type Bucket, type ReadTx } from './backend.js';
import { SortedMap } from './sorted-map.js';

/** Pending changes of one bucket: key -> new value, or null for a delete. */
export type PendingMap = SortedMap<Uint8Array, Uint8Array | null>;
/** One layer of pending changes: a PendingMap per bucket (absent = nothing pending there). */
export type Layer = Map<Bucket, PendingMap>;

export function newPendingMap(): PendingMap {
  return new SortedMap<Uint8Array, Uint8Array | null>(compareBytes);
}

/** The store under the overlays, with an iterator over a range in byte order. */
export interface BaseStore extends ReadTx {
  iterate(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined): Iterator<BackendEntry>;
}

type Head = [Uint8Array, Uint8Array | null] | undefined;

export class OverlayReadTx implements ReadTx {
  /** layers: newest first. */
  constructor(
    protected readonly base: BaseStore,
    protected readonly layers: Layer[],
  ) {}

  /** The overlay's verdict on key: a value, null (deleted), or undefined (not in any layer). */
  protected lookup(bucket: Bucket, key: Uint8Array): Uint8Array | null | undefined {
    for (const layer of this.layers) {
      const m = layer.get(bucket);
      if (m === undefined || m.size === 0) continue;
      const v = m.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  get(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    const v = this.lookup(bucket, key);
    if (v === undefined) return this.base.get(bucket, key);
    return v === null ? undefined : v;
  }

  peek(bucket: Bucket, key: Uint8Array): Uint8Array | undefined {
    const v = this.lookup(bucket, key);
    if (v === undefined) return this.base.peek(bucket, key);
    return v === null ? undefined : v;
  }

  range(bucket: Bucket, start: Uint8Array, end: Uint8Array | undefined, limit?: number): BackendEntry[] {
    const maps = this.pendingMaps(bucket);
    if (maps.length === 0) return this.base.range(bucket, start, end, limit);
    return collectRange(limit, (fn) => this.merge(maps, bucket, start, end, fn));
  }

  forEach(
    bucket: Bucket,
    start: Uint8Array,
    end: Uint8Array | undefined,
    fn: (key: Uint8Array, value: Uint8Array) => boolean | void,
  ): void {
    const maps = this.pendingMaps(bucket);
    if (maps.length === 0) this.base.forEach(bucket, start, end, fn);
    else this.merge(maps, bucket, start, end, fn);
  }

  private pendingMaps(bucket: Bucket): PendingMap[] {
    const maps: PendingMap[] = [];
    for (const layer of this.layers) {
      const m = layer.get(bucket);
      if (m !== undefined && m.size > 0) maps.push(m);
    }
    return maps;
  }

  /**
   * Visits the merged entries in byte order: sources are the overlays (newest first) then the
   * base; of equal keys the earliest source wins and the others are skipped; null values hide
   * the key. Stops when fn returns false.
   */
  private merge(
    maps: PendingMap[],
    bucket: Bucket,
    start: Uint8Array,
    end: Uint8Array | undefined,
    fn: (key: Uint8Array, value: Uint8Array) => boolean | void,
  ): void {
    const baseIter = this.base.iterate(bucket, start, end);
    const sources: Iterator<[Uint8Array, Uint8Array | null]>[] = maps.map((m) => m.rangeEntries(start, end));
    sources.push({
      next: () => {
        const r = baseIter.next();
        return r.done === true
          ? { done: true, value: undefined }
          : { done: false, value: [r.value.key, r.value.value] };
      },
    });
    const heads: Head[] = sources.map((s) => pull(s));
    try {
      for (;;) {
        let win = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== undefined && (win < 0 || compareBytes(h[0], heads[win]![0]) < 0)) win = i;
        }
        if (win < 0) return;
        const [key, value] = heads[win]!;
        for (let i = win; i < heads.length; i++) {
          const h = heads[i];
          if (h !== undefined && (i === win || compareBytes(h[0], key) === 0)) heads[i] = pull(sources[i]!);
        }
        if (value !== null && fn(key, value) === false) return;
      }
    } finally {
      baseIter.return?.();
    }
  }
}

function pull(s: Iterator<[Uint8Array, Uint8Array | null]>): Head {
  const r = s.next();
  return r.done === true ? undefined : r.value;
}
