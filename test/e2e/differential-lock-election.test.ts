// Differential tests of the v3lockpb.Lock and v3electionpb.Election services: real etcd 3.4 and
// the server under test get the same requests in the same order and must give equal answers —
// errors (gRPC code and message), keys, revisions, Observe streams — header IDs and raft term
// aside. Leases are granted with client-chosen IDs so both servers name the same keys; requests
// naming lease 0 make each server grant its own lease, so those answers are compared with the
// lease's hex in the key replaced.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Code, GrpcConn } from './grpc-wire.js';
import { call, Rpc, type CallResult } from './etcd-pb.js';
import { Differential, k, plain } from './diff-helpers.js';
import type { MsgDef } from './pb.js';
import { ElectionRpc, LeaseTimeToLive, LockRpc, ObserveCall, type LeaderResponse } from './concurrency-pb.js';

const { Lock, Unlock } = LockRpc;
const { Campaign, Proclaim, Leader, Resign } = ElectionRpc;
const { Range, Put, DeleteRange, LeaseGrant, LeaseRevoke } = Rpc;

const A = 0x1a2bn;
const B = 0x1a2cn;
const C = 0x1a2dn;
const hexA = A.toString(16);
const hexB = B.toString(16);

interface Header {
  clusterId: bigint;
  memberId: bigint;
  raftTerm: bigint;
}

/** Header IDs and raft term zeroed (they must be set); everything else kept, in comparable form. */
function norm(v: unknown): unknown {
  const zero = (h: Header | undefined): unknown => {
    if (h === undefined) return undefined;
    assert.ok(h.clusterId !== 0n && h.memberId !== 0n && h.raftTerm !== 0n, 'header IDs and term set');
    return { ...h, clusterId: 0n, memberId: 0n, raftTerm: 0n };
  };
  const r = v as { res?: { header?: Header }; header?: Header };
  if (r.res?.header !== undefined) return plain({ ...r, res: { ...r.res, header: zero(r.res.header) } });
  if (r.header !== undefined) return plain({ ...r, header: zero(r.header) });
  return plain(v);
}

/** Polls until both servers have `n` keys under `pfx`. */
async function bothHave(d: Differential, conns: GrpcConn[], pfx: string, n: number): Promise<void> {
  const end = k(pfx);
  end[end.length - 1]!++;
  for (const c of conns) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await call(c, Range, { key: k(pfx), rangeEnd: end, countOnly: true });
      if (r.code === 0 && r.res!.count === BigInt(n)) break;
      if (Date.now() > deadline) throw new Error(`${c.url}: no ${n} keys under ${pfx}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
  await d.same(Range, { key: k(pfx), rangeEnd: end });
}

void describe(`differential: etcd 3.4 vs ${target()} (Lock, Election)`, () => {
  let d: Differential;
  /** Second connections, for calls that wait while the main ones carry on. */
  let etcd2: GrpcConn;
  let sut2: GrpcConn;

  before(async () => {
    d = await Differential.start();
    etcd2 = new GrpcConn(d.etcd.clientUrl);
    sut2 = new GrpcConn(d.sut.clientUrl);
    for (const ID of [A, B, C]) await d.same(LeaseGrant, { ID, TTL: 600n });
  });
  after(async () => {
    etcd2?.close();
    sut2?.close();
    await d?.stop();
  });

  /** Starts the same call on both second connections; resolves with both answers. */
  const both = <Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    req: Partial<Q>,
    timeoutMs?: number,
  ): Promise<[CallResult<R>, CallResult<R>]> =>
    Promise.all([call(etcd2, rpc, req, timeoutMs), call(sut2, rpc, req, timeoutMs)]);

  void it('errors answer Unknown with etcd’s messages', async () => {
    const notFound = 'etcdserver: requested lease not found';
    await d.expect(Lock, { name: k('l'), lease: 0x999n }, Code.UNKNOWN, notFound);
    await d.expect(Lock, { name: k('l'), lease: -1n }, Code.UNKNOWN, notFound);
    await d.expect(Unlock, { key: k('') }, Code.UNKNOWN, 'etcdserver: key is not provided');
    await d.expect(Unlock, { key: k('l/none') }, Code.OK);
    await d.expect(Leader, { name: k('e') }, Code.UNKNOWN, 'election: no leader');
    await d.expect(Proclaim, { value: k('x') }, Code.UNKNOWN, '"leader" field must be provided');
    await d.expect(Resign, {}, Code.UNKNOWN, '"leader" field must be provided');
    await d.expect(Campaign, { name: k('e'), lease: 0x999n, value: k('v') }, Code.UNKNOWN, notFound);
  });

  void it('Lock: uncontended, again by the same lease, Unlock', async () => {
    const held = await d.expect(Lock, { name: k('l1'), lease: A }, Code.OK);
    assert.equal(held.res!.key.toString('latin1'), `l1/${hexA}`);
    await d.same(Lock, { name: k('l1'), lease: A }, 'the same lease holds it already');
    await d.same(Range, { key: k('l1/'), rangeEnd: k('l10') });
    await d.same(Lock, { name: k(''), lease: A }, 'an empty name');
    await d.same(Lock, { name: k('\xff\xff'), lease: A }, 'a name of 0xff bytes');
    await d.same(Unlock, { key: held.res!.key });
    await d.same(Unlock, { key: held.res!.key }, 'again');
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('Lock: the next lease gets the lock once the holder unlocks', async () => {
    await d.same(Lock, { name: k('l2'), lease: A });
    let settled = false;
    const waiting = both(Lock, { name: k('l2'), lease: B }, 30_000).finally(() => (settled = true));
    await bothHave(d, [etcd2, sut2], 'l2/', 2);
    await d.same(Put, { key: k('l2x'), value: k('unrelated') });
    assert.equal(settled, false, 'the waiter waits while the holder holds');
    await d.same(Unlock, { key: k(`l2/${hexA}`) });
    const [e, s] = await waiting;
    assert.deepEqual(norm(s), norm(e));
    assert.equal(e.res!.key.toString('latin1'), `l2/${hexB}`);
    await d.same(Unlock, { key: k(`l2/${hexB}`) });
  });

  void it('Lock: a waiter that gives up removes its key', async () => {
    await d.same(Lock, { name: k('l3'), lease: A });
    const gaveUp = await Promise.allSettled([
      call(etcd2, Lock, { name: k('l3'), lease: B }, 500),
      call(sut2, Lock, { name: k('l3'), lease: B }, 500),
    ]);
    assert.deepEqual(
      gaveUp.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    await bothHave(d, [etcd2, sut2], 'l3/', 1);
    await d.same(Range, { key: k('l3/'), rangeEnd: k('l30') });
    await d.same(Unlock, { key: k(`l3/${hexA}`) });
  });

  void it('Campaign, Leader, Proclaim, Resign', async () => {
    const won = await d.expect(Campaign, { name: k('e1'), lease: A, value: k('v1') }, Code.OK);
    const L = won.res!.leader!;
    await d.same(Campaign, { name: k('e1'), lease: A, value: k('v1') }, 'again, same value');
    await d.same(Campaign, { name: k('e1'), lease: A, value: k('v2') }, 'again, a new value is proclaimed');
    await d.same(Leader, { name: k('e1') });
    await d.same(Proclaim, { leader: L, value: k('v3') });
    await d.expect(
      Proclaim,
      { leader: { ...L, rev: 1n }, value: k('x') },
      Code.UNKNOWN,
      'election: not leader',
    );
    await d.expect(
      Proclaim,
      { leader: { ...L, key: k('') }, value: k('x') },
      Code.UNKNOWN,
      'etcdserver: key is not provided',
    );
    await d.expect(
      Proclaim,
      { leader: { ...L, lease: 0x999n }, value: k('x') },
      Code.UNKNOWN,
      'etcdserver: requested lease not found',
    );
    await d.same(Leader, { name: k('e1') });
    await d.same(Resign, { leader: { ...L, rev: 1n } }, 'a stale leader key resigns nothing');
    await d.same(Leader, { name: k('e1') });
    await d.same(Resign, { leader: L });
    await d.expect(Leader, { name: k('e1') }, Code.UNKNOWN, 'election: no leader');
    await d.same(Resign, { leader: L }, 'again');
  });

  void it('Campaign: the next candidate is elected when the leader resigns', async () => {
    const won = await d.same(Campaign, { name: k('e2'), lease: A, value: k('a') });
    let settled = false;
    const waiting = both(Campaign, { name: k('e2'), lease: B, value: k('b') }, 30_000).finally(
      () => (settled = true),
    );
    await bothHave(d, [etcd2, sut2], 'e2/', 2);
    await d.same(Leader, { name: k('e2') });
    assert.equal(settled, false, 'the candidate waits while the leader leads');
    await d.same(Resign, { leader: won.res!.leader! });
    const [e, s] = await waiting;
    assert.deepEqual(norm(s), norm(e));
    await d.same(Leader, { name: k('e2') });
    await d.same(Resign, { leader: e.res!.leader! });
  });

  void it('Observe: the same reports of leaders and proclaims, with the same headers', async () => {
    const observers = [new ObserveCall(d.etcd.clientUrl, k('e3')), new ObserveCall(d.sut.clientUrl, k('e3'))];
    try {
      const got: LeaderResponse[][] = [[], []];
      const take = async (n: number): Promise<void> => {
        for (let i = 0; i < 2; i++) for (let j = 0; j < n; j++) got[i]!.push(await observers[i]!.next());
      };
      await d.same(Put, { key: k('e3/zz'), value: k('not a candidate') });
      await take(1);
      await d.same(DeleteRange, { key: k('e3/zz') });
      const c1 = await d.same(Campaign, { name: k('e3'), lease: A, value: k('a') });
      await take(1);
      const next = both(Campaign, { name: k('e3'), lease: B, value: k('b') }, 30_000);
      await bothHave(d, [etcd2, sut2], 'e3/', 2);
      await d.same(Proclaim, { leader: c1.res!.leader!, value: k('a2') });
      await take(1);
      await d.same(Put, { key: k('e3/'), value: k('latecomer') });
      await d.same(Resign, { leader: c1.res!.leader! });
      await next;
      await take(1);
      await d.same(LeaseRevoke, { ID: B });
      await take(1);
      await d.same(Put, { key: k('e3/'), value: k('updated') });
      await take(1);
      assert.deepEqual(got[1]!.map(norm), got[0]!.map(norm));
      assert.deepEqual(
        observers.map((o) => o.buffered),
        [0, 0],
      );
      await d.same(LeaseGrant, { ID: B, TTL: 600n });
    } finally {
      for (const o of observers) o.close();
    }
  });

  void it('Lock and Campaign with lease 0 run under a fresh 60 s lease each', async () => {
    const results = await Promise.all(
      [d.etcd.clientUrl, d.sut.clientUrl].map(async (url) => {
        const conn = new GrpcConn(url);
        try {
          const locked = await call(conn, Lock, { name: k('z') });
          const won = await call(conn, Campaign, { name: k('ze'), value: k('v') });
          const lease = won.res!.leader!.lease;
          const ttl = await call(conn, LeaseTimeToLive, { ID: lease, keys: true });
          const lockKey = locked.res!.key.toString('latin1');
          const lockLease = BigInt(`0x${lockKey.slice(2)}`);
          const lockTtl = await call(conn, LeaseTimeToLive, { ID: lockLease, keys: true });
          const anon = (s: string): string => s.replace(/\/[0-9a-f]+$/, '/<lease>');
          return {
            lock: { ...locked, res: { ...locked.res!, key: k(anon(lockKey)) } },
            lockLease: {
              grantedTTL: lockTtl.res!.grantedTTL,
              keys: lockTtl.res!.keys.map((x) => anon(x.toString('latin1'))),
            },
            campaign: {
              ...won,
              res: {
                ...won.res!,
                leader: {
                  ...won.res!.leader!,
                  lease: 0n,
                  key: k(anon(won.res!.leader!.key.toString('latin1'))),
                },
              },
            },
            campaignLease: {
              grantedTTL: ttl.res!.grantedTTL,
              keys: ttl.res!.keys.map((x) => anon(x.toString('latin1'))),
            },
            differentLeases: lockLease !== lease && lease !== 0n,
            keyIsLeaseHex:
              won.res!.leader!.key.toString('latin1') === `ze/${lease.toString(16)}` &&
              lockTtl.res!.keys[0]?.toString('latin1') === lockKey,
          };
        } finally {
          conn.close();
        }
      }),
    );
    const [e, s] = results.map((r) => ({
      ...r,
      lock: norm(r.lock),
      campaign: norm(r.campaign),
    }));
    assert.deepEqual(s, e);
    assert.equal(e!.lockLease.grantedTTL, 60n);
    assert.equal(e!.keyIsLeaseHex, true);
  });
});
