// A majority quorum: a set of voter IDs where a decision needs more than half of them. This is the
// building block of Raft's commit rule and of elections; JointConfig combines two of these during
// a membership change.

import { assert } from '../../base/assert.js';
import { compareBigint, MaxIndex, VoteResult, type AckedIndexer } from './quorum.js';

export class MajorityConfig implements Iterable<bigint> {
  private readonly set: Set<bigint>;

  constructor(ids: Iterable<bigint> = []) {
    this.set = new Set(ids);
  }

  get size(): number {
    return this.set.size;
  }

  has(id: bigint): boolean {
    return this.set.has(id);
  }

  add(id: bigint): void {
    this.set.add(id);
  }

  delete(id: bigint): void {
    this.set.delete(id);
  }

  clear(): void {
    this.set.clear();
  }

  [Symbol.iterator](): Iterator<bigint> {
    return this.set.values();
  }

  /** The voter IDs in ascending order (a fresh array). */
  ids(): bigint[] {
    return [...this.set].sort(compareBigint);
  }

  clone(): MajorityConfig {
    return new MajorityConfig(this.set);
  }

  /** `(1 2 3)`, IDs ascending; `()` when empty. */
  toString(): string {
    return `(${this.ids().join(' ')})`;
  }

  /**
   * The highest index acknowledged by a majority. Voters that have not reported count as having
   * acknowledged nothing (index 0). An empty config commits everything (MaxIndex).
   */
  committedIndex(l: AckedIndexer): bigint {
    const n = this.set.size;
    if (n === 0) return MaxIndex;
    const acked: bigint[] = [];
    for (const id of this.set) acked.push(l.ackedIndex(id) ?? 0n);
    acked.sort(compareBigint);
    // With the acks ascending, the entry n/2+1 places from the end is held by a majority.
    const idx = acked[n - (Math.floor(n / 2) + 1)];
    assert(idx !== undefined, 'committedIndex: quorum position out of range');
    return idx;
  }

  /**
   * The outcome of an election given the votes received so far (true = granted). Votes from IDs
   * outside the config are ignored. An empty config wins, so a half-empty joint config behaves like
   * its other half.
   */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    if (this.set.size === 0) return VoteResult.VoteWon;
    let yes = 0;
    let missing = 0;
    for (const id of this.set) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) yes++;
    }
    const q = Math.floor(this.set.size / 2) + 1;
    if (yes >= q) return VoteResult.VoteWon;
    if (yes + missing >= q) return VoteResult.VotePending;
    return VoteResult.VoteLost;
  }

  /**
   * A multi-line picture of the acked indexes: one line per voter (ascending ID), with a bar whose
   * length is the voter's rank by index and `?` for unknown voters. As in etcd, a voter whose index
   * equals its predecessor's in the sorted order gets an empty bar; keeping that quirk keeps our
   * output identical to etcd's.
   */
  describe(l: AckedIndexer): string {
    const n = this.set.size;
    if (n === 0) return '<empty majority quorum>';
    const info = [...this.set].map((id) => {
      const idx = l.ackedIndex(id);
      return { id, idx: idx ?? 0n, ok: idx !== undefined, bar: 0 };
    });
    info.sort((a, b) => (a.idx === b.idx ? compareBigint(a.id, b.id) : compareBigint(a.idx, b.idx)));
    for (let i = 1; i < info.length; i++) {
      const prev = info[i - 1]!;
      const cur = info[i]!;
      if (prev.idx < cur.idx) cur.bar = i;
    }
    info.sort((a, b) => compareBigint(a.id, b.id));
    let out = ' '.repeat(n) + '    idx\n';
    for (const t of info) {
      out += t.ok ? 'x'.repeat(t.bar) + '>' + ' '.repeat(n - t.bar) : '?' + ' '.repeat(n);
      out += ` ${t.idx.toString().padStart(5)}    (id=${t.id})\n`;
    }
    return out;
  }
}
