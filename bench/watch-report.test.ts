import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultWatchOptions } from './watch-options.js';
import type { IdleLoadResult } from './watch-idle.js';
import type { LatencyLoadResult } from './watch-latency.js';
import { renderWatchMarkdown, watchFailures, type WatchReport } from './watch-report.js';

function latency(p50: number, p99: number): LatencyLoadResult {
  return {
    putsSent: 100,
    putsAcked: 100,
    putErrors: 0,
    expectedEvents: 1000,
    receivedEvents: 1000,
    timedEvents: 1000,
    watchersShort: 0,
    latency: { count: 1000, meanMs: p50, p50Ms: p50, p90Ms: p50, p99Ms: p99, p999Ms: p99, maxMs: p99 },
    problems: [],
    createSec: 0.5,
    elapsedSec: 10,
    serverCpuSec: 5,
    generatorCpuSec: 2,
    otherCpuSec: 0,
    putErrorSamples: [],
    clientLoopDelayP99Ms: 1,
    clientLoopDelayMaxMs: 3,
  };
}

function idle(before: number, after: number): IdleLoadResult {
  return {
    watchers: 1000,
    streams: 10,
    conns: 1,
    rssBeforeBytes: before,
    rssAfterBytes: after,
    peakRssBytes: after,
    perWatcherBytes: (after - before) / 1000,
    createSec: 1,
    problems: [],
  };
}

function report(): WatchReport {
  const { help: _h, json: _j, quick: _q, keepData: _k, ...settings } = defaultWatchOptions('/r');
  return {
    command: 'npm run bench -- watch',
    startedAt: '2024-01-01T00:00:00Z',
    machine: { cpus: 2, cpuModel: 'cpu', os: 'Linux', node: 'v20' },
    settings,
    servers: [
      {
        name: 'etcd',
        version: '3.4.23',
        latency: { command: 'etcd --x', result: latency(2, 10) },
        idle: { command: 'etcd --x', result: idle(20e6, 320e6) },
      },
      {
        name: 'ketch',
        version: '0.1.0',
        latency: { command: 'ketch --x', result: latency(1, 20) },
        idle: { command: 'ketch --x', result: idle(60e6, 210e6) },
      },
    ],
  };
}

test('both servers: a column each and the ketch/etcd ratio of the measured rows', () => {
  const md = renderWatchMarkdown(report());
  assert.match(md, /^command: `npm run bench -- watch`/);
  assert.match(md, /\| {2}\| etcd \| ketch \| ketch\/etcd \|/);
  assert.match(md, /\| events received \/ expected \| 1,000 \/ 1,000 \| 1,000 \/ 1,000 \| {2}\|/);
  assert.match(md, /\| latency p50 \(ms\) \| 2\.00 \| 1\.00 \| 0\.50× \|/);
  assert.match(md, /\| latency p99 \(ms\) \| 10\.0 \| 20\.0 \| 2\.00× \|/);
  assert.match(md, /\| RSS holding the watchers \| 320\.0 MB \| 210\.0 MB \| 0\.66× \|/);
  assert.match(md, /\| per watcher \| 300,000 B \| 150,000 B \| 0\.50× \|/);
  assert.match(md, /- ketch \(0\.1\.0\): `ketch --x`/);
  assert.equal(watchFailures(report()), 0);
});

test('a failed server shows "failed" and its reason, and every kind of failure is counted', () => {
  const r = report();
  r.servers[1]!.latency = { command: 'ketch --x', failed: 'ketch exited with code 1' };
  const l = r.servers[0]!.latency!.result!;
  l.receivedEvents = 999;
  l.putErrors = 2;
  l.problems = ['a watcher was canceled: x'];
  r.servers[0]!.idle!.result!.problems = ['live check: ...'];
  const md = renderWatchMarkdown(r);
  assert.match(md, /\| latency p50 \(ms\) \| 2\.00 \| failed \| {2}\|/);
  assert.match(md, /FAILED: ketch exited with code 1/);
  assert.match(md, /PROBLEM: a watcher was canceled: x/);
  // 1 failed load + 1 missing-events + 2 put errors + 1 latency problem + 1 idle problem.
  assert.equal(watchFailures(r), 6);
});

test('one server only: no ratio column; a measure not run has no table', () => {
  const r = report();
  r.servers = [r.servers[0]!];
  delete r.servers[0]!.idle;
  const md = renderWatchMarkdown(r);
  assert.match(md, /\| {2}\| etcd \|\n\| --- \| ---: \|/);
  assert.doesNotMatch(md, /ketch\/etcd/);
  assert.doesNotMatch(md, /idle watchers/);
});
