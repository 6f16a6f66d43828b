import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOptions, parseOptions } from './options.js';

test('no flags: both servers, all four loads, 10 s / 300,000 requests, 50,000 fill puts', () => {
  const o = parseOptions([], '/repo');
  assert.deepEqual(o, defaultOptions('/repo'));
  assert.deepEqual(o.servers, ['etcd', 'ketch']);
  assert.deepEqual(o.members, [1, 3]);
  assert.deepEqual(o.loads, ['put-1', 'put-100', 'range-l', 'range-s']);
  assert.equal(o.durationSec, 10);
  assert.equal(o.maxRequests, 300_000);
  assert.equal(o.rssPuts, 50_000);
  assert.equal(o.ketchBin, '/repo/bin/ketch');
  assert.equal(o.etcdBin, '/usr/bin/etcd');
});

test('--only, --json and both flag spellings', () => {
  const o = parseOptions(['--only', 'etcd', '--json', '--duration=3', '--requests', '1_000'], '/r');
  assert.deepEqual(o.servers, ['etcd']);
  assert.equal(o.json, true);
  assert.equal(o.durationSec, 3);
  assert.equal(o.maxRequests, 1000);
});

test('--quick shortens what was not given explicitly', () => {
  const q = parseOptions(['--quick'], '/r');
  assert.deepEqual(
    [q.durationSec, q.maxRequests, q.warmupRequests, q.rssPuts, q.waitQuietSec],
    [2, 20_000, 500, 5000, 0],
  );
  const q2 = parseOptions(['--quick', '--duration', '5', '--rss-puts', '50000'], '/r');
  assert.deepEqual([q2.durationSec, q2.rssPuts], [5, 50_000]);
});

test('--loads keeps the canonical order and rejects unknown loads', () => {
  assert.deepEqual(parseOptions(['--loads', 'range-s,put-1'], '/r').loads, ['put-1', 'range-s']);
  assert.throws(() => parseOptions(['--loads', 'put-2'], '/r'), /unknown load 'put-2'/);
});

test('bad input is an error with the reason', () => {
  assert.throws(() => parseOptions(['--only', 'zookeeper'], '/r'), /--only wants etcd or ketch/);
  assert.throws(() => parseOptions(['--frobnicate'], '/r'), /unknown flag --frobnicate/);
  assert.throws(() => parseOptions(['--duration'], '/r'), /--duration needs a value/);
  assert.throws(() => parseOptions(['--key-size', '4'], '/r'), /--key-size wants an integer in \[8, 16\]/);
  assert.throws(
    () => parseOptions(['--clients', '5', '--conns', '10'], '/r'),
    /--clients must be at least --conns/,
  );
  assert.throws(() => parseOptions(['etcd'], '/r'), /unexpected argument 'etcd'/);
});

test('--members picks the cluster sizes: one of 1, 3, 5 or a list, kept in ascending order', () => {
  assert.deepEqual(parseOptions(['--members', '3'], '/r').members, [3]);
  assert.deepEqual(parseOptions(['--members=1'], '/r').members, [1]);
  assert.deepEqual(parseOptions(['--members', '5,1'], '/r').members, [1, 5]);
  assert.deepEqual(parseOptions(['--members', '3,3'], '/r').members, [3]);
  assert.throws(
    () => parseOptions(['--members', '2'], '/r'),
    /--members wants 1, 3, 5 or a list of them, got '2'/,
  );
  assert.throws(() => parseOptions(['--members', '3,7'], '/r'), /got '3,7'/);
  assert.throws(() => parseOptions(['--members', ','], '/r'), /--members needs a cluster size/);
  assert.throws(() => parseOptions(['--members'], '/r'), /--members needs a value/);
});
