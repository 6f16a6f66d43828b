import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  countFailures,
  renderMarkdown,
  type BenchReport,
  type LoadReport,
  type ServerReport,
} from './report.js';

function load(id: LoadReport['id'], title: string, rps: number, other = 0): LoadReport {
  return {
    id,
    title,
    ok: rps * 10,
    errors: 0,
    errorSamples: [],
    elapsedSec: 10,
    requestsPerSec: rps,
    latency: { count: rps * 10, meanMs: 1, p50Ms: 0.5, p90Ms: 1, p99Ms: 12.345, p999Ms: 20, maxMs: 30 },
    cpu: { serverSec: 8, generatorSec: 2, otherSec: other, wallSec: 10 },
    peakRssBytes: 1 << 27,
  };
}

function server(name: 'etcd' | 'ketch', rps: number, rss: number, other = 0): ServerReport {
  return {
    name,
    members: 1,
    command: `/bin/${name} --name=bench`,
    version: `${name} 1.0`,
    loads: [
      load('put-1', 'put, 1 client', rps, other),
      load('range-l', 'range linearizable, 100 clients / 10 conns', rps * 4),
    ],
    rss: { puts: 50_000, errors: 0, errorSamples: [], elapsedSec: 3, peakRssBytes: rss },
    problems: [],
  };
}

function report(servers: ServerReport[]): BenchReport {
  return {
    command: 'npm run bench',
    nodeCommand: 'node dist/bench/run.js',
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'CPU', os: 'Linux', node: 'v20' },
    settings: {
      durationSec: 10,
      maxRequests: 300_000,
      warmupRequests: 2000,
      rssPuts: 50_000,
      fill: 0,
      repeat: 1,
      members: [1],
      clients: 100,
      conns: 10,
      workers: 2,
      client: 'raw',
      keySize: 8,
      valueSize: 256,
      keySpace: 1_000_000,
    },
    servers,
  };
}

test('both servers: one row per load with the ketch/etcd ratio, and the RSS row', () => {
  const md = renderMarkdown(
    report([server('etcd', 2500, 100 * 2 ** 20), server('ketch', 2000, 150 * 2 ** 20)]),
  );
  const lines = md.split('\n');
  assert.equal(lines[0], 'command: `npm run bench`');
  assert.ok(
    lines.includes(
      '| load | etcd req/s | etcd p50 / p99 ms | ketch req/s | ketch p50 / p99 ms | ketch / etcd |',
    ),
  );
  assert.ok(lines.includes('| put, 1 client | 2,500 | 0.50 / 12.3 | 2,000 | 0.50 / 12.3 | 0.80× |'));
  assert.ok(
    lines.includes(
      '| range linearizable, 100 clients / 10 conns | 10,000 | 0.50 / 12.3 | 8,000 | 0.50 / 12.3 | 0.80× |',
    ),
  );
  assert.ok(lines.includes('| peak RSS after 50,000 puts | 100.0 MB |  | 150.0 MB |  | 1.50× |'));
  assert.ok(
    lines.includes(
      '| put, 1 client | 8.0 s (80%) | 2.0 s (20%) | 0.0 s (0%) | 8.0 s (80%) | 2.0 s (20%) | 0.0 s (0%) |',
    ),
  );
  assert.equal(countFailures(report([server('etcd', 1, 1)])), 0);
});

test('etcd only: no ratio column; a noisy load is marked and explained', () => {
  const md = renderMarkdown(report([server('etcd', 2500, 100 * 2 ** 20, 5)]));
  assert.ok(md.includes('| load | etcd req/s | etcd p50 / p99 ms |\n'));
  assert.ok(md.includes('| put, 1 client | 2,500 † | 0.50 / 12.3 |\n'));
  assert.ok(md.includes('† other processes used more than 25% of a core'));
});

test('a failed server, errors and problems are listed and counted as failures', () => {
  const etcd = server('etcd', 2500, 1);
  etcd.loads[0]!.errors = 3;
  etcd.loads[0]!.errorSamples = [{ status: 14, message: 'etcdserver: leader changed', count: 3 }];
  etcd.problems.push('store revision is 5 after 9 acknowledged puts (0 failed); expected 10');
  const ketch: ServerReport = {
    ...server('ketch', 0, 0),
    loads: [],
    rss: null,
    failed: 'ketch exited with code 1 before it was ready',
  };
  const r = report([etcd, ketch]);
  const md = renderMarkdown(r);
  assert.ok(md.includes('| put, 1 client | 2,500 (3 errors) | 0.50 / 12.3 | – | – | – |'));
  assert.ok(md.includes('**ketch failed**: ketch exited with code 1 before it was ready'));
  assert.ok(md.includes('**etcd errors** in put, 1 client: 3 × grpc-status 14: etcdserver: leader changed'));
  assert.ok(md.includes('**etcd problem**: store revision is 5'));
  assert.equal(countFailures(r), 1 + 1 + 3);
});

test('repeated runs: the median is shown with the range of all runs', () => {
  const etcd = server('etcd', 2500, 1);
  etcd.loads[0]!.runsPerSec = [2400, 2500, 3100.4];
  const r = report([etcd]);
  r.settings.repeat = 3;
  const md = renderMarkdown(r);
  assert.ok(md.includes('| put, 1 client | 2,500 (2,400–3,100) | 0.50 / 12.3 |\n'));
  assert.ok(md.includes('run 3 times per server (servers alternating); the median run is shown'));
});

function clusterOf(s: ServerReport, leaders: string[]): ServerReport {
  return {
    ...s,
    members: 3,
    rss: null,
    loads: s.loads.map((l) => ({ ...l, leader: leaders[0], runLeaders: leaders })),
  };
}

test('single members and 3-member clusters get a table each, the cluster table without RSS', () => {
  const etcd = server('etcd', 2500, 100 * 2 ** 20);
  const ketch = server('ketch', 2000, 150 * 2 ** 20);
  const r = report([
    etcd,
    ketch,
    clusterOf(server('etcd', 1000, 0), ['m2', 'm1']),
    clusterOf(server('ketch', 500, 0), ['m3', 'm3']),
  ]);
  r.settings.members = [1, 3];
  const lines = renderMarkdown(r).split('\n');
  const one = lines.indexOf('### 1 member');
  const three = lines.indexOf('### 3-member cluster');
  assert.ok(one > 0 && three > one);
  const head = '| load | etcd req/s | etcd p50 / p99 ms | ketch req/s | ketch p50 / p99 ms | ketch / etcd |';
  assert.equal(lines.indexOf(head, one) < three, true);
  assert.ok(lines.indexOf(head, three) > three);
  assert.ok(lines.indexOf('| put, 1 client | 2,500 | 0.50 / 12.3 | 2,000 | 0.50 / 12.3 | 0.80× |') < three);
  assert.ok(lines.indexOf('| put, 1 client | 1,000 | 0.50 / 12.3 | 500 | 0.50 / 12.3 | 0.50× |') > three);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('| peak RSS')),
    ['| peak RSS after 50,000 puts | 100.0 MB |  | 150.0 MB |  | 1.50× |'],
  );
  assert.ok(lines.includes('- etcd (etcd 1.0): `/bin/etcd --name=bench` (member m1)'));
  assert.ok(
    lines.includes(
      '- put, 1 client has one connection, to m1; the leader at the start of each run: etcd m2, m1; ketch m3, m3',
    ),
  );
  assert.ok(lines.some((l) => l.includes('connection j of a load goes to member j mod 3')));
  assert.equal(lines.filter((l) => l.startsWith('CPU time during each load')).length, 2);
});

test('a cluster that failed is named with its size', () => {
  const failed: ServerReport = {
    ...server('ketch', 0, 0),
    members: 3,
    loads: [],
    rss: null,
    failed: 'ketch m2 exited with code 1 before it was ready',
  };
  const r = report([server('etcd', 2500, 1), failed]);
  const md = renderMarkdown(r);
  assert.ok(md.includes('**ketch, 3 members failed**: ketch m2 exited with code 1 before it was ready'));
  assert.equal(countFailures(r), 1);
});
