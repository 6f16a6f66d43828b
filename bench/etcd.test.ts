// Runs the benchmark's pieces against Debian's real etcd 3.4 (skipped where it is not installed):
// the load generator's puts and ranges, read back with etcdctl as an independent decoder, and a
// short end-to-end `run.js --only etcd` whose JSON and exit status are checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LoadGenerator } from './load-runner.js';
import { benchValue } from './request.js';
import { ServerProcess } from './servers.js';
import type { BenchReport } from './report.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const skip = !existsSync(ETCD) || !existsSync(ETCDCTL) ? 'etcd 3.4 is not installed' : false;
const RUN_JS = fileURLToPath(new URL('./run.js', import.meta.url));

test(
  'put and range loads against etcd: no errors, and etcdctl reads back exactly what was put',
  { skip },
  async () => {
    const etcd = await ServerProcess.start('etcd', ETCD, 30_000);
    const gen = new LoadGenerator(2, 'raw');
    try {
      const common = {
        host: '127.0.0.1',
        ports: [etcd.port],
        durationMs: 30_000,
        keySize: 8,
        valueSize: 256,
        keySpace: 1_000_000,
        keyBase: 0,
        rangeKey: 5,
      };
      const put = await gen.run({
        ...common,
        op: 'put',
        serializable: false,
        conns: 4,
        clients: 20,
        maxRequests: 2000,
      });
      assert.deepEqual([put.ok, put.errors], [2000, 0]);
      for (const serializable of [false, true]) {
        const r = await gen.run({
          ...common,
          op: 'range',
          serializable,
          conns: 4,
          clients: 20,
          maxRequests: 1000,
        });
        assert.deepEqual([r.ok, r.errors], [1000, 0]);
      }
      const endpoint = `127.0.0.1:${etcd.port}`;
      const out = execFileSync(ETCDCTL, [`--endpoints=${endpoint}`, 'get', '00001999', '-w', 'json'], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
      });
      const got = JSON.parse(out) as { header: { revision: number }; kvs: { key: string; value: string }[] };
      assert.equal(got.header.revision, 2001);
      assert.equal(Buffer.from(got.kvs[0]!.key, 'base64').toString(), '00001999');
      assert.deepEqual(Buffer.from(got.kvs[0]!.value, 'base64'), Buffer.from(benchValue(256)));
    } finally {
      await gen.close();
      await etcd.stop();
    }
  },
);

test('run.js --only etcd --members 1 prints a JSON report with all four loads and exits 0', { skip }, () => {
  const args =
    '--only etcd --members 1 --json --duration 1 --requests 2000 --warmup 100 --rss-puts 3000 --wait-quiet 0 --repeat 1'.split(
      ' ',
    );
  const r = spawnSync(process.execPath, [RUN_JS, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BenchReport;
  assert.equal(report.nodeCommand, `node dist/bench/run.js ${args.join(' ')}`);
  assert.equal(report.servers.length, 1);
  const etcd = report.servers[0]!;
  assert.equal(etcd.members, 1);
  assert.equal(etcd.failed, undefined);
  assert.deepEqual(etcd.problems, []);
  assert.deepEqual(
    etcd.loads.map((l) => [l.id, l.errors, l.ok > 0]),
    [
      ['put-1', 0, true],
      ['put-100', 0, true],
      ['range-l', 0, true],
      ['range-s', 0, true],
    ],
  );
  assert.equal(etcd.rss?.puts, 3000);
  assert.ok((etcd.rss?.peakRssBytes ?? 0) > 1024 * 1024);
});

test('run.js with a ketch binary that cannot start reports the failure and exits 1', () => {
  const args = ['--only', 'ketch', '--ketch-bin', '/nonexistent/ketch', '--quick'];
  const r = spawnSync(process.execPath, [RUN_JS, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /\*\*ketch failed\*\*: ketch could not start: spawn \/nonexistent\/ketch ENOENT/);
});
