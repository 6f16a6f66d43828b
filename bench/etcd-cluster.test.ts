// The benchmark's 3-member clusters against Debian's real etcd 3.4 (skipped where it is not
// installed): a cluster started by ServerCluster is one cluster whose leader etcdctl confirms, a
// load spread over its members is read back on every member, stopping it leaves no process and no
// data dir, and `run.js --only etcd --members 3` reports the cluster's figures and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ServerCluster } from './cluster.js';
import { LoadGenerator } from './load-runner.js';
import type { BenchReport } from './report.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const skip = !existsSync(ETCD) || !existsSync(ETCDCTL) ? 'etcd 3.4 is not installed' : false;
const RUN_JS = fileURLToPath(new URL('./run.js', import.meta.url));

function etcdctl(endpoints: string[], ...args: string[]): string {
  return execFileSync(ETCDCTL, [`--endpoints=${endpoints.join(',')}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
  });
}

test(
  'a 3-member etcd cluster: the leader etcdctl sees, puts over all members read back on each, a clean stop',
  { skip },
  async () => {
    const cluster = await ServerCluster.start('etcd', ETCD, 3, 60_000);
    const gen = new LoadGenerator(2, 'raw');
    const endpoints = cluster.ports.map((p) => `127.0.0.1:${p}`);
    try {
      assert.equal(cluster.size, 3);
      // Member and leader IDs are uint64: read their digits from the text, not through JSON numbers.
      const status = etcdctl(endpoints, 'endpoint', 'status', '-w', 'json');
      const ids = [...status.matchAll(/"member_id":(\d+)/g)].map((m) => m[1]);
      const leaders = new Set([...status.matchAll(/"leader":(\d+)/g)].map((m) => m[1]));
      assert.equal(ids.length, 3);
      assert.deepEqual(leaders, new Set([ids[cluster.leader]]));
      assert.equal(cluster.leaderName, `m${cluster.leader + 1}`);

      const put = await gen.run({
        host: '127.0.0.1',
        ports: cluster.ports,
        op: 'put',
        serializable: false,
        conns: 6,
        clients: 12,
        maxRequests: 600,
        durationMs: 30_000,
        keySize: 8,
        valueSize: 256,
        keySpace: 1_000_000,
        keyBase: 0,
        rangeKey: 0,
      });
      assert.deepEqual([put.ok, put.errors], [600, 0]);
      for (const ep of endpoints) {
        const got = JSON.parse(etcdctl([ep], 'get', '00000599', '-w', 'json', '--consistency=l')) as {
          header: { revision: number };
          kvs: { key: string }[];
        };
        assert.equal(got.header.revision, 601);
        assert.equal(Buffer.from(got.kvs[0]!.key, 'base64').toString(), '00000599');
      }
    } finally {
      await gen.close();
      await cluster.stop();
    }
    assert.equal(cluster.alive, false);
    for (const pid of cluster.pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    for (const dir of cluster.tmpDirs) assert.equal(existsSync(dir), false);
  },
);

test('run.js --only etcd --members 3 reports the 3-member figures and exits 0', { skip }, () => {
  const args =
    '--only etcd --members 3 --json --loads put-1,range-l --duration 1 --requests 1000 --warmup 100 --wait-quiet 0 --repeat 1'.split(
      ' ',
    );
  const r = spawnSync(process.execPath, [RUN_JS, ...args], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BenchReport;
  assert.deepEqual(report.settings.members, [3]);
  assert.equal(report.servers.length, 1);
  const etcd = report.servers[0]!;
  assert.deepEqual(
    [etcd.name, etcd.members, etcd.failed, etcd.problems, etcd.rss],
    ['etcd', 3, undefined, [], null],
  );
  assert.match(
    etcd.command,
    /--name=m1 .*--initial-cluster=m1=.*,m2=.*,m3=.* --initial-cluster-state=new --initial-cluster-token=/,
  );
  assert.deepEqual(
    etcd.loads.map((l) => [l.id, l.errors, l.ok > 0, /^m[123]$/.test(l.leader ?? '')]),
    [
      ['put-1', 0, true, true],
      ['range-l', 0, true, true],
    ],
  );
});
