import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../base/log.js';
import {
  DEFAULT_PROGRESS_INTERVAL_MS,
  LeaderMonitor,
  MIN_PROGRESS_INTERVAL_MS,
  progressIntervalMs,
} from './watch-service.js';

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const none = () => {};
  return { warnings, logger: { debug: none, info: none, error: none, warn: (m) => warnings.push(m) } };
}

void describe('watch service settings', () => {
  void it('--experimental-watch-progress-notify-interval: 0 is etcd default, short values are raised', () => {
    const { logger, warnings } = recordingLogger();
    assert.equal(progressIntervalMs(0, logger), DEFAULT_PROGRESS_INTERVAL_MS);
    assert.equal(DEFAULT_PROGRESS_INTERVAL_MS, 600_000);
    assert.equal(progressIntervalMs(5000, logger), 5000);
    assert.deepStrictEqual(warnings, []);
    assert.equal(progressIntervalMs(10, logger), MIN_PROGRESS_INTERVAL_MS);
    assert.deepStrictEqual(warnings, ['adjusting watch progress notify interval to minimum period']);
  });
});

void describe('LeaderMonitor (etcd monitorLeader)', () => {
  const hour = 3_600_000;

  void it('ends the registered streams at the third check in a row without a leader', () => {
    let leader = 0n;
    const m = new LeaderMonitor(() => leader, hour);
    const ended: string[] = [];
    const offA = m.add(() => ended.push('a'));
    m.add(() => ended.push('b'));
    m.check();
    m.check();
    leader = 7n;
    m.check();
    leader = 0n;
    m.check();
    m.check();
    assert.deepStrictEqual(ended, []);
    m.check();
    assert.deepStrictEqual(ended, ['a', 'b']);
    offA();
  });

  void it('an unregistered stream is not ended', () => {
    const m = new LeaderMonitor(() => 0n, hour);
    const ended: string[] = [];
    const off = m.add(() => ended.push('a'));
    off();
    m.add(() => ended.push('b'));
    for (let i = 0; i < 3; i++) m.check();
    assert.deepStrictEqual(ended, ['b']);
  });
});
