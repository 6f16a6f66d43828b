// An interval tree for the watchers of key ranges (etcd's adt.IntervalTree, as watcher_group.go
// uses it): half-open intervals [lo, hi) of strings, each holding one value, found by exact
// interval or by stabbing with a point. It is an AVL tree ordered by (lo, hi) and augmented with
// the largest hi of every subtree, so a stab visits O(log n + m) nodes for m hits instead of every
// range watcher. Keys are latin1 strings (one char per byte, see watch-group.ts), whose JS string
// order is byte order; INFINITE_END is above every such string (etcd's "\0" range end).
import { assert } from '../base/assert.js';

/** An end above every latin1 string: the range goes on to the last key. */
export const INFINITE_END = '\uffff';

interface Node<V> {
  lo: string;
  hi: string;
  /** The largest hi in this subtree. */
  maxHi: string;
  val: V;
  left: Node<V> | null;
  right: Node<V> | null;
  height: number;
}

function cmp(lo: string, hi: string, n: Node<unknown>): number {
  if (lo !== n.lo) return lo < n.lo ? -1 : 1;
  if (hi !== n.hi) return hi < n.hi ? -1 : 1;
  return 0;
}

function height(n: Node<unknown> | null): number {
  return n === null ? 0 : n.height;
}

function update(n: Node<unknown>): void {
  const l = n.left;
  const r = n.right;
  n.height = 1 + Math.max(height(l), height(r));
  let m = n.hi;
  if (l !== null && l.maxHi > m) m = l.maxHi;
  if (r !== null && r.maxHi > m) m = r.maxHi;
  n.maxHi = m;
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance<V>(n: Node<V>): Node<V> {
  update(n);
  const bf = height(n.left) - height(n.right);
  if (bf > 1) {
    if (height(n.left!.left) < height(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (height(n.right!.right) < height(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

export class IntervalTree<V> {
  private root: Node<V> | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The value stored for exactly [lo, hi), if any. */
  find(lo: string, hi: string): V | undefined {
    let n = this.root;
    while (n !== null) {
      const c = cmp(lo, hi, n);
      if (c === 0) return n.val;
      n = c < 0 ? n.left : n.right;
    }
    return undefined;
  }

  /** Stores val for [lo, hi), which must not be present yet. */
  insert(lo: string, hi: string, val: V): void {
    this.root = this.insertAt(this.root, lo, hi, val);
    this.count++;
  }

  /** Removes [lo, hi); returns false when it was not present. */
  delete(lo: string, hi: string): boolean {
    const before = this.count;
    this.root = this.deleteAt(this.root, lo, hi);
    return this.count !== before;
  }

  /** Calls fn with the value of every interval that contains point (lo <= point < hi). */
  stab(point: string, fn: (val: V) => void): void {
    if (this.root !== null) stabAt(this.root, point, fn);
  }

  /** Every value, in interval order. */
  forEach(fn: (val: V, lo: string, hi: string) => void): void {
    const walk = (n: Node<V> | null): void => {
      if (n === null) return;
      walk(n.left);
      fn(n.val, n.lo, n.hi);
      walk(n.right);
    };
    walk(this.root);
  }

  /** Checks the AVL and max-end invariants (for tests). */
  check(): void {
    const walk = (n: Node<V> | null): void => {
      if (n === null) return;
      walk(n.left);
      walk(n.right);
      const h = n.height;
      const m = n.maxHi;
      update(n);
      assert(h === n.height && m === n.maxHi, 'interval tree node summary is stale');
      assert(Math.abs(height(n.left) - height(n.right)) <= 1, 'interval tree is unbalanced');
      if (n.left !== null) assert(cmp(n.left.lo, n.left.hi, n) < 0, 'interval tree out of order');
      if (n.right !== null) assert(cmp(n.right.lo, n.right.hi, n) > 0, 'interval tree out of order');
    };
    walk(this.root);
  }

  private insertAt(n: Node<V> | null, lo: string, hi: string, val: V): Node<V> {
    if (n === null) return { lo, hi, maxHi: hi, val, left: null, right: null, height: 1 };
    const c = cmp(lo, hi, n);
    assert(c !== 0, 'interval inserted twice');
    if (c < 0) n.left = this.insertAt(n.left, lo, hi, val);
    else n.right = this.insertAt(n.right, lo, hi, val);
    return balance(n);
  }

  private deleteAt(n: Node<V> | null, lo: string, hi: string): Node<V> | null {
    if (n === null) return null;
    const c = cmp(lo, hi, n);
    if (c < 0) n.left = this.deleteAt(n.left, lo, hi);
    else if (c > 0) n.right = this.deleteAt(n.right, lo, hi);
    else {
      this.count--;
      if (n.left === null) return n.right;
      if (n.right === null) return n.left;
      // Replace n by its in-order successor, the leftmost node of the right subtree.
      let s = n.right;
      while (s.left !== null) s = s.left;
      n.right = removeMin(n.right);
      s.left = n.left;
      s.right = n.right;
      return balance(s);
    }
    return balance(n);
  }
}

function removeMin<V>(n: Node<V>): Node<V> | null {
  if (n.left === null) return n.right;
  n.left = removeMin(n.left);
  return balance(n);
}

function stabAt<V>(n: Node<V>, p: string, fn: (val: V) => void): void {
  // No interval below here ends after p: none contains it.
  if (n.maxHi <= p) return;
  if (n.left !== null) stabAt(n.left, p, fn);
  // Intervals to the right start at or after n.lo; if that is past p, none of them contains p.
  if (n.lo > p) return;
  if (p < n.hi) fn(n.val);
  if (n.right !== null) stabAt(n.right, p, fn);
}
