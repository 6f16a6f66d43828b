// etcdctl against a 3-member cluster (issue #4 acceptance): the commands an operator runs with
// --endpoints naming every member answer as they do against etcd 3.4 — same output shapes, same
// table columns. KETCH_E2E_TARGET=etcd runs the same file against real etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Cluster, parseJsonKeepingIds } from './cluster.js';

const kind = target();

interface MemberJson {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

test('etcdctl with every member as endpoint: put, get, txn, member list, endpoint status, move-leader', async () => {
  const c = await Cluster.start(kind, 3);
  try {
    const all = c.members;
    assert.equal(await c.ctlOk(all, ['put', 'k1', 'v1']), 'OK\n');
    assert.equal(await c.ctlOk(all, ['get', 'k1']), 'k1\nv1\n');
    // The same read answered by each member on its own.
    for (const m of all) assert.equal(await c.ctlOk([m], ['get', 'k1', '--print-value-only']), 'v1\n');
    const txn = await c.ctlOk(all, ['txn'], 'value("k1") = "v1"\n\nput k2 v2\n\n\n');
    assert.equal(txn, 'SUCCESS\n\nOK\n');
    assert.equal(await c.ctlOk(all, ['get', 'k2', '--print-value-only']), 'v2\n');

    const list = parseJsonKeepingIds(await c.ctlOk(all, ['member', 'list', '-w', 'json'])) as {
      members: MemberJson[];
    };
    assert.deepEqual(
      list.members.map((m) => [m.name, m.peerURLs, m.clientURLs]).sort(),
      all.map((m) => [m.name, [m.peerUrl], [m.clientUrl]]).sort(),
    );
    const table = await c.ctlOk(all, ['member', 'list', '-w', 'table']);
    assert.match(
      table.split('\n')[1]!,
      /^\| +ID +\| +STATUS +\| +NAME +\| +PEER ADDRS +\| +CLIENT ADDRS +\| +IS LEARNER +\|$/,
    );
    assert.equal(table.split('\n').filter((l) => / started /.test(l)).length, 3);

    const status = await c.ctlOk(all, ['endpoint', 'status', '--cluster', '-w', 'table']);
    assert.match(
      status.split('\n')[1]!,
      /^\| +ENDPOINT +\| +ID +\| +VERSION +\| +DB SIZE +\| +IS LEADER +\| +IS LEARNER +\| +RAFT TERM +\| +RAFT INDEX +\| +RAFT APPLIED INDEX +\| +ERRORS +\|$/,
    );
    const rows = status.split('\n').filter((l) => l.startsWith('| http'));
    assert.equal(rows.length, 3);
    assert.equal(rows.filter((l) => / true +\| +false +\|/.test(l)).length, 1, 'exactly one leader');
    for (const r of rows) assert.match(r, /\| +3\.4\.\d+ +\|/);

    const leader = await c.waitLeader();
    const follower = all.find((m) => m !== leader)!;
    const targetId = BigInt((await c.status([follower]))[0]!.memberId).toString(16);
    const leaderId = BigInt((await c.status([leader]))[0]!.memberId).toString(16);
    const moved = await c.ctlOk(all, ['move-leader', targetId]);
    assert.equal(moved, `Leadership transferred from ${leaderId} to ${targetId}\n`);
    assert.equal(await c.waitLeader(), follower);
    // Through a follower only, etcdctl finds no leader among its endpoints.
    const viaFollower = await c.ctl([leader], ['move-leader', leaderId]);
    assert.equal(viaFollower.code, 128);
    assert.match(viaFollower.stderr, /no leader endpoint given/);
  } finally {
    await c.stopAll();
  }
});
