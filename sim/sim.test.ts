// The simulator over a fixed list of seeds, as CI runs it: every seed must pass (all checkers quiet,
// the liveness phase converging). Fresh random seeds run locally with `npm run sim`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './run.js';

// About 30 s on this 2-core machine (seeds of 5,000-20,000 time units, 40-160 ms each).
const WAL_SEEDS = Array.from({ length: 150 }, (_, i) => 1000 + i * 7919);
const MEMORY_SEEDS = Array.from({ length: 60 }, (_, i) => 500_000 + i * 104_729);

async function failuresOf(seeds: number[], storage: 'wal' | 'memory'): Promise<string[]> {
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = await runSeed(seed, { storage });
    if (!r.ok) failures.push(`seed ${seed} (${storage}): ${r.failure}`);
  }
  return failures;
}

test('fixed seeds pass every safety and liveness check (WAL storage on the faulty disk)', async () => {
  assert.deepEqual(await failuresOf(WAL_SEEDS, 'wal'), []);
});

test('fixed seeds pass every safety and liveness check (MemoryStorage)', async () => {
  assert.deepEqual(await failuresOf(MEMORY_SEEDS, 'memory'), []);
});

test('fixed seeds pass with every cluster size from 1 to 7', async () => {
  const failures: string[] = [];
  for (let nodes = 1; nodes <= 7; nodes++) {
    const r = await runSeed(77 + nodes, { nodes });
    if (!r.ok) failures.push(`seed ${77 + nodes} --nodes ${nodes}: ${r.failure}`);
  }
  assert.deepEqual(failures, []);
});

// Watch mode (MVCC stores, watch clients, the watch checker): seeds picked for their traffic —
// compactions, refused deliveries, resumptions — that take about 2 s of CPU together.
const WATCH_SEEDS = [
  2000034, 2000041, 2000045, 2000047, 2000048, 2000050, 2000051, 2000053, 2000055, 2000056, 2000058,
];

test('fixed seeds pass every watch check (--watch)', async () => {
  const failures: string[] = [];
  for (const seed of WATCH_SEEDS) {
    const r = await runSeed(seed, { watch: true });
    if (!r.ok) failures.push(`seed ${seed} --watch: ${r.failure}`);
  }
  assert.deepEqual(failures, []);
});

test('a watch-mode seed replays exactly', async () => {
  const a = await runSeed(2000028, { watch: true });
  const b = await runSeed(2000028, { watch: true });
  assert.ok(a.stats.watchEvents > 0 && a.stats.watchCompacted > 0 && a.stats.watchRefusals > 0);
  assert.deepEqual(a, b);
});

test('a seed replays exactly', async () => {
  const a = await runSeed(4242, { nodes: 5 });
  const b = await runSeed(4242, { nodes: 5 });
  assert.deepEqual(a, b);
});
