// An in-memory ordered map (a B+tree): the memory backend keeps each bucket in one, and the mvcc
// tree index keeps key -> keyIndex in one. Lookups, inserts and deletes are O(log n); iteration
// walks the linked leaves, so a range costs O(log n + k). Nodes hold up to `capacity` entries;
// a node that falls below a quarter of that is merged with (or refilled from) a sibling, so the
// height stays logarithmic under any mix of inserts and deletes.
import { assert } from '../base/assert.js';

export type Compare<K> = (a: K, b: K) => number;

interface Leaf<K, V> {
  leaf: true;
  keys: K[];
  vals: V[];
  next: Leaf<K, V> | null;
}

interface Branch<K, V> {
  leaf: false;
  /** keys[i] separates children[i] (keys < keys[i]) from children[i + 1] (keys >= keys[i]). */
  keys: K[];
  children: Node<K, V>[];
}

type Node<K, V> = Leaf<K, V> | Branch<K, V>;

interface Split<K, V> {
  sep: K;
  right: Node<K, V>;
}

const DEFAULT_CAPACITY = 64;

export class SortedMap<K, V> {
  private root: Node<K, V> = newLeaf();
  private count = 0;
  /** Bumped by every structural change; iteration asserts it does not move under it. */
  private mutations = 0;
  private readonly minFill: number;

  constructor(
    private readonly compare: Compare<K>,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {
    assert(capacity >= 8, 'SortedMap capacity must be at least 8');
    this.minFill = capacity >> 2;
  }

  get size(): number {
    return this.count;
  }

  get(key: K): V | undefined {
    let node = this.root;
    while (!node.leaf) node = node.children[upperBound(node.keys, key, this.compare)]!;
    const i = lowerBound(node.keys, key, this.compare);
    if (i < node.keys.length && this.compare(node.keys[i]!, key) === 0) return node.vals[i];
    return undefined;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Inserts or replaces; returns true when the key was new. */
  set(key: K, value: V): boolean {
    const before = this.count;
    const split = this.insert(this.root, key, value);
    if (split !== undefined) {
      this.root = { leaf: false, keys: [split.sep], children: [this.root, split.right] };
    }
    return this.count !== before;
  }

  /** Removes the key; returns true when it was present. */
  delete(key: K): boolean {
    const found = this.remove(this.root, key);
    if (found) {
      while (!this.root.leaf && this.root.children.length === 1) this.root = this.root.children[0]!;
    }
    return found;
  }

  clear(): void {
    this.root = newLeaf();
    this.count = 0;
    this.mutations++;
  }

  /**
   * Visits entries with start <= key < end in ascending order (start undefined = from the first
   * key, end undefined = to the last). Stops early when fn returns false. fn must not mutate
   * the map.
   */
  forEachRange(start: K | undefined, end: K | undefined, fn: (key: K, value: V) => boolean | void): void {
    const stamp = this.mutations;
    let leaf: Leaf<K, V> | null;
    let i: number;
    if (start === undefined) {
      leaf = this.firstLeaf();
      i = 0;
    } else {
      let node = this.root;
      while (!node.leaf) node = node.children[upperBound(node.keys, start, this.compare)]!;
      leaf = node;
      i = lowerBound(node.keys, start, this.compare);
    }
    while (leaf !== null) {
      const keys = leaf.keys;
      for (; i < keys.length; i++) {
        const k = keys[i]!;
        if (end !== undefined && this.compare(k, end) >= 0) return;
        const more = fn(k, leaf.vals[i]!);
        assert(this.mutations === stamp, 'SortedMap mutated during iteration');
        if (more === false) return;
      }
      leaf = leaf.next;
      i = 0;
    }
  }

  /**
   * Like forEachRange, but pulled: yields entries with start <= key < end in ascending order.
   * The map must not be mutated while the iterator is in use.
   */
  *rangeEntries(start: K, end: K | undefined): Generator<[K, V], void, undefined> {
    const stamp = this.mutations;
    let node = this.root;
    while (!node.leaf) node = node.children[upperBound(node.keys, start, this.compare)]!;
    let i = lowerBound(node.keys, start, this.compare);
    for (let leaf: Leaf<K, V> | null = node; leaf !== null; leaf = leaf.next, i = 0) {
      for (; i < leaf.keys.length; i++) {
        assert(this.mutations === stamp, 'SortedMap mutated during iteration');
        const k = leaf.keys[i]!;
        if (end !== undefined && this.compare(k, end) >= 0) return;
        yield [k, leaf.vals[i]!];
      }
    }
  }

  *entries(): IterableIterator<[K, V]> {
    const stamp = this.mutations;
    for (let leaf: Leaf<K, V> | null = this.firstLeaf(); leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.keys.length; i++) {
        assert(this.mutations === stamp, 'SortedMap mutated during iteration');
        yield [leaf.keys[i]!, leaf.vals[i]!];
      }
    }
  }

  /** Checks every structural invariant (for tests): order, separators, fill, leaf chain, size. */
  assertValid(): void {
    const leaves: Leaf<K, V>[] = [];
    const depths = new Set<number>();
    const walk = (node: Node<K, V>, lo: K | undefined, hi: K | undefined, depth: number): void => {
      const keys = node.keys;
      for (let i = 0; i < keys.length; i++) {
        if (i > 0) assert(this.compare(keys[i - 1]!, keys[i]!) < 0, 'keys out of order');
        if (lo !== undefined) assert(this.compare(keys[i]!, lo) >= 0, 'key below separator');
        if (hi !== undefined) assert(this.compare(keys[i]!, hi) < 0, 'key above separator');
      }
      if (node.leaf) {
        assert(node.vals.length === keys.length, 'leaf keys/vals differ');
        if (node !== this.root) assert(keys.length >= this.minFill, 'leaf underfull');
        depths.add(depth);
        leaves.push(node);
        return;
      }
      assert(node.children.length === keys.length + 1, 'branch fan-out mismatch');
      if (node !== this.root) assert(node.children.length >= this.minFill, 'branch underfull');
      node.children.forEach((c, i) =>
        walk(c, i === 0 ? lo : keys[i - 1], i === keys.length ? hi : keys[i], depth + 1),
      );
    };
    walk(this.root, undefined, undefined, 0);
    assert(depths.size === 1, 'leaves at different depths');
    let n = 0;
    for (let i = 0; i < leaves.length; i++) {
      assert(leaves[i]!.next === (leaves[i + 1] ?? null), 'leaf chain broken');
      n += leaves[i]!.keys.length;
    }
    assert(n === this.count, 'size mismatch');
  }

  private firstLeaf(): Leaf<K, V> {
    let node = this.root;
    while (!node.leaf) node = node.children[0]!;
    return node;
  }

  private insert(node: Node<K, V>, key: K, value: V): Split<K, V> | undefined {
    if (node.leaf) {
      const i = lowerBound(node.keys, key, this.compare);
      if (i < node.keys.length && this.compare(node.keys[i]!, key) === 0) {
        node.vals[i] = value;
        return undefined;
      }
      node.keys.splice(i, 0, key);
      node.vals.splice(i, 0, value);
      this.count++;
      this.mutations++;
      return node.keys.length > this.capacity ? splitLeaf(node) : undefined;
    }
    const ci = upperBound(node.keys, key, this.compare);
    const split = this.insert(node.children[ci]!, key, value);
    if (split === undefined) return undefined;
    node.keys.splice(ci, 0, split.sep);
    node.children.splice(ci + 1, 0, split.right);
    return node.children.length > this.capacity ? splitBranch(node) : undefined;
  }

  private remove(node: Node<K, V>, key: K): boolean {
    if (node.leaf) {
      const i = lowerBound(node.keys, key, this.compare);
      if (i >= node.keys.length || this.compare(node.keys[i]!, key) !== 0) return false;
      node.keys.splice(i, 1);
      node.vals.splice(i, 1);
      this.count--;
      this.mutations++;
      return true;
    }
    const ci = upperBound(node.keys, key, this.compare);
    const child = node.children[ci]!;
    if (!this.remove(child, key)) return false;
    const fill = child.leaf ? child.keys.length : child.children.length;
    if (fill < this.minFill) this.rebalance(node, ci);
    return true;
  }

  /** Child ci of parent is underfull: merge it with a neighbour, re-splitting if that overflows. */
  private rebalance(parent: Branch<K, V>, ci: number): void {
    if (parent.children.length < 2) return;
    const li = ci > 0 ? ci - 1 : ci;
    const left = parent.children[li]!;
    const right = parent.children[li + 1]!;
    let split: Split<K, V> | undefined;
    if (left.leaf) {
      assert(right.leaf, 'B+tree siblings differ in kind');
      left.keys.push(...right.keys);
      left.vals.push(...right.vals);
      left.next = right.next;
      if (left.keys.length > this.capacity) split = splitLeaf(left);
    } else {
      assert(!right.leaf, 'B+tree siblings differ in kind');
      left.keys.push(parent.keys[li]!, ...right.keys);
      left.children.push(...right.children);
      if (left.children.length > this.capacity) split = splitBranch(left);
    }
    if (split === undefined) {
      parent.keys.splice(li, 1);
      parent.children.splice(li + 1, 1);
    } else {
      parent.keys[li] = split.sep;
      parent.children[li + 1] = split.right;
    }
  }
}

function newLeaf<K, V>(): Leaf<K, V> {
  return { leaf: true, keys: [], vals: [], next: null };
}

function splitLeaf<K, V>(node: Leaf<K, V>): Split<K, V> {
  const mid = node.keys.length >> 1;
  const right: Leaf<K, V> = {
    leaf: true,
    keys: node.keys.splice(mid),
    vals: node.vals.splice(mid),
    next: node.next,
  };
  node.next = right;
  return { sep: right.keys[0]!, right };
}

function splitBranch<K, V>(node: Branch<K, V>): Split<K, V> {
  const mid = node.keys.length >> 1;
  const sep = node.keys[mid]!;
  const right: Branch<K, V> = {
    leaf: false,
    keys: node.keys.splice(mid + 1),
    children: node.children.splice(mid + 1),
  };
  node.keys.length = mid;
  return { sep, right };
}

/** First index whose key is >= key. */
function lowerBound<K>(keys: K[], key: K, compare: Compare<K>): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose key is > key: the child of a branch that may hold key. */
function upperBound<K>(keys: K[], key: K, compare: Compare<K>): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(keys[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
