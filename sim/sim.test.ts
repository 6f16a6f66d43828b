// The simulator over a fixed list of seeds, as CI runs it: every seed must pass (all checkers quiet,
// the liveness phase converging). Fresh random seeds run locally with `npm run sim`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './run.js';

const SEEDS = Array.from({ length: 24 }, (_, i) => 1000 + i * 7919);

test('fixed seeds pass every safety and liveness check (WAL storage)', async () => {
  const failures: string[] = [];
  for (const seed of SEEDS) {
    const r = await runSeed(seed);
    if (!r.ok) failures.push(`seed ${seed}: ${r.failure}`);
  }
  assert.deepEqual(failures, []);
});

test('fixed seeds pass with every cluster size from 1 to 7', async () => {
  const failures: string[] = [];
  for (let nodes = 1; nodes <= 7; nodes++) {
    const r = await runSeed(77 + nodes, { nodes });
    if (!r.ok) failures.push(`seed ${77 + nodes} --nodes ${nodes}: ${r.failure}`);
  }
  assert.deepEqual(failures, []);
});

test('a seed replays exactly', async () => {
  const a = await runSeed(4242, { nodes: 5 });
  const b = await runSeed(4242, { nodes: 5 });
  assert.deepEqual(a, b);
});
