import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrCompacted } from './errors.js';
import { discardRaftLogger } from './logger.js';
import { MemoryStorage } from './memory-storage.js';
import { RaftLog } from './raft-log.js';
import { entrySizeBytes } from './storage.js';
import { emptyConfState, EntryType, type Entry, type Snapshot } from './types.js';
import { noLimit } from './util.js';

function ent(index: bigint, term: bigint): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}
function ents(...terms: bigint[]): Entry[] {
  return terms.map((t, i) => ent(BigInt(i + 1), t));
}
function snap(index: bigint, term: bigint): Snapshot {
  return { data: new Uint8Array(0), metadata: { index, term, confState: emptyConfState() } };
}
function logWith(stable: Entry[], unstable: Entry[] = []): RaftLog {
  const ms = new MemoryStorage();
  ms.append(stable);
  const l = new RaftLog(ms, discardRaftLogger);
  l.append(unstable);
  return l;
}
const pairs = (es: Entry[]): [bigint, bigint][] => es.map((e) => [e.index, e.term]);

test('findConflict returns the first new or mismatching index', () => {
  const prev = ents(1n, 2n, 3n);
  const cases: [Entry[], bigint][] = [
    [[], 0n],
    [ents(1n, 2n, 3n), 0n],
    [[ent(2n, 2n), ent(3n, 3n)], 0n],
    [[ent(3n, 3n)], 0n],
    [[ent(2n, 2n), ent(3n, 3n), ent(4n, 4n), ent(5n, 4n)], 4n],
    [[ent(4n, 4n), ent(5n, 4n)], 4n],
    [[ent(1n, 4n), ent(2n, 4n)], 1n],
    [[ent(2n, 1n), ent(3n, 4n), ent(4n, 4n)], 2n],
    [[ent(3n, 1n), ent(4n, 2n), ent(5n, 4n), ent(6n, 4n)], 3n],
  ];
  for (const [add, want] of cases) assert.equal(logWith([], prev).findConflict(add), want);
});

test('findConflictByTerm skips back to the last entry at or below the given term', () => {
  // log: 1..3 term 1, 4..6 term 4, 7..9 term 6
  const l = logWith(ents(1n, 1n, 1n, 4n, 4n, 4n, 6n, 6n, 6n));
  assert.deepEqual(l.findConflictByTerm(9n, 6n), { index: 9n, term: 6n });
  assert.deepEqual(l.findConflictByTerm(9n, 5n), { index: 6n, term: 4n });
  assert.deepEqual(l.findConflictByTerm(9n, 4n), { index: 6n, term: 4n });
  assert.deepEqual(l.findConflictByTerm(9n, 3n), { index: 3n, term: 1n });
  assert.deepEqual(l.findConflictByTerm(9n, 0n), { index: 0n, term: 0n });
  assert.deepEqual(l.findConflictByTerm(5n, 4n), { index: 5n, term: 4n });
  // below the snapshot the term is unknown: the index is returned with term 0
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(5n, 3n));
  ms.append([ent(6n, 4n), ent(7n, 4n)]);
  const c = new RaftLog(ms, discardRaftLogger);
  assert.deepEqual(c.findConflictByTerm(7n, 3n), { index: 5n, term: 3n });
  assert.deepEqual(c.findConflictByTerm(7n, 2n), { index: 4n, term: 0n });
});

test('isUpToDate compares last term first, then last index', () => {
  const l = logWith([], ents(1n, 2n, 3n));
  const cases: [bigint, bigint, boolean][] = [
    [2n, 4n, true],
    [3n, 4n, true],
    [4n, 4n, true],
    [2n, 2n, false],
    [3n, 2n, false],
    [4n, 2n, false],
    [2n, 3n, false],
    [3n, 3n, true],
    [4n, 3n, true],
  ];
  for (const [i, t, want] of cases) assert.equal(l.isUpToDate(i, t), want, `(${i}, ${t})`);
});

test('append truncates the unstable tail and refuses to rewrite committed entries', () => {
  const cases: [Entry[], bigint, [bigint, bigint][], bigint][] = [
    [
      [],
      2n,
      [
        [1n, 1n],
        [2n, 2n],
      ],
      3n,
    ],
    [
      [ent(3n, 2n)],
      3n,
      [
        [1n, 1n],
        [2n, 2n],
        [3n, 2n],
      ],
      3n,
    ],
    [[ent(1n, 2n)], 1n, [[1n, 2n]], 1n],
    [
      [ent(2n, 3n), ent(3n, 3n)],
      3n,
      [
        [1n, 1n],
        [2n, 3n],
        [3n, 3n],
      ],
      2n,
    ],
  ];
  for (const [add, wantLast, want, wantOffset] of cases) {
    const l = logWith(ents(1n, 2n));
    assert.equal(l.append(add), wantLast);
    assert.deepEqual(pairs(l.entries(1n, noLimit)), want);
    assert.equal(l.unstable.offset, wantOffset);
  }
  const l = logWith(ents(1n, 2n));
  l.commitTo(2n);
  assert.throws(() => l.append([ent(2n, 3n)]), /out of range/);
});

test('maybeAppend matches (index, logTerm), appends, and commits min(commit, last new)', () => {
  const prev = ents(1n, 2n, 3n);
  const cases: { idx: bigint; lt: bigint; commit: bigint; add: Entry[]; last?: bigint; committed: bigint }[] =
    [
      { idx: 3n, lt: 2n, commit: 3n, add: [ent(4n, 4n)], committed: 1n }, // term mismatch
      { idx: 4n, lt: 3n, commit: 3n, add: [ent(5n, 4n)], committed: 1n }, // index past the end
      { idx: 3n, lt: 3n, commit: 3n, add: [], last: 3n, committed: 3n },
      { idx: 3n, lt: 3n, commit: 4n, add: [], last: 3n, committed: 3n },
      { idx: 3n, lt: 3n, commit: 2n, add: [], last: 3n, committed: 2n },
      { idx: 3n, lt: 3n, commit: 0n, add: [], last: 3n, committed: 1n }, // never decreases
      { idx: 0n, lt: 0n, commit: 3n, add: [], last: 0n, committed: 1n },
      { idx: 3n, lt: 3n, commit: 4n, add: [ent(4n, 4n)], last: 4n, committed: 4n },
      { idx: 3n, lt: 3n, commit: 5n, add: [ent(4n, 4n)], last: 4n, committed: 4n },
      { idx: 3n, lt: 3n, commit: 5n, add: [ent(4n, 4n), ent(5n, 4n)], last: 5n, committed: 5n },
      { idx: 2n, lt: 2n, commit: 3n, add: [ent(3n, 4n)], last: 3n, committed: 3n }, // conflict replaced
      { idx: 1n, lt: 1n, commit: 3n, add: [ent(2n, 2n), ent(3n, 3n)], last: 3n, committed: 3n }, // nothing new
    ];
  for (const c of cases) {
    const l = logWith([], prev);
    l.commitTo(1n);
    assert.equal(l.maybeAppend(c.idx, c.lt, c.commit, c.add), c.last);
    assert.equal(l.committed, c.committed);
    if (c.last !== undefined && c.add.length > 0) {
      assert.deepEqual(
        pairs(l.slice(l.lastIndex() - BigInt(c.add.length) + 1n, l.lastIndex() + 1n, noLimit)),
        pairs(c.add),
      );
    }
  }
  const l = logWith([], prev);
  l.commitTo(2n);
  assert.throws(() => l.maybeAppend(0n, 0n, 3n, [ent(1n, 4n)]), /conflict with committed entry/);
});

test('nextEnts hands out committed entries after applied, up to the size limit', () => {
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(3n, 1n));
  ms.append([ent(4n, 1n), ent(5n, 1n)]);
  const l = new RaftLog(ms, discardRaftLogger, entrySizeBytes(ent(4n, 1n)));
  l.append([ent(6n, 1n)]);
  l.commitTo(6n);
  assert.equal(l.hasNextEnts(), true);
  assert.deepEqual(pairs(l.nextEnts()), [[4n, 1n]]); // limited to one entry's size
  l.appliedTo(4n);
  assert.deepEqual(pairs(l.nextEnts()), [[5n, 1n]]);
  l.appliedTo(5n);
  assert.deepEqual(pairs(l.nextEnts()), [[6n, 1n]]);
  l.appliedTo(6n);
  assert.equal(l.hasNextEnts(), false);
  assert.deepEqual(l.nextEnts(), []);
  assert.throws(() => l.appliedTo(5n), /out of range/);
});

test('stableTo moves entries from unstable to storage only when the term still matches', () => {
  const l = logWith([], ents(1n, 2n));
  l.stableTo(1n, 1n);
  assert.equal(l.unstable.offset, 2n);
  l.stableTo(2n, 1n); // wrong term: ignored
  assert.equal(l.unstable.offset, 2n);
  l.stableTo(2n, 2n);
  assert.equal(l.unstable.offset, 3n);
  assert.deepEqual(l.unstableEntries(), []);
});

test('term is 0 outside the log and throws ErrCompacted below the snapshot index', () => {
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(100n, 10n));
  const l = new RaftLog(ms, discardRaftLogger);
  l.append([ent(101n, 11n), ent(102n, 12n)]);
  assert.equal(l.term(99n), 0n);
  assert.equal(l.term(100n), 10n);
  assert.equal(l.term(101n), 11n);
  assert.equal(l.term(102n), 12n);
  assert.equal(l.term(103n), 0n);
  ms.append([ent(101n, 11n), ent(102n, 12n)]);
  l.stableTo(102n, 12n);
  ms.compact(101n);
  // firstIndex moved to 102: 100 is now below the dummy index and reads as 0
  assert.equal(l.term(100n), 0n);
  assert.equal(l.term(101n), 11n);
  assert.throws(
    () => l.slice(100n, 103n, noLimit),
    (e) => e === ErrCompacted,
  );
  assert.equal(l.termOrZero(101n), 11n);
});

test('slice joins stable and unstable entries and applies the size limit across both', () => {
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(3n, 3n));
  ms.append([ent(4n, 4n), ent(5n, 5n)]);
  const l = new RaftLog(ms, discardRaftLogger);
  l.append([ent(6n, 6n), ent(7n, 7n)]);
  const size = entrySizeBytes(ent(1n, 1n));
  assert.throws(
    () => l.slice(3n, 5n, noLimit),
    (e) => e === ErrCompacted,
  );
  assert.deepEqual(pairs(l.slice(4n, 8n, noLimit)), [
    [4n, 4n],
    [5n, 5n],
    [6n, 6n],
    [7n, 7n],
  ]);
  assert.deepEqual(pairs(l.slice(5n, 7n, noLimit)), [
    [5n, 5n],
    [6n, 6n],
  ]);
  assert.deepEqual(pairs(l.slice(6n, 7n, noLimit)), [[6n, 6n]]);
  assert.deepEqual(pairs(l.slice(4n, 8n, 0)), [[4n, 4n]]);
  assert.deepEqual(pairs(l.slice(4n, 8n, size * 3)), [
    [4n, 4n],
    [5n, 5n],
    [6n, 6n],
  ]);
  assert.deepEqual(pairs(l.slice(5n, 8n, size * 2)), [
    [5n, 5n],
    [6n, 6n],
  ]);
  assert.throws(() => l.slice(4n, 9n, noLimit), /out of bound/);
});

test('restore moves every cursor to the snapshot', () => {
  const ms = new MemoryStorage();
  ms.applySnapshot(snap(100n, 10n));
  const l = new RaftLog(ms, discardRaftLogger);
  assert.equal(l.committed, 100n);
  assert.equal(l.firstIndex(), 101n);
  l.restore(snap(200n, 20n));
  assert.equal(l.committed, 200n);
  assert.equal(l.firstIndex(), 201n);
  assert.equal(l.lastIndex(), 200n);
  assert.equal(l.term(200n), 20n);
  assert.equal(l.unstable.offset, 201n);
  assert.equal(l.snapshot().metadata.index, 200n);
  assert.deepEqual(l.allEntries(), []);
});

test('maybeCommit commits only up to an entry of the given term', () => {
  const l = logWith([], ents(1n, 1n, 2n));
  assert.equal(l.maybeCommit(2n, 2n), false);
  assert.equal(l.committed, 0n);
  assert.equal(l.maybeCommit(3n, 2n), true);
  assert.equal(l.committed, 3n);
  assert.equal(l.maybeCommit(2n, 1n), false, 'never moves backwards');
  assert.equal(l.committed, 3n);
  assert.equal(typeof RaftLog.prototype.maybeCommit, 'function');
});

test('commitTo never decreases and panics beyond the last index', () => {
  const l = logWith([], ents(1n, 2n, 3n));
  l.commitTo(2n);
  l.commitTo(1n);
  assert.equal(l.committed, 2n);
  assert.throws(() => l.commitTo(4n), /out of range/);
});
