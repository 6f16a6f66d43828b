import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { entrySizeBytes } from './storage.js';
import { EntryType, type ConfState, type Entry, type Snapshot } from './types.js';

function ent(index: bigint, term: bigint, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}
const cs: ConfState = {
  voters: [1n, 2n, 3n],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/** A storage whose snapshot is at index 3 (term 3) followed by entries 4 (term 4) and 5 (term 5). */
function storage345(): MemoryStorage {
  const ms = new MemoryStorage();
  ms.applySnapshot({ data: new Uint8Array(0), metadata: { index: 3n, term: 3n, confState: cs } });
  ms.append([ent(4n, 4n), ent(5n, 5n)]);
  return ms;
}

test('a new MemoryStorage is empty at index 0', () => {
  const ms = new MemoryStorage();
  assert.equal(ms.firstIndex(), 1n);
  assert.equal(ms.lastIndex(), 0n);
  assert.equal(ms.term(0n), 0n);
  assert.throws(
    () => ms.term(1n),
    (e) => e === ErrUnavailable,
  );
  assert.deepEqual(ms.initialState().hardState, { term: 0n, vote: 0n, commit: 0n });
});

test('term answers from the snapshot index to the last index', () => {
  const ms = storage345();
  assert.throws(
    () => ms.term(2n),
    (e) => e === ErrCompacted,
  );
  assert.equal(ms.term(3n), 3n);
  assert.equal(ms.term(4n), 4n);
  assert.equal(ms.term(5n), 5n);
  assert.throws(
    () => ms.term(6n),
    (e) => e === ErrUnavailable,
  );
});

test('entries respects the compaction point, the last index and the size limit', () => {
  const ms = new MemoryStorage();
  ms.applySnapshot({ data: new Uint8Array(0), metadata: { index: 3n, term: 3n, confState: cs } });
  ms.append([ent(4n, 4n), ent(5n, 5n), ent(6n, 6n)]);
  const size = entrySizeBytes(ent(4n, 4n));
  assert.throws(
    () => ms.entries(2n, 6n, 1000),
    (e) => e === ErrCompacted,
  );
  assert.throws(
    () => ms.entries(3n, 4n, 1000),
    (e) => e === ErrCompacted,
  );
  assert.throws(
    () => ms.entries(4n, 8n, 1000),
    (e) => e === ErrUnavailable,
  );
  assert.deepEqual(ms.entries(4n, 5n, 1000), [ent(4n, 4n)]);
  assert.deepEqual(ms.entries(4n, 7n, 1000), [ent(4n, 4n), ent(5n, 5n), ent(6n, 6n)]);
  // at least one entry even when the first is over the limit
  assert.deepEqual(ms.entries(4n, 7n, 0), [ent(4n, 4n)]);
  assert.deepEqual(ms.entries(4n, 7n, size * 2), [ent(4n, 4n), ent(5n, 5n)]);
  assert.deepEqual(ms.entries(4n, 7n, size * 2 + size / 2), [ent(4n, 4n), ent(5n, 5n)]);
  assert.deepEqual(ms.entries(4n, 7n, size * 3), [ent(4n, 4n), ent(5n, 5n), ent(6n, 6n)]);
});

test('compact keeps the compacted index as the dummy entry', () => {
  const cases: { i: bigint; err?: unknown; first: bigint; term: bigint }[] = [
    { i: 2n, err: ErrCompacted, first: 4n, term: 3n },
    { i: 3n, err: ErrCompacted, first: 4n, term: 3n },
    { i: 4n, first: 5n, term: 4n },
    { i: 5n, first: 6n, term: 5n },
  ];
  for (const c of cases) {
    const ms = storage345();
    if (c.err !== undefined)
      assert.throws(
        () => ms.compact(c.i),
        (e) => e === c.err,
      );
    else ms.compact(c.i);
    assert.equal(ms.firstIndex(), c.first);
    assert.equal(ms.term(c.first - 1n), c.term);
    assert.equal(ms.lastIndex(), 5n);
  }
  assert.throws(() => storage345().compact(6n), /out of bound/);
});

test('createSnapshot records index, term, ConfState and data without compacting', () => {
  const ms = storage345();
  const data = new Uint8Array([1, 2, 3]);
  const s = ms.createSnapshot(4n, cs, data);
  assert.deepEqual(s, { data, metadata: { index: 4n, term: 4n, confState: cs } });
  assert.deepEqual(ms.snapshot(), s);
  assert.equal(ms.firstIndex(), 4n);
  assert.throws(
    () => ms.createSnapshot(4n, cs, data),
    (e) => e === ErrSnapOutOfDate,
  );
  assert.throws(
    () => ms.createSnapshot(3n, cs, data),
    (e) => e === ErrSnapOutOfDate,
  );
  const s2 = ms.createSnapshot(5n, undefined, data);
  assert.deepEqual(s2.metadata.confState, cs);
  assert.equal(s2.metadata.term, 5n);
});

test('append extends, overwrites a conflicting suffix, and skips compacted entries', () => {
  const cases: { add: Entry[]; want: [bigint, bigint][] }[] = [
    {
      add: [ent(4n, 4n), ent(5n, 5n)],
      want: [
        [4n, 4n],
        [5n, 5n],
      ],
    },
    {
      add: [ent(4n, 4n), ent(5n, 6n), ent(6n, 6n)],
      want: [
        [4n, 4n],
        [5n, 6n],
        [6n, 6n],
      ],
    },
    {
      add: [ent(4n, 4n), ent(5n, 5n), ent(6n, 5n)],
      want: [
        [4n, 4n],
        [5n, 5n],
        [6n, 5n],
      ],
    },
    // entries before the first index are ignored, the rest truncates and replaces
    { add: [ent(2n, 3n), ent(3n, 3n), ent(4n, 5n)], want: [[4n, 5n]] },
    { add: [ent(4n, 5n)], want: [[4n, 5n]] },
    {
      add: [ent(6n, 5n)],
      want: [
        [4n, 4n],
        [5n, 5n],
        [6n, 5n],
      ],
    },
    {
      add: [ent(1n, 1n), ent(2n, 2n)],
      want: [
        [4n, 4n],
        [5n, 5n],
      ],
    },
  ];
  for (const c of cases) {
    const ms = storage345();
    ms.append(c.add);
    const got = ms
      .entries(ms.firstIndex(), ms.lastIndex() + 1n, Number.MAX_SAFE_INTEGER)
      .map((e) => [e.index, e.term]);
    assert.deepEqual(got, c.want);
  }
});

test('append with a gap after the last entry is a broken invariant', () => {
  assert.throws(() => storage345().append([ent(7n, 5n)]), /missing log entry/);
});

test('applySnapshot replaces the log and refuses an older snapshot', () => {
  const ms = storage345();
  const snap = (index: bigint): Snapshot => ({
    data: new Uint8Array([9]),
    metadata: { index, term: 7n, confState: cs },
  });
  assert.throws(
    () => ms.applySnapshot(snap(3n)),
    (e) => e === ErrSnapOutOfDate,
  );
  ms.applySnapshot(snap(10n));
  assert.equal(ms.firstIndex(), 11n);
  assert.equal(ms.lastIndex(), 10n);
  assert.equal(ms.term(10n), 7n);
  assert.deepEqual(ms.initialState().confState, cs);
  assert.throws(
    () => ms.applySnapshot(snap(10n)),
    (e) => e === ErrSnapOutOfDate,
  );
});

test('setHardState is returned by initialState', () => {
  const ms = new MemoryStorage();
  ms.setHardState({ term: 3n, vote: 2n, commit: 0n });
  assert.deepEqual(ms.initialState().hardState, { term: 3n, vote: 2n, commit: 0n });
});
