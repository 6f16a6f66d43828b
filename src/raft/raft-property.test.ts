// Seeded random runs of a five-node group on the in-process network: random ticks, proposals,
// partitions, message loss and leader transfers. After every step: at most one leader per term,
// every node's applied entries are a prefix of one common sequence (state-machine safety), and two
// logs holding an entry with the same index and term agree on everything before it (log
// matching). At the end, with the network healed, the group elects a leader and applies a proposal
// everywhere (liveness).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../base/prng.js';
import { StateType } from './config.js';
import { RaftError } from './errors.js';
import { Network } from './test-network.js';
import type { Entry } from './types.js';

const ids = [1n, 2n, 3n, 4n, 5n];

function randomStep(n: Network, prng: Prng, step: number): void {
  const id = prng.pick(ids);
  const roll = prng.float();
  try {
    if (roll < 0.6) n.tick(id, 1);
    else if (roll < 0.8) n.propose(id, `p${step}`);
    else if (roll < 0.86) n.isolate(id);
    else if (roll < 0.9) n.recover();
    else if (roll < 0.95) n.drop(id, prng.pick(ids), prng.float() * 0.5);
    else n.act(id, (rn) => rn.transferLeader(prng.pick(ids)));
  } catch (err) {
    if (!(err instanceof RaftError)) throw err; // a dropped proposal is an expected outcome
  }
}

function checkInvariants(n: Network, leaders: Map<bigint, bigint>, applied: Entry[]): void {
  for (const id of ids) {
    const r = n.raft(id);
    if (r.state === StateType.StateLeader) {
      const known = leaders.get(r.term);
      assert.ok(known === undefined || known === id, `two leaders in term ${r.term}: ${known} and ${id}`);
      leaders.set(r.term, id);
    }
    const mine = n.node(id).applied;
    for (let i = 0; i < mine.length; i++) {
      const e = mine[i] as Entry;
      const ref = applied[i];
      if (ref === undefined) applied.push(e);
      else
        assert.ok(
          ref.index === e.index && ref.term === e.term,
          `node ${id} applied ${e.term}/${e.index}, others ${ref.term}/${ref.index}`,
        );
    }
  }
  // log matching: same (index, term) implies the same prefix
  const logs = ids.map((id) => n.raft(id).raftLog.allEntries());
  for (let a = 0; a < logs.length; a++) {
    for (let b = a + 1; b < logs.length; b++) {
      const la = logs[a] as Entry[];
      const lb = new Map((logs[b] as Entry[]).map((e) => [e.index, e.term]));
      let matched = false;
      for (let i = la.length - 1; i >= 0; i--) {
        const e = la[i] as Entry;
        const t = lb.get(e.index);
        if (t === undefined) continue;
        if (matched)
          assert.equal(t, e.term, `log matching broken at ${e.index} between ${ids[a]} and ${ids[b]}`);
        else if (t === e.term) matched = true;
      }
    }
  }
}

test('random runs keep election safety, log matching and state-machine safety, then make progress', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const prng = new Prng(seed);
    const n = new Network(ids, { seed, configure: (c) => (c.prng = new Prng(seed * 31 + Number(c.id))) });
    const leaders = new Map<bigint, bigint>();
    const applied: Entry[] = [];
    for (let step = 0; step < 400; step++) {
      randomStep(n, prng, step);
      checkInvariants(n, leaders, applied);
    }
    n.recover();
    n.tickAll(60);
    assert.equal(n.leaders().length, 1, `seed ${seed}: one leader after healing`);
    const lead = n.leaders().reduce((a, b) => (n.raft(a).term >= n.raft(b).term ? a : b));
    n.propose(lead, 'final');
    n.tickAll(5);
    for (const id of ids)
      assert.ok(n.appliedData(id).includes('final'), `seed ${seed}: node ${id} did not apply`);
    checkInvariants(n, leaders, applied);
  }
});
