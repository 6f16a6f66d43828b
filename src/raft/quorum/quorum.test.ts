// Data-driven tests for majority and joint quorums (testdata/*.txt), plus a property test that
// compares MajorityConfig.committedIndex with a brute-force definition over random configs.
//
// Script commands: `committed` (prints describe() and the committed index) and `vote` (prints the
// VoteResult). Arguments: cfg=(ids) the incoming majority, cfgj=(ids) or cfgj=zero an outgoing
// majority (making it a joint test), idx=(...) acked indexes and votes=(y|n|_ ...) in the order
// the distinct voters of cfg then cfgj appear; `_` means "nothing known" (different from 0, which
// is why 0 is not allowed as an index). Every case also runs cross-checks that must not change the
// result (a brute-force computation, joining with an empty or identical majority, swapping the
// halves); any disagreement is printed into the output and so fails the script.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript, type TestCase } from '../rafttest/datadriven.js';
import { Prng } from '../../base/prng.js';
import { JointConfig } from './joint.js';
import { MajorityConfig } from './majority.js';
import { indexString, MapAckIndexer, MaxIndex, voteResultName, type AckedIndexer } from './quorum.js';

const testdataDir = join(import.meta.dirname, '..', '..', '..', '..', 'src', 'raft', 'quorum', 'testdata');

/** The definition: the largest acked index that at least a majority has acked (or exceeded). */
function bruteForceCommitted(c: MajorityConfig, l: AckedIndexer): bigint {
  if (c.size === 0) return MaxIndex;
  const acked = [...c].map((id) => l.ackedIndex(id)).filter((x): x is bigint => x !== undefined);
  const q = Math.floor(c.size / 2) + 1;
  let best = 0n;
  for (const candidate of acked) {
    const support = acked.filter((x) => x >= candidate).length;
    if (support >= q && candidate > best) best = candidate;
  }
  return best;
}

interface Parsed {
  ids: bigint[];
  idsj: bigint[];
  joint: boolean;
  idxs: (bigint | undefined)[];
  votes: (boolean | undefined)[];
}

function parseCase(c: TestCase): Parsed {
  const p: Parsed = { ids: [], idsj: [], joint: false, idxs: [], votes: [] };
  for (const a of c.args) {
    if (a.key === 'cfg') p.ids.push(...a.values.map(BigInt));
    else if (a.key === 'cfgj') {
      p.joint = true;
      if (a.values.length === 1 && a.values[0] === 'zero') continue;
      p.idsj.push(...a.values.map(BigInt));
    } else if (a.key === 'idx') {
      for (const v of a.values) {
        if (v === '_') p.idxs.push(undefined);
        else if (BigInt(v) === 0n) throw new Error(`line ${c.line}: 0 is not a valid idx, use _`);
        else p.idxs.push(BigInt(v));
      }
    } else if (a.key === 'votes') {
      for (const v of a.values) {
        if (v !== 'y' && v !== 'n' && v !== '_') throw new Error(`line ${c.line}: unknown vote ${v}`);
        p.votes.push(v === '_' ? undefined : v === 'y');
      }
    } else throw new Error(`line ${c.line}: unknown arg ${a.key}`);
  }
  return p;
}

/** Assigns inputs to the distinct voters of ids then idsj, in order of first appearance. */
function assign<T>(inputs: (T | undefined)[], ids: bigint[], idsj: bigint[]): Map<bigint, T> {
  const seen = new Set<bigint>();
  const m = new Map<bigint, T>();
  let p = 0;
  for (const id of [...ids, ...idsj]) {
    if (seen.has(id)) continue;
    seen.add(id);
    const v = inputs[p++];
    if (v !== undefined) m.set(id, v);
  }
  return m;
}

function withOverride(c: MajorityConfig, l: AckedIndexer, id: bigint, idx: bigint): AckedIndexer {
  const m = new Map<bigint, bigint>();
  for (const other of c) {
    const v = other === id ? idx : l.ackedIndex(other);
    if (v !== undefined) m.set(other, v);
  }
  return new MapAckIndexer(m);
}

function majorityCommitted(c: MajorityConfig, l: AckedIndexer): string {
  const idx = c.committedIndex(l);
  let out = c.describe(l);
  const alt = bruteForceCommitted(c, l);
  if (alt !== idx) out += `${indexString(alt)} <-- via brute force\n`;
  const zj = new JointConfig(c, new MajorityConfig()).committedIndex(l);
  if (zj !== idx) out += `${indexString(zj)} <-- via zero-joint quorum\n`;
  const sj = new JointConfig(c, c.clone()).committedIndex(l);
  if (sj !== idx) out += `${indexString(sj)} <-- via self-joint quorum\n`;
  for (const id of c) {
    const own = l.ackedIndex(id) ?? 0n;
    if (own > 0n && idx > own) {
      // A voter already below the committed index cannot change it by falling further behind.
      const lower = c.committedIndex(withOverride(c, l, id, own - 1n));
      if (lower !== idx) out += `${indexString(lower)} <-- lowering ${id} to ${own - 1n}\n`;
      const zero = c.committedIndex(withOverride(c, l, id, 0n));
      if (zero !== idx) out += `${indexString(zero)} <-- lowering ${id} to 0\n`;
    }
  }
  return out + indexString(idx) + '\n';
}

function handle(c: TestCase): string {
  const p = parseCase(c);
  const cfg = new MajorityConfig(p.ids);
  const cfgj = new MajorityConfig(p.idsj);
  const voters = new JointConfig(cfg, cfgj).ids();
  const input = c.cmd === 'vote' ? p.votes : p.idxs;
  if (input.length !== voters.length) {
    return `error: ${input.length} inputs for ${voters.length} voters (${voters.join(' ')})`;
  }
  if (c.cmd === 'committed') {
    const l = new MapAckIndexer(assign(p.idxs, p.ids, p.idsj));
    if (!p.joint) return majorityCommitted(cfg, l);
    const jc = new JointConfig(cfg, cfgj);
    const idx = jc.committedIndex(l);
    let out = jc.describe(l);
    const swapped = new JointConfig(cfgj, cfg).committedIndex(l);
    if (swapped !== idx) out += `${indexString(swapped)} <-- via symmetry\n`;
    return out + indexString(idx) + '\n';
  }
  if (c.cmd === 'vote') {
    const votes = assign(p.votes, p.ids, p.idsj);
    if (!p.joint) return voteResultName(cfg.voteResult(votes)) + '\n';
    const r = new JointConfig(cfg, cfgj).voteResult(votes);
    const swapped = new JointConfig(cfgj, cfg).voteResult(votes);
    let out = '';
    if (swapped !== r) out += `${voteResultName(swapped)} <-- via symmetry\n`;
    return out + voteResultName(r) + '\n';
  }
  throw new Error(`line ${c.line}: unknown command ${c.cmd}`);
}

for (const file of readdirSync(testdataDir).filter((f) => f.endsWith('.txt'))) {
  test(`quorum script ${file}`, () => {
    const path = join(testdataDir, file);
    const res = runScript(readFileSync(path, 'utf8'), handle);
    if (process.env.KETCH_REWRITE === '1') writeFileSync(path, res.rewritten);
    else assert.deepEqual(res.mismatches, []);
  });
}

test('committedIndex agrees with the brute-force definition on random configs', () => {
  const prng = new Prng(0x71e5);
  for (let iter = 0; iter < 20000; iter++) {
    const n = prng.intBelow(10);
    const ids = prng.shuffle(Array.from({ length: 2 * n }, (_, i) => BigInt(i + 1))).slice(0, n);
    const c = new MajorityConfig(ids.filter(() => prng.chance(0.8)));
    const acks = new Map<bigint, bigint>();
    for (const id of ids) if (prng.chance(0.7)) acks.set(id, BigInt(prng.intBelow(n + 1)));
    const l = new MapAckIndexer(acks);
    assert.equal(c.committedIndex(l), bruteForceCommitted(c, l), `config ${c.toString()} acks ${[...acks]}`);
  }
});

test('an empty majority commits MaxIndex = 2^64-1 and wins every vote', () => {
  const empty = new MajorityConfig();
  assert.equal(empty.committedIndex(new MapAckIndexer(new Map())), 2n ** 64n - 1n);
  assert.equal(voteResultName(empty.voteResult(new Map([[1n, false]]))), 'VoteWon');
  assert.equal(new JointConfig().committedIndex(new MapAckIndexer(new Map())), MaxIndex);
});

test('ids() are ascending and toString prints them like etcd', () => {
  const c = new MajorityConfig([30n, 2n, 10n]);
  assert.deepEqual(c.ids(), [2n, 10n, 30n]);
  assert.equal(c.toString(), '(2 10 30)');
  const j = new JointConfig(new MajorityConfig([3n, 1n]), new MajorityConfig([2n, 1n]));
  assert.deepEqual(j.ids(), [1n, 2n, 3n]);
  assert.equal(j.toString(), '(1 3)&&(1 2)');
  assert.equal(j[0], j.incoming);
  assert.equal(j[1], j.outgoing);
  assert.equal(new JointConfig(new MajorityConfig([1n])).toString(), '(1)');
});
