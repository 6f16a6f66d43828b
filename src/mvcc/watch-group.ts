// A group of watchers indexed by what they watch (etcd's watcherGroup): the synced and the unsynced
// watchers of a WatchableStore each live in one. Single-key watchers, by far the most numerous,
// sit in a Map from the key's latin1 string to the watcher itself (or a Set when several watch the
// same key), so finding the watchers of an event's key costs one hash lookup whatever the number
// of watchers. Range watchers (prefix, [key, end), from-key) sit in an interval tree, one Set per
// distinct range, found by stabbing with the event's key.
import { assert } from '../base/assert.js';
import { INFINITE_END, IntervalTree } from './watch-interval-tree.js';
import type { WatchSpec } from './watch-types.js';

/** Anything held in a group: it only needs its spec. */
export interface GroupMember {
  readonly spec: WatchSpec;
}

const CHUNK = 8192;

/**
 * The key as a string of one char per byte. JS compares strings by UTF-16 code unit, so these
 * strings sort exactly as the bytes do, and hash cheaply as Map keys.
 */
export function keyString(b: Uint8Array): string {
  if (b.length <= CHUNK) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHUNK) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return s;
}

/** True when the spec watches one key (an empty end). */
export function isSingleKey(spec: WatchSpec): boolean {
  return spec.end.length === 0;
}

/** The range end as an interval-tree bound: one zero byte means "to the last key". */
export function rangeEndString(end: Uint8Array): string {
  return end.length === 1 && end[0] === 0 ? INFINITE_END : keyString(end);
}

export class WatcherGroup<W extends GroupMember> {
  private readonly keys = new Map<string, W | Set<W>>();
  private ranges = new IntervalTree<Set<W>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: W): void {
    const spec = w.spec;
    if (isSingleKey(spec)) {
      const ks = keyString(spec.key);
      const cur = this.keys.get(ks);
      if (cur === undefined) this.keys.set(ks, w);
      else if (cur instanceof Set) {
        assert(!cur.has(w), 'watcher added to a group twice');
        cur.add(w);
      } else {
        assert(cur !== w, 'watcher added to a group twice');
        this.keys.set(ks, new Set([cur, w]));
      }
      this.count++;
      return;
    }
    const lo = keyString(spec.key);
    const hi = rangeEndString(spec.end);
    const set = this.ranges.find(lo, hi);
    if (set === undefined) this.ranges.insert(lo, hi, new Set([w]));
    else {
      assert(!set.has(w), 'watcher added to a group twice');
      set.add(w);
    }
    this.count++;
  }

  /** Removes w; false when it was not in this group. */
  delete(w: W): boolean {
    const spec = w.spec;
    if (isSingleKey(spec)) {
      const ks = keyString(spec.key);
      const cur = this.keys.get(ks);
      if (cur === w) this.keys.delete(ks);
      else if (cur instanceof Set && cur.delete(w)) {
        // Back to the plain single watcher: a Set costs far more than a reference.
        if (cur.size === 1) this.keys.set(ks, cur.values().next().value as W);
      } else return false;
      this.count--;
      return true;
    }
    const lo = keyString(spec.key);
    const hi = rangeEndString(spec.end);
    const set = this.ranges.find(lo, hi);
    if (set === undefined || !set.delete(w)) return false;
    if (set.size === 0) assert(this.ranges.delete(lo, hi), 'range vanished from the interval tree');
    this.count--;
    return true;
  }

  /** Calls fn for every watcher whose key or range contains the key ks (a keyString). */
  match(ks: string, fn: (w: W) => void): void {
    const cur = this.keys.get(ks);
    if (cur !== undefined) {
      if (cur instanceof Set) for (const w of cur) fn(w);
      else fn(cur);
    }
    if (this.ranges.size !== 0) this.ranges.stab(ks, (set) => set.forEach(fn));
  }

  /** Every watcher, as a list (callers may change the group while going through it). */
  toArray(): W[] {
    const out: W[] = [];
    for (const v of this.keys.values()) {
      if (v instanceof Set) for (const w of v) out.push(w);
      else out.push(v);
    }
    this.ranges.forEach((set) => set.forEach((w) => out.push(w)));
    assert(out.length === this.count, 'watcher group count is off');
    return out;
  }

  clear(): void {
    this.keys.clear();
    this.ranges = new IntervalTree<Set<W>>();
    this.count = 0;
  }
}
