import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadReport } from './report.js';
import { combineRuns, versionOf } from './schedule.js';

function run(rps: number, errors = 0, otherSec = 0): LoadReport {
  return {
    id: 'put-1',
    title: 'put, 1 client',
    ok: rps,
    errors,
    errorSamples: errors > 0 ? [{ status: 14, message: 'etcdserver: leader changed', count: errors }] : [],
    elapsedSec: 1,
    requestsPerSec: rps,
    latency: { count: rps, meanMs: 1, p50Ms: rps / 1000, p90Ms: 1, p99Ms: 1, p999Ms: 1, maxMs: 1 },
    cpu: { serverSec: 1, generatorSec: 1, otherSec, wallSec: 1 },
    peakRssBytes: 1,
  };
}

test('the median run is reported whole, with every run listed and all errors summed', () => {
  const c = combineRuns([run(3000, 1), run(1000), run(2000, 2)]);
  assert.equal(c.requestsPerSec, 2000);
  assert.equal(c.latency.p50Ms, 2);
  assert.deepEqual(c.runsPerSec, [3000, 1000, 2000]);
  assert.deepEqual(c.noisyRunsPerSec, []);
  assert.equal(c.errors, 3);
  assert.deepEqual(c.errorSamples, [{ status: 14, message: 'etcdserver: leader changed', count: 3 }]);
});

test('with an even number of runs the lower middle one is reported; one run is itself', () => {
  assert.equal(combineRuns([run(4), run(1), run(3), run(2)]).requestsPerSec, 2);
  assert.equal(combineRuns([run(7)]).requestsPerSec, 7);
  assert.throws(() => combineRuns([]), /no runs/);
});

test('versionOf keeps the first line, or says why --version failed', () => {
  assert.equal(
    versionOf('x', () => 'etcd Version: 3.4.23\nGit SHA: x\n'),
    'etcd Version: 3.4.23',
  );
  assert.equal(
    versionOf('x', () => {
      throw new Error('spawnSync x ENOENT\nmore');
    }),
    '--version failed: spawnSync x ENOENT',
  );
});

test('runs disturbed by other processes are left out while quiet runs exist; their errors still count', () => {
  const c = combineRuns([run(1000, 0, 0.9), run(3000), run(500, 4, 0.5), run(2000)]);
  assert.equal(c.requestsPerSec, 2000);
  assert.deepEqual(c.runsPerSec, [3000, 2000]);
  assert.deepEqual(c.noisyRunsPerSec, [1000, 500]);
  assert.equal(c.errors, 4);
  const allNoisy = combineRuns([run(1000, 0, 0.9), run(3000, 0, 0.9), run(2000, 0, 0.9)]);
  assert.equal(allNoisy.requestsPerSec, 2000);
  assert.deepEqual(allNoisy.noisyRunsPerSec, []);
});
