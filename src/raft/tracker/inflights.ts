// The window of appends a leader has sent to one follower and not yet seen acknowledged. It bounds
// both the number of messages and their total payload bytes (DESIGN §5.6: a limit on everything),
// so one slow follower cannot make the leader buffer an unbounded amount of log in flight.

import { assert } from '../../base/assert.js';

export class Inflights {
  /** Position of the oldest inflight message in the ring. */
  private start = 0;
  private n = 0;
  private totalBytes = 0;
  /** Last entry index of each inflight message; grown on demand up to `size`. */
  private indexes: bigint[] = [];
  private sizes: number[] = [];

  /**
   * @param size the most messages that may be in flight (> 0)
   * @param maxBytes the most payload bytes that may be in flight; 0 means no byte limit
   */
  constructor(
    readonly size: number,
    readonly maxBytes: number = 0,
  ) {
    assert(Number.isInteger(size) && size > 0, `Inflights: size must be a positive integer, got ${size}`);
    assert(Number.isInteger(maxBytes) && maxBytes >= 0, `Inflights: maxBytes must be >= 0, got ${maxBytes}`);
  }

  /** A copy that shares no state with this one. */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    c.start = this.start;
    c.n = this.n;
    c.totalBytes = this.totalBytes;
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    return c;
  }

  /**
   * Records a message whose last entry is `index` carrying `bytes` payload bytes. The caller must
   * check full() first, and indexes must not decrease between resets.
   */
  add(index: bigint, bytes: number = 0): void {
    assert(!this.full(), 'cannot add into a full inflights');
    assert(Number.isInteger(bytes) && bytes >= 0, `Inflights.add: bad byte count ${bytes}`);
    if (this.n > 0) {
      const last = this.indexes[this.slot(this.n - 1)]!;
      assert(index >= last, `Inflights.add: index ${index} below the last inflight ${last}`);
    }
    const pos = this.slot(this.n);
    while (pos >= this.indexes.length) this.grow();
    this.indexes[pos] = index;
    this.sizes[pos] = bytes;
    this.n++;
    this.totalBytes += bytes;
  }

  /** Ring position of the i-th inflight message. */
  private slot(i: number): number {
    const p = this.start + i;
    return p >= this.size ? p - this.size : p;
  }

  /** Doubles the ring (capped at size); followers that never lag never pay for a full window. */
  private grow(): void {
    const newLen = Math.min(Math.max(1, this.indexes.length * 2), this.size);
    // The ring only grows while it has not wrapped (start + n fits), so positions stay valid.
    for (let i = this.indexes.length; i < newLen; i++) {
      this.indexes.push(0n);
      this.sizes.push(0);
    }
  }

  /** Frees every inflight message whose index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: bigint): void {
    let freed = 0;
    let pos = this.start;
    while (freed < this.n && this.indexes[pos]! <= to) {
      this.totalBytes -= this.sizes[pos]!;
      freed++;
      pos = pos + 1 >= this.size ? 0 : pos + 1;
    }
    this.n -= freed;
    this.start = this.n === 0 ? 0 : pos;
    assert(this.totalBytes >= 0 && (this.n > 0 || this.totalBytes === 0), 'Inflights: byte count drifted');
  }

  /** Frees the oldest inflight message; no-op when nothing is in flight. */
  freeFirstOne(): void {
    if (this.n === 0) return;
    this.freeLE(this.indexes[this.start]!);
  }

  /** True when no more messages may be sent: the count or (if limited) the bytes are used up. */
  full(): boolean {
    return this.n === this.size || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  count(): number {
    return this.n;
  }

  /** Payload bytes currently in flight. */
  bytes(): number {
    return this.totalBytes;
  }

  /** Forgets every inflight message. */
  reset(): void {
    this.n = 0;
    this.start = 0;
    this.totalBytes = 0;
  }
}
