import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatSamples, percentile, splitEvenly, summarize } from './stats.js';

const range = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i + 1);

test('nearest-rank percentiles of 1..100 are the rank itself', () => {
  const s = range(100);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile(s, 100), 100);
  assert.equal(percentile(s, 1), 1);
  assert.equal(percentile(s, 0.5), 1);
});

test('nearest-rank rounds the rank up: p50 of 1..10 is 5, p99 is 10, p90 is 9', () => {
  const s = range(10);
  assert.equal(percentile(s, 50), 5);
  assert.equal(percentile(s, 90), 9);
  assert.equal(percentile(s, 99), 10);
  assert.equal(percentile(s, 99.9), 10);
});

test('percentile of one sample is that sample; of none is NaN; out-of-range p throws', () => {
  assert.equal(percentile(Float64Array.of(3.5), 99), 3.5);
  assert.ok(Number.isNaN(percentile(new Float64Array(0), 50)));
  assert.throws(() => percentile(range(3), 0), RangeError);
  assert.throws(() => percentile(range(3), 101), RangeError);
});

test('summarize sorts numerically (not as strings) and reports mean and max', () => {
  const s = summarize(Float64Array.of(10, 9, 100, 2, 1));
  assert.deepEqual(s, { count: 5, meanMs: 24.4, p50Ms: 9, p90Ms: 100, p99Ms: 100, p999Ms: 100, maxMs: 100 });
  const empty = summarize(new Float64Array(0));
  assert.equal(empty.count, 0);
  assert.ok(Number.isNaN(empty.p50Ms) && Number.isNaN(empty.maxMs) && Number.isNaN(empty.meanMs));
});

test('concatSamples keeps order; splitEvenly gives the remainder to the first buckets', () => {
  assert.deepEqual(
    [...concatSamples([Float64Array.of(1, 2), new Float64Array(0), Float64Array.of(3)])],
    [1, 2, 3],
  );
  assert.deepEqual(splitEvenly(100, 10), Array(10).fill(10));
  assert.deepEqual(splitEvenly(7, 3), [3, 2, 2]);
  assert.deepEqual(splitEvenly(1, 2), [1, 0]);
});
