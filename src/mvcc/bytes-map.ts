// A hash map keyed by byte strings, for the tree index's point lookups. Every put, every
// single-key range and every single-key delete finds its keyIndex by key; in a B+tree that costs
// ~14 byte-wise comparisons of keys that often share a long prefix (/registry/pods/...), about a
// microsecond in JS. Hashing the key once (murmur3, four bytes per step) and comparing it once
// costs a tenth of that. Open addressing with linear probing; deletes shift entries back, so
// there are no tombstones; the table doubles at half load.
import { assert } from '../base/assert.js';

const MIN_CAPACITY = 16;

/** murmur3's 32-bit hash of b (seed 0). */
export function hashBytes(b: Uint8Array): number {
  const n = b.length;
  const n4 = n & ~3;
  let h = 0;
  let i = 0;
  for (; i < n4; i += 4) {
    let k = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest !== 0) {
    let k = b[i]!;
    if (rest > 1) k ^= b[i + 1]! << 8;
    if (rest > 2) k ^= b[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class BytesMap<V> {
  private keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(MIN_CAPACITY).fill(undefined);
  private vals: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  private hashes = new Int32Array(MIN_CAPACITY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: Uint8Array): V | undefined {
    const h = hashBytes(key);
    const mask = this.keys.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === undefined) return undefined;
      if (this.hashes[i] === h && sameBytes(k, key)) return this.vals[i];
    }
  }

  /** Inserts or replaces. The map keeps `key` itself; the caller must not mutate it afterwards. */
  set(key: Uint8Array, value: V): void {
    if ((this.count + 1) * 2 > this.keys.length) this.resize(this.keys.length * 2);
    const h = hashBytes(key);
    const mask = this.keys.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === undefined) {
        this.keys[i] = key;
        this.vals[i] = value;
        this.hashes[i] = h;
        this.count++;
        return;
      }
      if (this.hashes[i] === h && sameBytes(k, key)) {
        this.vals[i] = value;
        return;
      }
    }
  }

  delete(key: Uint8Array): boolean {
    const h = hashBytes(key);
    const mask = this.keys.length - 1;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const k = this.keys[i];
      if (k === undefined) return false;
      if (this.hashes[i] === h && sameBytes(k, key)) break;
    }
    // Backward-shift: move later entries of the probe run into the hole when that keeps them
    // reachable from their home slot.
    let hole = i;
    for (let j = (i + 1) & mask; this.keys[j] !== undefined; j = (j + 1) & mask) {
      const home = this.hashes[j]! & mask;
      const reachable = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (reachable) continue;
      this.keys[hole] = this.keys[j];
      this.vals[hole] = this.vals[j];
      this.hashes[hole] = this.hashes[j]!;
      hole = j;
    }
    this.keys[hole] = undefined;
    this.vals[hole] = undefined;
    this.count--;
    return true;
  }

  private resize(capacity: number): void {
    assert((capacity & (capacity - 1)) === 0, 'BytesMap capacity must be a power of two');
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Array<Uint8Array | undefined>(capacity).fill(undefined);
    this.vals = new Array<V | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.count = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i];
      if (k !== undefined) this.set(k, oldVals[i] as V);
    }
  }
}
