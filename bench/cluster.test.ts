import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agreedLeader, clusterFlags, memberAddresses, ServerCluster } from './cluster.js';

test('memberAddresses names members m1.. and pairs each client port with a peer port', () => {
  assert.deepEqual(memberAddresses([10, 11, 20, 21, 30, 31]), [
    { name: 'm1', clientPort: 10, peerPort: 11 },
    { name: 'm2', clientPort: 20, peerPort: 21 },
    { name: 'm3', clientPort: 30, peerPort: 31 },
  ]);
  assert.throws(() => memberAddresses([1, 2, 3]), /a client and a peer port/);
});

test("clusterFlags: etcd's flags for a new 3-member cluster on loopback", () => {
  const members = memberAddresses([2379, 2380, 12379, 12380, 22379, 22380]);
  assert.deepEqual(clusterFlags(members, 1, '/tmp/d/data', 'tok-1'), [
    '--name=m2',
    '--data-dir=/tmp/d/data',
    '--listen-client-urls=http://127.0.0.1:12379',
    '--advertise-client-urls=http://127.0.0.1:12379',
    '--listen-peer-urls=http://127.0.0.1:12380',
    '--initial-advertise-peer-urls=http://127.0.0.1:12380',
    '--initial-cluster=m1=http://127.0.0.1:2380,m2=http://127.0.0.1:12380,m3=http://127.0.0.1:22380',
    '--initial-cluster-state=new',
    '--initial-cluster-token=tok-1',
  ]);
  // Every member lists the same cluster; only its own name, URLs and data dir differ.
  const all = [0, 1, 2].map((i) => clusterFlags(members, i, `/d${i}`, 'tok-1'));
  assert.equal(new Set(all.map((f) => f.find((x) => x.startsWith('--initial-cluster=')))).size, 1);
  assert.throws(() => clusterFlags(members, 3, '/d', 't'), /no member 3 in a cluster of 3/);
});

test('agreedLeader: every member answers and names the same leader, which is a member', () => {
  const s = (memberId: bigint, leader: bigint) => ({ memberId, leader, raftTerm: 2n });
  assert.equal(agreedLeader([s(1n, 2n), s(2n, 2n), s(3n, 2n)]), 1);
  assert.equal(agreedLeader([s(1n, 2n), 'connect ECONNREFUSED', s(3n, 2n)]), 'm2: connect ECONNREFUSED');
  assert.equal(agreedLeader([s(1n, 2n), s(2n, 0n), s(3n, 2n)]), 'm2 has no leader');
  assert.equal(agreedLeader([s(1n, 2n), s(2n, 3n), s(3n, 3n)]), 'members name different leaders (2, 3)');
  assert.equal(agreedLeader([s(1n, 9n), s(2n, 9n), s(3n, 9n)]), 'the leader 9 is not one of the members');
});

test('a cluster whose member exits while starting fails with that member named, and the others are stopped', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ketch-bench-cluster-test-'));
  const label = `failing${process.pid}`;
  try {
    // m2 exits after half a second; m1 and m3 record their pids at once, then run until stopped
    // without ever answering.
    const bin = path.join(dir, 'server.sh');
    writeFileSync(
      bin,
      `#!/bin/sh\ncase "$1" in --name=m2) echo "m2 refuses"; sleep 0.5; exit 3;; esac\n` +
        `echo $$ > "${dir}/pid-\${1#--name=}"\nexec sleep 600\n`,
    );
    chmodSync(bin, 0o755);
    await assert.rejects(
      ServerCluster.start(label, bin, 3, 30_000),
      (err: Error) =>
        err.message.startsWith(`${label} m2 exited with code 3 before it was ready`) &&
        /m2 refuses/.test(err.message),
    );
    const pids = ['m1', 'm3'].map((m) => Number(readFileSync(path.join(dir, `pid-${m}`), 'utf8')));
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.deepEqual(
      readdirSync(os.tmpdir()).filter((f) => f.startsWith(`ketch-bench-${label}-`)),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
