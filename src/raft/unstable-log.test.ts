import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discardRaftLogger } from './logger.js';
import { emptyConfState, EntryType, type Entry, type Snapshot } from './types.js';
import { UnstableLog } from './unstable-log.js';

function ent(index: bigint, term: bigint): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}
function snap(index: bigint, term: bigint): Snapshot {
  return { data: new Uint8Array(0), metadata: { index, term, confState: emptyConfState() } };
}
function unstable(offset: bigint, entries: Entry[], s?: Snapshot): UnstableLog {
  const u = new UnstableLog(offset, discardRaftLogger);
  u.entries = entries;
  u.snapshot = s;
  return u;
}

test('maybeFirstIndex is known only while a snapshot is pending', () => {
  assert.equal(unstable(5n, [ent(5n, 1n)]).maybeFirstIndex(), undefined);
  assert.equal(unstable(0n, []).maybeFirstIndex(), undefined);
  assert.equal(unstable(5n, [ent(5n, 1n)], snap(4n, 1n)).maybeFirstIndex(), 5n);
  assert.equal(unstable(5n, [], snap(4n, 1n)).maybeFirstIndex(), 5n);
});

test('maybeLastIndex comes from the entries, else from the snapshot', () => {
  assert.equal(unstable(5n, [ent(5n, 1n)]).maybeLastIndex(), 5n);
  assert.equal(unstable(5n, [ent(5n, 1n)], snap(4n, 1n)).maybeLastIndex(), 5n);
  assert.equal(unstable(5n, [], snap(4n, 1n)).maybeLastIndex(), 4n);
  assert.equal(unstable(0n, []).maybeLastIndex(), undefined);
});

test('maybeTerm knows unstable entries and the snapshot index only', () => {
  const cases: [UnstableLog, bigint, bigint | undefined][] = [
    [unstable(5n, [ent(5n, 1n)]), 5n, 1n],
    [unstable(5n, [ent(5n, 1n)]), 6n, undefined],
    [unstable(5n, [ent(5n, 1n)]), 4n, undefined],
    [unstable(5n, [ent(5n, 1n)], snap(4n, 1n)), 5n, 1n],
    [unstable(5n, [ent(5n, 1n)], snap(4n, 1n)), 4n, 1n],
    [unstable(5n, [ent(5n, 1n)], snap(4n, 1n)), 3n, undefined],
    [unstable(5n, [], snap(4n, 2n)), 4n, 2n],
    [unstable(5n, [], snap(4n, 2n)), 5n, undefined],
    [unstable(0n, []), 5n, undefined],
  ];
  for (const [u, i, want] of cases) assert.equal(u.maybeTerm(i), want, `term(${i})`);
});

test('restore replaces entries with the snapshot and moves the offset past it', () => {
  const u = unstable(5n, [ent(5n, 1n)], snap(4n, 1n));
  u.restore(snap(6n, 2n));
  assert.equal(u.offset, 7n);
  assert.deepEqual(u.entries, []);
  assert.deepEqual(u.snapshot, snap(6n, 2n));
});

test('stableTo drops persisted entries unless the term no longer matches', () => {
  const cases: { u: UnstableLog; i: bigint; t: bigint; offset: bigint; len: number }[] = [
    { u: unstable(0n, []), i: 5n, t: 1n, offset: 0n, len: 0 },
    { u: unstable(5n, [ent(5n, 1n)]), i: 5n, t: 1n, offset: 6n, len: 0 },
    { u: unstable(5n, [ent(5n, 1n), ent(6n, 1n)]), i: 5n, t: 1n, offset: 6n, len: 1 },
    // the entry at 6 was replaced by one of term 2 after the Ready went out
    { u: unstable(6n, [ent(6n, 2n)]), i: 6n, t: 1n, offset: 6n, len: 1 },
    { u: unstable(5n, [ent(5n, 1n)]), i: 4n, t: 1n, offset: 5n, len: 1 },
    { u: unstable(5n, [ent(5n, 1n)]), i: 4n, t: 2n, offset: 5n, len: 1 },
    // the index is the snapshot's: nothing stable to drop from the entries
    { u: unstable(5n, [ent(5n, 1n)], snap(4n, 1n)), i: 4n, t: 1n, offset: 5n, len: 1 },
    { u: unstable(5n, [ent(5n, 2n), ent(6n, 2n)], snap(4n, 1n)), i: 5n, t: 2n, offset: 6n, len: 1 },
  ];
  for (const c of cases) {
    c.u.stableTo(c.i, c.t);
    assert.equal(c.u.offset, c.offset);
    assert.equal(c.u.entries.length, c.len);
  }
});

test('stableSnapTo clears the pending snapshot only for its own index', () => {
  const u = unstable(5n, [], snap(4n, 1n));
  u.stableSnapTo(3n);
  assert.notEqual(u.snapshot, undefined);
  u.stableSnapTo(4n);
  assert.equal(u.snapshot, undefined);
});

test('truncateAndAppend appends, replaces, or truncates then appends', () => {
  const cases: { offset: bigint; ents: Entry[]; add: Entry[]; offsetAfter: bigint; want: Entry[] }[] = [
    // directly after the last entry
    {
      offset: 5n,
      ents: [ent(5n, 1n)],
      add: [ent(6n, 1n), ent(7n, 1n)],
      offsetAfter: 5n,
      want: [ent(5n, 1n), ent(6n, 1n), ent(7n, 1n)],
    },
    // replace everything
    {
      offset: 5n,
      ents: [ent(5n, 1n)],
      add: [ent(5n, 2n), ent(6n, 2n)],
      offsetAfter: 5n,
      want: [ent(5n, 2n), ent(6n, 2n)],
    },
    {
      offset: 5n,
      ents: [ent(5n, 1n)],
      add: [ent(4n, 2n), ent(5n, 2n), ent(6n, 2n)],
      offsetAfter: 4n,
      want: [ent(4n, 2n), ent(5n, 2n), ent(6n, 2n)],
    },
    // truncate the tail, then append
    {
      offset: 5n,
      ents: [ent(5n, 1n), ent(6n, 1n), ent(7n, 1n)],
      add: [ent(6n, 2n)],
      offsetAfter: 5n,
      want: [ent(5n, 1n), ent(6n, 2n)],
    },
    {
      offset: 5n,
      ents: [ent(5n, 1n), ent(6n, 1n), ent(7n, 1n)],
      add: [ent(7n, 2n), ent(8n, 2n)],
      offsetAfter: 5n,
      want: [ent(5n, 1n), ent(6n, 1n), ent(7n, 2n), ent(8n, 2n)],
    },
  ];
  for (const c of cases) {
    const u = unstable(c.offset, c.ents.slice());
    u.truncateAndAppend(c.add);
    assert.equal(u.offset, c.offsetAfter);
    assert.deepEqual(u.entries, c.want);
  }
});

test('truncateAndAppend does not alias the caller’s array', () => {
  const add = [ent(5n, 2n)];
  const u = unstable(5n, [ent(5n, 1n)]);
  u.truncateAndAppend(add);
  add.push(ent(6n, 2n));
  assert.equal(u.entries.length, 1);
});

test('slice outside the unstable range is a broken invariant', () => {
  const u = unstable(5n, [ent(5n, 1n), ent(6n, 1n)]);
  assert.deepEqual(u.slice(5n, 7n), [ent(5n, 1n), ent(6n, 1n)]);
  assert.deepEqual(u.slice(6n, 6n), []);
  assert.throws(() => u.slice(4n, 6n), /out of bound/);
  assert.throws(() => u.slice(5n, 8n), /out of bound/);
  assert.throws(() => u.slice(6n, 5n), /invalid unstable.slice/);
});
