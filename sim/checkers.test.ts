// Each checker fires on the violation it exists for, and stays quiet on the legal cases next to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, type Entry } from '../src/raft/types.js';
import { Checkers, SimFailure } from './checkers.js';
import { encodeOp } from './state-machine.js';

function ent(index: bigint, term: bigint, seq = 0): Entry {
  const data = seq === 0 ? new Uint8Array(0) : encodeOp({ client: 1, seq, value: 7 });
  return { index, term, type: EntryType.Normal, data };
}

test('two leaders in one term fail election safety; one leader re-reported does not', () => {
  const c = new Checkers();
  c.onLeader(1n, 2n);
  c.onLeader(1n, 2n);
  c.onLeader(2n, 3n);
  assert.throws(
    () => c.onLeader(3n, 3n),
    (e) => e instanceof SimFailure && /both leader of term 3/.test(e.message),
  );
});

test('a different entry committed at a committed index fails state-machine safety', () => {
  const c = new Checkers();
  c.onCommitted(1n, ent(2n, 1n, 1));
  c.onCommitted(2n, ent(2n, 1n, 1));
  assert.throws(() => c.onCommitted(3n, ent(2n, 2n, 1)), /state-machine safety: node 3/);
  assert.throws(() => c.onCommitted(3n, ent(2n, 1n, 2)), /state-machine safety/);
});

test('a snapshot whose term disagrees with the committed entry fails', () => {
  const c = new Checkers();
  c.onSnapshotPoint(1n, 5n, 2n);
  assert.throws(() => c.onCommitted(2n, ent(5n, 3n)), /snapshot at index 5 has term 2/);
  c.onCommitted(2n, ent(6n, 3n));
  assert.throws(() => c.onSnapshotPoint(3n, 6n, 4n), /term 3 was committed there/);
});

test('applying beyond the commit index fails; digests must agree per index', () => {
  const c = new Checkers();
  c.onApply(1n, ent(3n, 1n), 3n, 42);
  assert.throws(() => c.onApply(1n, ent(4n, 1n), 3n, 43), /beyond its commit index 3/);
  assert.throws(() => c.onApply(2n, ent(3n, 1n), 5n, 41), /state digest/);
});

test('log matching: same term at an index with a different entry below it fails', () => {
  const c = new Checkers();
  const a = { id: 1n, entries: [ent(2n, 1n, 1), ent(3n, 2n), ent(4n, 2n, 2)] };
  const b = { id: 2n, entries: [ent(2n, 1n, 9), ent(3n, 2n), ent(4n, 3n)] };
  assert.throws(
    () => c.checkLogMatching([a, b]),
    /log matching: nodes 1 and 2 agree on term 2 at index 3 but differ at index 2/,
  );
  // Divergent suffixes with different terms are legal (not yet repaired).
  const d = { id: 3n, entries: [ent(2n, 1n, 1), ent(3n, 4n)] };
  c.checkLogMatching([a, d]);
});

test('an acknowledged operation missing from a node fails', () => {
  const c = new Checkers();
  c.onAck({ client: 1, seq: 1, value: 0 });
  c.checkAcked([{ id: 1n, ops: new Set(['1:1']) }]);
  assert.throws(
    () => c.checkAcked([{ id: 2n, ops: new Set() }]),
    /acknowledged operation 1:1 is not applied on node 2/,
  );
});
