// keyIndex behaviours, following the cases of etcd's key_index_test.go (in our own words).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../base/bytes.js';
import { KeyIndex } from './key-index.js';
import { revId, type RevisionSet } from './revision.js';

/** A keyIndex as plain data: one string per generation, "created/ver: revs". */
function shape(ki: KeyIndex): string[] {
  return ki.generations.map((g) =>
    g.isEmpty()
      ? '{}'
      : `${g.created.main}/${g.ver}: ${g.revs.map((r) => (r.sub === 0n ? `${r.main}` : `${r.main}.${r.sub}`)).join(' ')}`,
  );
}

function ids(set: RevisionSet): string[] {
  return [...set].sort();
}

/**
 * put 2, put 4, del 6, put 8, put 10, del 12, put 14, put 14.1, del 16: three ended generations
 * and an empty current one.
 */
function sample(): KeyIndex {
  const ki = new KeyIndex(utf8('foo'));
  ki.put(2n, 0n);
  ki.put(4n, 0n);
  assert.ok(ki.tombstone(6n, 0n));
  ki.put(8n, 0n);
  ki.put(10n, 0n);
  assert.ok(ki.tombstone(12n, 0n));
  ki.put(14n, 0n);
  ki.put(14n, 1n);
  assert.ok(ki.tombstone(16n, 0n));
  return ki;
}

void describe('keyIndex', () => {
  void it('builds generations from puts and tombstones', () => {
    assert.deepEqual(shape(sample()), ['2/3: 2 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}']);
    assert.deepEqual(sample().modified, { main: 16n, sub: 0n });
  });

  void it('refuses a put that is not after the last revision', () => {
    const ki = new KeyIndex(utf8('foo'));
    ki.put(5n, 2n);
    assert.throws(() => ki.put(5n, 2n), /not after/);
    assert.throws(() => ki.put(4n, 9n), /not after/);
    ki.put(5n, 3n);
    assert.deepEqual(shape(ki), ['5/2: 5.2 5.3']);
  });

  void it('restore starts one generation at the given created revision and version', () => {
    const ki = new KeyIndex(utf8('foo'));
    ki.restore({ main: 5n, sub: 0n }, { main: 7n, sub: 0n }, 2n);
    assert.deepEqual(shape(ki), ['5/2: 7']);
    assert.deepEqual(ki.get(7n), {
      modified: { main: 7n, sub: 0n },
      created: { main: 5n, sub: 0n },
      ver: 2n,
    });
  });

  void it('a tombstone on an already deleted key reports that nothing was deleted', () => {
    const ki = sample();
    assert.equal(ki.tombstone(17n, 0n), false);
    assert.deepEqual(shape(ki), ['2/3: 2 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}']);
  });

  void it('get returns the version visible at a revision, and nothing in gaps or after deletes', () => {
    const ki = sample();
    ki.compact(4n, new Set());
    const at = (rev: bigint): string => {
      const got = ki.get(rev);
      if (got === undefined) return '-';
      const m = got.modified;
      return `${m.main}.${m.sub} c${got.created.main} v${got.ver}`;
    };
    const expected: [bigint, string][] = [
      [17n, '-'],
      [16n, '-'],
      [15n, '14.1 c14 v2'],
      [14n, '14.1 c14 v2'],
      [13n, '-'],
      [12n, '-'],
      [11n, '10.0 c8 v2'],
      [10n, '10.0 c8 v2'],
      [9n, '8.0 c8 v1'],
      [8n, '8.0 c8 v1'],
      [7n, '-'],
      [6n, '-'],
      [5n, '4.0 c2 v2'],
      [4n, '4.0 c2 v2'],
      [3n, '-'],
      [1n, '-'],
      [0n, '-'],
    ];
    for (const [rev, want] of expected) assert.equal(at(rev), want, `get(${rev})`);
  });

  void it('since returns revisions from rev on, one per main revision (the last sub)', () => {
    const ki = sample();
    ki.compact(4n, new Set());
    const all = ['4_0', '6_0', '8_0', '10_0', '12_0', '14_1', '16_0'];
    const since = (rev: bigint): string[] => ki.since(rev).map(revId);
    assert.deepEqual(since(17n), []);
    assert.deepEqual(since(16n), all.slice(6));
    assert.deepEqual(since(15n), all.slice(6));
    assert.deepEqual(since(14n), all.slice(5));
    assert.deepEqual(since(12n), all.slice(4));
    assert.deepEqual(since(9n), all.slice(3));
    assert.deepEqual(since(7n), all.slice(2));
    assert.deepEqual(since(5n), all.slice(1));
    assert.deepEqual(since(4n), all);
    assert.deepEqual(since(0n), all);
  });

  // After compacting at `rev`: the generations left and the revisions reported as kept.
  const compactions: [bigint, string[], string[]][] = [
    [1n, ['2/3: 2 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], []],
    [2n, ['2/3: 2 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['2_0']],
    [3n, ['2/3: 2 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['2_0']],
    [4n, ['2/3: 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['4_0']],
    [5n, ['2/3: 4 6', '8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['4_0']],
    [6n, ['8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], []],
    [7n, ['8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], []],
    [8n, ['8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['8_0']],
    [9n, ['8/3: 8 10 12', '14/3: 14 14.1 16', '{}'], ['8_0']],
    [10n, ['8/3: 10 12', '14/3: 14 14.1 16', '{}'], ['10_0']],
    [11n, ['8/3: 10 12', '14/3: 14 14.1 16', '{}'], ['10_0']],
    [12n, ['14/3: 14 14.1 16', '{}'], []],
    [13n, ['14/3: 14 14.1 16', '{}'], []],
    [14n, ['14/3: 14.1 16', '{}'], ['14_1']],
    [15n, ['14/3: 14.1 16', '{}'], ['14_1']],
    [16n, ['{}'], []],
  ];

  void it('compacting step by step keeps the newest revision <= rev per generation', () => {
    const ki = sample();
    for (const [rev, gens, kept] of compactions) {
      const before = shape(ki);
      const keep: RevisionSet = new Set();
      ki.keep(rev, keep);
      assert.deepEqual(shape(ki), before, `keep(${rev}) must not change the keyIndex`);
      assert.deepEqual(ids(keep), kept, `keep(${rev})`);
      const available: RevisionSet = new Set();
      ki.compact(rev, available);
      assert.deepEqual(shape(ki), gens, `compact(${rev})`);
      assert.deepEqual(ids(available), kept, `compact(${rev}) kept`);
    }
    assert.ok(ki.isEmpty());
  });

  void it('compacting a fresh keyIndex once at each revision gives the same result', () => {
    for (const [rev, gens, kept] of compactions) {
      const ki = sample();
      const keep: RevisionSet = new Set();
      ki.keep(rev, keep);
      assert.deepEqual(ids(keep), kept, `keep(${rev})`);
      const available: RevisionSet = new Set();
      ki.compact(rev, available);
      assert.deepEqual(shape(ki), gens, `compact(${rev})`);
      assert.deepEqual(ids(available), kept);
    }
  });

  void it('compacting beyond the last modification keeps the latest revision', () => {
    const ki = new KeyIndex(utf8('foo'));
    ki.put(1n, 0n);
    ki.put(2n, 0n);
    const available: RevisionSet = new Set();
    ki.compact(3n, available);
    assert.deepEqual(shape(ki), ['1/2: 2']);
    assert.deepEqual(ids(available), ['2_0']);
  });

  void it('is empty only with a single empty generation', () => {
    assert.ok(new KeyIndex(utf8('a')).isEmpty());
    const ki = new KeyIndex(utf8('a'));
    ki.put(1n, 0n);
    assert.ok(!ki.isEmpty());
    ki.tombstone(2n, 0n);
    assert.ok(!ki.isEmpty());
  });

  void it('findGeneration finds the generation alive at a revision', () => {
    const ki = sample();
    const created = (rev: bigint): string => {
      const g = ki.findGeneration(rev);
      return g === undefined ? '-' : String(g.created.main);
    };
    const table: [bigint, string][] = [
      [0n, '-'],
      [1n, '-'],
      [2n, '2'],
      [3n, '2'],
      [4n, '2'],
      [5n, '2'],
      [6n, '-'],
      [7n, '-'],
      [8n, '8'],
      [11n, '8'],
      [12n, '-'],
      [14n, '14'],
      [15n, '14'],
      [16n, '-'],
      [17n, '-'],
    ];
    for (const [rev, want] of table) assert.equal(created(rev), want, `findGeneration(${rev})`);
  });
});
