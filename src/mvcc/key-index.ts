// keyIndex: the revisions of one key, grouped in generations (etcd's key_index.go). A generation
// is one life of the key, from the put that created it to the tombstone that ended it; a
// tombstone closes the current generation and opens an empty one. Example: put(1) put(2) del(3)
// put(4) del(5) gives generations {1,2,3t} {4,5t} {} (oldest first).
//
// Compaction at rev keeps, in each generation, the newest revision <= rev and everything after
// it, drops generations that ended (tombstone) at or before rev, and never keeps a tombstone as
// the only survivor. A keyIndex whose only generation is empty is removed from the tree.
import { assert, AssertionError } from '../base/assert.js';
import { fromUtf8 } from '../base/bytes.js';
import { revGreaterThan, revId, ZERO_REV, type Revision, type RevisionSet } from './revision.js';

export class Generation {
  /** Number of puts in this generation (the key's version after the latest one). */
  ver = 0n;
  /** Revision of the put that created this generation. */
  created: Revision = ZERO_REV;
  revs: Revision[] = [];

  isEmpty(): boolean {
    return this.revs.length === 0;
  }

  /** Index of the newest revision with main <= atRev, or -1. */
  newestAtOrBefore(atRev: bigint): number {
    for (let i = this.revs.length - 1; i >= 0; i--) if (this.revs[i]!.main <= atRev) return i;
    return -1;
  }
}

export interface KeyAtRev {
  /** The revision of the version visible at the requested revision. */
  modified: Revision;
  created: Revision;
  ver: bigint;
}

export class KeyIndex {
  /** Main revision of the last modification (put or tombstone). */
  modified: Revision = ZERO_REV;
  generations: Generation[] = [new Generation()];

  constructor(readonly key: Uint8Array) {}

  put(main: bigint, sub: bigint): void {
    this.putRev({ main, sub });
  }

  /** put, taking the revision object itself (the index keeps it; it must not be mutated). */
  putRev(r: Revision): void {
    if (!revGreaterThan(r, this.modified)) {
      throw new AssertionError(`keyIndex.put with revision ${r.main}.${r.sub} not after the last one`);
    }
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) g.created = r;
    g.revs.push(r);
    g.ver++;
    this.modified = r;
  }

  /** Rebuilds a key seen first at `modified` during restore: one generation of version ver. */
  restore(created: Revision, modified: Revision, ver: bigint): void {
    assert(this.isEmpty() && this.generations.length === 1, 'keyIndex.restore on a non-empty keyIndex');
    const g = this.generations[0]!;
    g.created = created;
    g.ver = ver;
    g.revs.push(modified);
    this.modified = modified;
  }

  /** Ends the current generation; false when the key is already deleted (nothing to end). */
  tombstone(main: bigint, sub: bigint): boolean {
    this.assertNotEmpty('tombstone');
    if (this.generations[this.generations.length - 1]!.isEmpty()) return false;
    this.put(main, sub);
    this.generations.push(new Generation());
    return true;
  }

  /** The version of the key visible at atRev, or undefined when it did not exist then. */
  get(atRev: bigint): KeyAtRev | undefined {
    this.assertNotEmpty('get');
    if (atRev >= this.modified.main) {
      // At or after the last change (every put, most reads): the latest version, if not deleted.
      const last = this.generations[this.generations.length - 1]!;
      if (last.revs.length === 0) return undefined;
      return { modified: this.modified, created: last.created, ver: last.ver };
    }
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    const n = g.newestAtOrBefore(atRev);
    if (n === -1) return undefined;
    return { modified: g.revs[n]!, created: g.created, ver: g.ver - BigInt(g.revs.length - n - 1) };
  }

  /**
   * Revisions with main >= rev in order; of several changes in one main revision only the one
   * with the highest sub revision is returned (the others are not visible outside the txn).
   */
  since(rev: bigint): Revision[] {
    this.assertNotEmpty('since');
    const since: Revision = { main: rev, sub: 0n };
    let gi = this.generations.length - 1;
    for (; gi > 0; gi--) {
      const g = this.generations[gi]!;
      if (g.isEmpty()) continue;
      if (revGreaterThan(since, g.created)) break;
    }
    const out: Revision[] = [];
    let last = -1n;
    for (; gi < this.generations.length; gi++) {
      for (const r of this.generations[gi]!.revs) {
        if (revGreaterThan(since, r)) continue;
        if (r.main === last) {
          out[out.length - 1] = r;
          continue;
        }
        out.push(r);
        last = r.main;
      }
    }
    return out;
  }

  /**
   * Removes revisions older than the newest one <= atRev in the generation that holds atRev and
   * every generation before it; adds the revisions kept at or below atRev to `available`.
   */
  compact(atRev: bigint, available: RevisionSet): void {
    this.assertNotEmpty('compact');
    const [start, revIndex] = this.doCompact(atRev, available);
    let genIdx = start;
    const g = this.generations[genIdx]!;
    if (!g.isEmpty()) {
      if (revIndex !== -1) g.revs = g.revs.slice(revIndex);
      // A generation reduced to its tombstone is dead history: drop it.
      if (g.revs.length === 1 && genIdx !== this.generations.length - 1) {
        available.delete(revId(g.revs[0]!));
        genIdx++;
      }
    }
    if (genIdx > 0) this.generations = this.generations.slice(genIdx);
  }

  /** Adds to `available` the revisions compact(atRev) would keep at or below atRev, changing nothing. */
  keep(atRev: bigint, available: RevisionSet): void {
    if (this.isEmpty()) return;
    const [genIdx, revIndex] = this.doCompact(atRev, available);
    const g = this.generations[genIdx]!;
    if (!g.isEmpty() && revIndex === g.revs.length - 1 && genIdx !== this.generations.length - 1) {
      available.delete(revId(g.revs[revIndex]!));
    }
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.isEmpty();
  }

  /** The generation alive at rev, or undefined when rev falls between generations. */
  findGeneration(rev: bigint): Generation | undefined {
    const lastg = this.generations.length - 1;
    for (let cg = lastg; cg >= 0; cg--) {
      const g = this.generations[cg]!;
      if (g.revs.length === 0) continue;
      if (cg !== lastg && g.revs[g.revs.length - 1]!.main <= rev) return undefined;
      if (g.revs[0]!.main <= rev) return g;
    }
    return undefined;
  }

  private assertNotEmpty(op: string): void {
    if (this.isEmpty()) throw new AssertionError(`${op} on an empty keyIndex ${fromUtf8(this.key)}`);
  }

  private doCompact(atRev: bigint, available: RevisionSet): [number, number] {
    let genIdx = 0;
    // Skip generations whose tombstone is at or before atRev (the last one has no tombstone).
    while (genIdx < this.generations.length - 1) {
      const g = this.generations[genIdx]!;
      if (g.revs[g.revs.length - 1]!.main > atRev) break;
      genIdx++;
    }
    const g = this.generations[genIdx]!;
    const revIndex = g.newestAtOrBefore(atRev);
    if (revIndex !== -1) available.add(revId(g.revs[revIndex]!));
    return [genIdx, revIndex];
  }

  /** A readable dump of the generations, for test failures. */
  toString(): string {
    return this.generations
      .map(
        (g) =>
          `{created ${g.created.main}.${g.created.sub} ver ${g.ver}: ${g.revs.map((r) => `${r.main}.${r.sub}`).join(' ')}}`,
      )
      .join(' ');
  }
}
