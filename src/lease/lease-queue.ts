// LeaseQueue: a min-heap of lease IDs by a time in milliseconds, with at most one entry per lease
// (etcd's LeaseExpiredNotifier). The leader keeps its leases' revoke deadlines here, so finding
// what has expired costs O(log n) per expired lease instead of a scan of every lease.
import { assert } from '../base/assert.js';

interface Item {
  id: bigint;
  atMs: number;
  index: number;
}

export class LeaseQueue {
  private readonly heap: Item[] = [];
  private readonly byId = new Map<bigint, Item>();

  get size(): number {
    return this.heap.length;
  }

  /** Sets the time of lease `id`, adding it when absent. */
  set(id: bigint, atMs: number): void {
    const old = this.byId.get(id);
    if (old !== undefined) {
      const before = old.atMs;
      old.atMs = atMs;
      if (atMs < before) this.up(old.index);
      else this.down(old.index);
      return;
    }
    const item: Item = { id, atMs, index: this.heap.length };
    this.heap.push(item);
    this.byId.set(id, item);
    this.up(item.index);
  }

  /** The entry with the earliest time, without removing it. */
  peek(): { id: bigint; atMs: number } | undefined {
    const top = this.heap[0];
    return top === undefined ? undefined : { id: top.id, atMs: top.atMs };
  }

  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  timeOf(id: bigint): number | undefined {
    return this.byId.get(id)?.atMs;
  }

  /** Removes lease `id`; returns whether it was queued. */
  delete(id: bigint): boolean {
    const item = this.byId.get(id);
    if (item === undefined) return false;
    this.byId.delete(id);
    const last = this.heap.pop()!;
    if (last !== item) {
      this.heap[item.index] = last;
      last.index = item.index;
      this.up(last.index);
      this.down(last.index);
    }
    return true;
  }

  clear(): void {
    this.heap.length = 0;
    this.byId.clear();
  }

  /** Checks the heap order and the index of every entry (for tests). */
  checkInvariants(): void {
    assert(this.byId.size === this.heap.length, 'lease queue: map and heap sizes differ');
    for (let i = 0; i < this.heap.length; i++) {
      const it = this.heap[i]!;
      assert(it.index === i, 'lease queue: stale index');
      assert(this.byId.get(it.id) === it, 'lease queue: map entry differs');
      if (i > 0) assert(this.heap[(i - 1) >> 1]!.atMs <= it.atMs, 'lease queue: heap order broken');
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (parent.atMs <= item.atMs) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = item;
    item.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.atMs < h[l]!.atMs ? r : l;
      const child = h[c]!;
      if (child.atMs >= item.atMs) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = item;
    item.index = i;
  }
}
