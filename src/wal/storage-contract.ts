// The raft Storage contract (DESIGN §5.9), one suite every implementation runs: MemoryStorage and
// WalStorage, the latter also reopened after every write (cleanly, and after a power cut). The
// cases follow etcd-io/raft's storage_test.go, written against the write operations both share
// (save a Ready's parts, createSnapshot, compact) so they can be driven the same way.
//
// `exact` cases depend on state a reopen does not keep by design (entries at or below a snapshot
// the storage was told to keep, compaction past the snapshot); reopening variants skip them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from '../raft/errors.js';
import { entrySizeBytes, type Storage } from '../raft/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';

export interface StorageHarness {
  /** The storage as it is now (a reopening harness returns a new instance after each write). */
  storage(): Storage;
  save(hs: HardState | undefined, ents: Entry[], snap?: Snapshot): Promise<void>;
  createSnapshot(i: bigint, cs: ConfState | undefined, data: Uint8Array): Promise<Snapshot>;
  compact(i: bigint): Promise<void>;
}

export interface StorageFactory {
  name: string;
  /** True when the harness reopens the storage after writes: `exact` cases are skipped. */
  reopens: boolean;
  create(): Promise<StorageHarness>;
}

const conf = (...voters: bigint[]): ConfState => ({
  voters,
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
});

export function ent(index: bigint, term: bigint, data: number[] = []): Entry {
  return { index, term, type: 0, data: new Uint8Array(data) };
}

function snap(
  index: bigint,
  term: bigint,
  cs = conf(1n, 2n, 3n),
  data = [index & 0xffn].map(Number),
): Snapshot {
  return { data: new Uint8Array(data), metadata: { index, term, confState: cs } };
}

const summary = (es: Entry[]) => es.map((e) => `${e.index}/${e.term}:${[...e.data].join(',')}`);

/** Snapshot 3/3, then entries 4/4 .. last/last: etcd's test log with a dummy at 3. */
async function base(h: StorageHarness, last = 5n): Promise<void> {
  await h.save({ term: 3n, vote: 0n, commit: 3n }, [], snap(3n, 3n));
  const es: Entry[] = [];
  for (let i = 4n; i <= last; i++) es.push(ent(i, i, [Number(i)]));
  await h.save({ term: last, vote: 1n, commit: 3n }, es);
}

type Case = { name: string; exact?: boolean; run: (h: StorageHarness, reopens: boolean) => Promise<void> };

const cases: Case[] = [
  {
    name: 'an empty storage holds nothing: first index 1, last 0, term(0) is 0',
    async run(h) {
      const s = h.storage();
      assert.deepEqual(s.initialState(), {
        hardState: { term: 0n, vote: 0n, commit: 0n },
        confState: conf(),
      });
      assert.equal(s.firstIndex(), 1n);
      assert.equal(s.lastIndex(), 0n);
      assert.equal(s.term(0n), 0n);
      assert.throws(
        () => s.term(1n),
        (e) => e === ErrUnavailable,
      );
      assert.throws(
        () => s.entries(1n, 1n, 100),
        (e) => e === ErrUnavailable,
      );
      assert.equal(s.snapshot().metadata.index, 0n);
    },
  },
  {
    name: 'term answers from the snapshot index to the last index, and refuses outside',
    async run(h) {
      await base(h);
      const s = h.storage();
      assert.throws(
        () => s.term(2n),
        (e) => e === ErrCompacted,
      );
      assert.equal(s.term(3n), 3n);
      assert.equal(s.term(4n), 4n);
      assert.equal(s.term(5n), 5n);
      assert.throws(
        () => s.term(6n),
        (e) => e === ErrUnavailable,
      );
    },
  },
  {
    name: 'entries: compacted below, unavailable above, size-limited but at least one',
    async run(h) {
      await base(h, 6n);
      const s = h.storage();
      const max = Number.MAX_SAFE_INTEGER;
      assert.throws(
        () => s.entries(2n, 6n, max),
        (e) => e === ErrCompacted,
      );
      assert.throws(
        () => s.entries(3n, 4n, max),
        (e) => e === ErrCompacted,
      );
      assert.deepEqual(summary(s.entries(4n, 5n, max)), ['4/4:4']);
      assert.deepEqual(summary(s.entries(4n, 6n, max)), ['4/4:4', '5/5:5']);
      assert.deepEqual(summary(s.entries(4n, 7n, max)), ['4/4:4', '5/5:5', '6/6:6']);
      assert.deepEqual(summary(s.entries(4n, 7n, 0)), ['4/4:4']);
      const two = entrySizeBytes(ent(4n, 4n, [4])) + entrySizeBytes(ent(5n, 5n, [5]));
      assert.deepEqual(summary(s.entries(4n, 7n, two)), ['4/4:4', '5/5:5']);
      assert.deepEqual(summary(s.entries(4n, 7n, two + 1)), ['4/4:4', '5/5:5']);
      assert.throws(
        () => s.entries(4n, 8n, max),
        (e) => e === ErrUnavailable,
      );
    },
  },
  {
    name: 'first and last index follow appends',
    async run(h) {
      await base(h);
      assert.equal(h.storage().firstIndex(), 4n);
      assert.equal(h.storage().lastIndex(), 5n);
      await h.save(undefined, [ent(6n, 5n)]);
      assert.equal(h.storage().lastIndex(), 6n);
    },
  },
  {
    name: 'createSnapshot records index, term, conf state and data; older ones are refused',
    async run(h) {
      await base(h);
      const got = await h.createSnapshot(4n, conf(1n, 2n), new Uint8Array([9]));
      assert.deepEqual(got, snap(4n, 4n, conf(1n, 2n), [9]));
      assert.deepEqual(h.storage().snapshot(), got);
      await assert.rejects(h.createSnapshot(4n, undefined, new Uint8Array()), (e) => e === ErrSnapOutOfDate);
      const kept = await h.createSnapshot(5n, undefined, new Uint8Array([8]));
      assert.deepEqual(kept.metadata.confState, conf(1n, 2n));
      assert.equal(h.storage().lastIndex(), 5n);
      assert.deepEqual(h.storage().initialState().confState, conf(1n, 2n));
    },
  },
  {
    name: 'createSnapshot keeps the entries until compact',
    exact: true,
    async run(h) {
      await base(h);
      await h.createSnapshot(4n, undefined, new Uint8Array([9]));
      assert.equal(h.storage().firstIndex(), 4n);
      assert.equal(h.storage().term(3n), 3n);
    },
  },
  {
    name: 'compact at the snapshot index drops the entries up to it; compacting again is refused',
    async run(h, reopens) {
      await base(h, 7n);
      await h.createSnapshot(5n, undefined, new Uint8Array([5]));
      // A reopened storage starts at its snapshot: it is compacted there already.
      await h.compact(5n).catch((e: unknown) => assert.ok(reopens && e === ErrCompacted));
      const s = h.storage();
      assert.equal(s.firstIndex(), 6n);
      assert.equal(s.lastIndex(), 7n);
      assert.equal(s.term(5n), 5n);
      assert.throws(
        () => s.term(4n),
        (e) => e === ErrCompacted,
      );
      assert.throws(
        () => s.entries(5n, 7n, 100),
        (e) => e === ErrCompacted,
      );
      assert.deepEqual(summary(s.entries(6n, 8n, 1000)), ['6/6:6', '7/7:7']);
      await assert.rejects(h.compact(4n), (e) => e === ErrCompacted);
    },
  },
  {
    name: 'compact past the snapshot index (memory keeps what the log still holds)',
    exact: true,
    async run(h) {
      await base(h);
      await h.compact(4n);
      assert.equal(h.storage().firstIndex(), 5n);
      assert.equal(h.storage().term(4n), 4n);
      await assert.rejects(h.compact(3n), (e) => e === ErrCompacted);
    },
  },
  {
    name: 'a snapshot from the leader replaces the log; an older one is refused',
    async run(h) {
      await base(h, 9n);
      await h.save({ term: 12n, vote: 2n, commit: 6n }, [], snap(6n, 12n, conf(1n, 4n)));
      const s = h.storage();
      assert.equal(s.firstIndex(), 7n);
      assert.equal(s.lastIndex(), 6n);
      assert.equal(s.term(6n), 12n);
      assert.throws(
        () => s.term(7n),
        (e) => e === ErrUnavailable,
      );
      assert.deepEqual(s.initialState(), {
        hardState: { term: 12n, vote: 2n, commit: 6n },
        confState: conf(1n, 4n),
      });
      assert.deepEqual(s.snapshot(), snap(6n, 12n, conf(1n, 4n)));
      await assert.rejects(h.save(undefined, [], snap(5n, 12n)), (e) => e === ErrSnapOutOfDate);
      await h.save({ term: 13n, vote: 0n, commit: 6n }, [ent(7n, 13n, [7]), ent(8n, 13n, [8])]);
      assert.deepEqual(summary(h.storage().entries(7n, 9n, 1000)), ['7/13:7', '8/13:8']);
    },
  },
  {
    name: 'a snapshot with the entries of the same Ready: the entries follow it',
    async run(h) {
      await base(h);
      await h.save({ term: 7n, vote: 0n, commit: 20n }, [ent(21n, 7n, [1])], snap(20n, 7n));
      const s = h.storage();
      assert.equal(s.firstIndex(), 21n);
      assert.deepEqual(summary(s.entries(21n, 22n, 1000)), ['21/7:1']);
      assert.equal(s.initialState().hardState.commit, 20n);
    },
  },
  {
    name: 'hard state: the last one saved is the initial state',
    async run(h) {
      await base(h);
      await h.save({ term: 8n, vote: 3n, commit: 5n }, []);
      assert.deepEqual(h.storage().initialState().hardState, { term: 8n, vote: 3n, commit: 5n });
    },
  },
];

const appendTable: [string, Entry[], string[]][] = [
  [
    'the same entries again change nothing',
    [ent(3n, 3n), ent(4n, 4n, [4]), ent(5n, 5n, [5])],
    ['4/4:4', '5/5:5'],
  ],
  ['conflicting terms replace from the conflict', [ent(3n, 3n), ent(4n, 6n), ent(5n, 6n)], ['4/6:', '5/6:']],
  [
    'a longer log extends',
    [ent(3n, 3n), ent(4n, 4n, [4]), ent(5n, 5n, [5]), ent(6n, 5n)],
    ['4/4:4', '5/5:5', '6/5:'],
  ],
  ['entries below the first index are skipped', [ent(2n, 3n), ent(3n, 3n), ent(4n, 5n)], ['4/5:']],
  ['an earlier first index truncates the rest', [ent(4n, 5n)], ['4/5:']],
  ['the next index appends', [ent(6n, 5n)], ['4/4:4', '5/5:5', '6/5:']],
];
for (const [what, es, want] of appendTable) {
  cases.push({
    name: `append: ${what}`,
    async run(h) {
      await base(h);
      await h.save({ term: 20n, vote: 1n, commit: 3n }, es);
      const s = h.storage();
      assert.deepEqual(summary(s.entries(s.firstIndex(), s.lastIndex() + 1n, Number.MAX_SAFE_INTEGER)), want);
    },
  });
}

/** Registers the contract's tests for one implementation. */
export function storageContract(f: StorageFactory): void {
  for (const c of cases) {
    if (f.reopens && c.exact === true) continue;
    void test(`${f.name}: ${c.name}`, async () => c.run(await f.create(), f.reopens));
  }
}
