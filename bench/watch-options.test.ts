import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultWatchOptions, parseWatchOptions } from './watch-options.js';

test('no flags: both servers, both measures, 1,000 watchers at 200 puts/s, 100,000 idle watchers', () => {
  const o = parseWatchOptions([], '/repo');
  assert.deepEqual(o, defaultWatchOptions('/repo'));
  assert.deepEqual(o.targets, ['etcd', 'ketch']);
  assert.deepEqual(o.measures, ['latency', 'idle']);
  assert.deepEqual([o.watchers, o.streams, o.conns, o.rate, o.durationSec], [1000, 10, 10, 200, 10]);
  assert.deepEqual([o.idleWatchers, o.idleStreams, o.idleConns], [100_000, 1000, 10]);
  assert.equal(o.ketchBin, '/repo/bin/ketch');
});

test('--target, --measure and both flag spellings', () => {
  const o = parseWatchOptions(
    ['--target', 'etcd', '--measure=idle', '--idle-watchers', '20_000', '--rate=50'],
    '/r',
  );
  assert.deepEqual(o.targets, ['etcd']);
  assert.deepEqual(o.measures, ['idle']);
  assert.equal(o.idleWatchers, 20_000);
  assert.equal(o.rate, 50);
  assert.deepEqual(parseWatchOptions(['--target', 'both'], '/r').targets, ['etcd', 'ketch']);
  assert.deepEqual(parseWatchOptions(['--measure', 'idle,latency'], '/r').measures, ['latency', 'idle']);
});

test('--quick shortens what was not given explicitly', () => {
  const q = parseWatchOptions(['--quick'], '/r');
  assert.deepEqual([q.durationSec, q.idleWatchers, q.idleStreams, q.waitQuietSec], [2, 10_000, 100, 0]);
  const q2 = parseWatchOptions(['--quick', '--duration', '5'], '/r');
  assert.equal(q2.durationSec, 5);
});

test('bad or inconsistent input is an error with the reason', () => {
  assert.throws(
    () => parseWatchOptions(['--target', 'zookeeper'], '/r'),
    /--target wants etcd, ketch or both/,
  );
  assert.throws(() => parseWatchOptions(['--measure', 'cpu'], '/r'), /unknown measure 'cpu'/);
  assert.throws(() => parseWatchOptions(['--frobnicate'], '/r'), /unknown flag --frobnicate/);
  assert.throws(() => parseWatchOptions(['--rate'], '/r'), /--rate needs a value/);
  assert.throws(
    () => parseWatchOptions(['--value-size', '8'], '/r'),
    /--value-size wants an integer in \[12,/,
  );
  assert.throws(() => parseWatchOptions(['--streams', '5', '--conns', '6'], '/r'), /--conns ≤ --streams/);
  assert.throws(() => parseWatchOptions(['--idle-watchers', '10'], '/r'), /--idle-streams ≤ --idle-watchers/);
  assert.throws(
    () => parseWatchOptions(['--watchers', '100000', '--rate', '1000', '--duration', '100'], '/r'),
    /at most 50000000/,
  );
});
