// Differential tests of the Lease service: real etcd 3.4 and the server under test get the same
// requests in the same order and must give equal answers, errors included, header IDs and raft term
// aside. Where etcd's answer depends on the clock (remaining TTLs) or on map order (the keys of a
// lease, the list of leases), the test compares what is defined: the same fields, TTLs within the
// granted TTL, the same sets. A keepalive is sent as a one-message stream (request, half-close).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Code, GrpcConn } from './grpc-wire.js';
import { call, Rpc, ResponseHeader, type CallResult } from './etcd-pb.js';
import { msgDef, type MsgDef } from './pb.js';
import { Differential, k, plain } from './diff-helpers.js';

interface Hdr {
  header?: { revision: bigint };
}
interface TtlRequest {
  ID: bigint;
  keys: boolean;
}
interface TtlResponse extends Hdr {
  ID: bigint;
  TTL: bigint;
  grantedTTL: bigint;
  keys: Buffer[];
}
interface KeepAliveRequest {
  ID: bigint;
}
interface KeepAliveResponse extends Hdr {
  ID: bigint;
  TTL: bigint;
}
interface LeasesResponse extends Hdr {
  leases: { ID: bigint }[];
}

const header = { no: 1, type: () => ResponseHeader as MsgDef<object> };
const i64 = (no: number) => ({ no, type: 'int64' as const });
const LeaseStatus = msgDef<{ ID: bigint }>('LeaseStatus', { ID: i64(1) });
const TimeToLive = {
  path: '/etcdserverpb.Lease/LeaseTimeToLive',
  req: msgDef<TtlRequest>('LeaseTimeToLiveRequest', { ID: i64(1), keys: { no: 2, type: 'bool' } }),
  res: msgDef<TtlResponse>('LeaseTimeToLiveResponse', {
    header,
    ID: i64(2),
    TTL: i64(3),
    grantedTTL: i64(4),
    keys: { no: 5, type: 'bytes', repeated: true },
  }),
};
const KeepAlive = {
  path: '/etcdserverpb.Lease/LeaseKeepAlive',
  req: msgDef<KeepAliveRequest>('LeaseKeepAliveRequest', { ID: i64(1) }),
  res: msgDef<KeepAliveResponse>('LeaseKeepAliveResponse', { header, ID: i64(2), TTL: i64(3) }),
};
const Leases = {
  path: '/etcdserverpb.Lease/LeaseLeases',
  req: msgDef<object>('LeaseLeasesRequest', {}),
  res: msgDef<LeasesResponse>('LeaseLeasesResponse', {
    header,
    leases: { no: 2, type: () => LeaseStatus, repeated: true },
  }),
};

const { Put, Range, Txn, DeleteRange, LeaseGrant, LeaseRevoke } = Rpc;
const notFound = 'etcdserver: requested lease not found';

void describe(`differential: etcd 3.4 vs ${target()} (Lease)`, () => {
  let d: Differential;
  /** A connection of our own to etcd, for the comparisons `same` cannot make. */
  let etcdConn: GrpcConn;
  before(async () => {
    d = await Differential.start();
    etcdConn = new GrpcConn(d.etcd.clientUrl);
  });
  after(async () => {
    etcdConn?.close();
    await d?.stop();
  });

  /** Calls both servers; returns [etcd's, the target's] answers. */
  async function both<Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    req: Partial<Q>,
  ): Promise<[CallResult<R>, CallResult<R>]> {
    const etcd = await call(etcdConn, rpc, req);
    const sut = await d.sutCall(rpc, req);
    return [etcd, sut];
  }

  /** TimeToLive on both: equal but for TTL, which must lie in [granted - slack, granted] on both. */
  async function sameTtl(req: TtlRequest, slack = 5n): Promise<void> {
    const [a, b] = await both(TimeToLive, req);
    assert.equal(b.code, a.code);
    const strip = (r: CallResult<TtlResponse>) => {
      const res = r.res!;
      return plain({
        ID: res.ID,
        grantedTTL: res.grantedTTL,
        keys: [...res.keys].map((x) => x.toString('latin1')).sort(),
        revision: res.header?.revision,
      });
    };
    assert.deepStrictEqual(strip(b), strip(a), `TimeToLive ${req.ID}`);
    for (const r of [a, b]) {
      const { TTL, grantedTTL } = r.res!;
      if (grantedTTL === 0n) assert.equal(TTL, -1n);
      else assert.ok(TTL <= grantedTTL && TTL >= grantedTTL - slack, `TTL ${TTL} of ${grantedTTL}`);
    }
  }

  void it('grant: explicit IDs, the minimum TTL, the maximum TTL, duplicates and too large TTLs', async () => {
    await d.same(LeaseGrant, { ID: 0x100n, TTL: 600n });
    await d.same(LeaseGrant, { ID: 0x101n, TTL: 1n });
    await d.same(LeaseGrant, { ID: 0x102n, TTL: 0n });
    await d.same(LeaseGrant, { ID: 0x103n, TTL: -5n });
    await d.same(LeaseGrant, { ID: 0x104n, TTL: 9_000_000_000n });
    await d.same(LeaseGrant, { ID: -7n, TTL: 60n });
    await d.expect(
      LeaseGrant,
      { ID: 0x100n, TTL: 60n },
      Code.FAILED_PRECONDITION,
      'etcdserver: lease already exists',
    );
    await d.expect(
      LeaseGrant,
      { ID: 0x105n, TTL: 9_000_000_001n },
      Code.OUT_OF_RANGE,
      'etcdserver: too large lease TTL',
    );
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('grant without an ID: the server picks a positive one', async () => {
    const [a, b] = await both(LeaseGrant, { TTL: 30n });
    for (const r of [a, b]) {
      assert.equal(r.code, 0);
      assert.ok(r.res!.ID > 0n);
      assert.equal(r.res!.TTL, 30n);
    }
    assert.equal(b.res!.header!.revision, a.res!.header!.revision);
  });

  void it('timetolive: remaining and granted TTL, attached keys; an unknown lease answers TTL -1', async () => {
    await d.same(LeaseGrant, { ID: 0x200n, TTL: 600n });
    await d.same(Put, { key: k('t/b'), value: k('1'), lease: 0x200n });
    await d.same(Put, { key: k('t/a'), value: k('2'), lease: 0x200n });
    await sameTtl({ ID: 0x200n, keys: true });
    await sameTtl({ ID: 0x200n, keys: false });
    await d.same(TimeToLive, { ID: 0x999n, keys: true });
    await d.same(TimeToLive, { ID: 0n, keys: false });
  });

  void it('keepalive: the renewed TTL; an unknown lease answers TTL 0, not an error', async () => {
    await d.same(LeaseGrant, { ID: 0x300n, TTL: 120n });
    await d.same(KeepAlive, { ID: 0x300n });
    await d.same(KeepAlive, { ID: 0x301n });
    await d.same(KeepAlive, { ID: 0n });
  });

  void it('leases: the same set of IDs on both', async () => {
    const [a, b] = await both(Leases, {});
    const ids = (r: CallResult<LeasesResponse>) =>
      r.res!.leases.map((l) => l.ID).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    // The one lease whose ID each server chose differs; every other one is the same.
    const fixed = (r: CallResult<LeasesResponse>) => ids(r).filter((id) => id < 0x1000n);
    assert.deepStrictEqual(fixed(b), fixed(a));
    assert.equal(ids(b).length, ids(a).length);
    assert.equal(b.res!.header!.revision, a.res!.header!.revision);
  });

  void it('revoke: every attached key deleted in one revision; overwritten and deleted keys detached', async () => {
    await d.same(LeaseGrant, { ID: 0x400n, TTL: 600n });
    for (const key of ['r/a', 'r/b', 'r/c', 'r/d'])
      await d.same(Put, { key: k(key), value: k('v'), lease: 0x400n });
    await d.same(Put, { key: k('r/b'), value: k('plain') });
    await d.same(Put, { key: k('r/c'), value: k('kept'), ignoreLease: true, prevKv: true });
    await d.same(DeleteRange, { key: k('r/d') });
    await sameTtl({ ID: 0x400n, keys: true });
    await d.same(LeaseRevoke, { ID: 0x400n });
    await d.same(Range, { key: k('r/'), rangeEnd: k('r0') });
    await d.expect(LeaseRevoke, { ID: 0x400n }, Code.NOT_FOUND, notFound);
    await d.expect(LeaseRevoke, { ID: 0n }, Code.NOT_FOUND, notFound);
    await d.same(KeepAlive, { ID: 0x400n });
    await d.same(TimeToLive, { ID: 0x400n, keys: true });
    // A lease with no keys left: the revoke changes nothing the store counts.
    await d.same(LeaseGrant, { ID: 0x401n, TTL: 600n });
    await d.same(LeaseRevoke, { ID: 0x401n });
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('puts and txns with an unknown lease fail with "requested lease not found"', async () => {
    await d.expect(Put, { key: k('u/a'), value: k('v'), lease: 0x500n }, Code.NOT_FOUND, notFound);
    await d.same(LeaseGrant, { ID: 0x501n, TTL: 600n });
    const put = (key: string, lease: bigint) => ({ requestPut: { key: k(key), value: k('v'), lease } });
    await d.expect(Txn, { success: [put('u/b', 0x501n), put('u/c', 0x500n)] }, Code.NOT_FOUND, notFound);
    await d.same(Txn, { success: [put('u/b', 0x501n), put('u/c', 0x501n)] });
    await d.same(LeaseRevoke, { ID: 0x501n });
    await d.same(Range, { key: k('u/'), rangeEnd: k('u0') });
  });

  void it('an expired lease is revoked by the server: its keys go in one revision on both', async () => {
    await d.same(LeaseGrant, { ID: 0x600n, TTL: 2n });
    await d.same(Put, { key: k('x/a'), value: k('1'), lease: 0x600n });
    await d.same(Put, { key: k('x/b'), value: k('2'), lease: 0x600n });
    const gone = async (r: () => Promise<CallResult<{ count: bigint }>>) => {
      const deadline = Date.now() + 30_000;
      while ((await r()).res!.count !== 0n) {
        assert.ok(Date.now() < deadline, 'the keys outlived their lease by far');
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const [ra] = await both(Range, { key: k('x/'), rangeEnd: k('x0'), countOnly: true });
    assert.equal(ra.res!.count, 2n);
    await Promise.all([
      gone(() => call(etcdConn, Range, { key: k('x/'), rangeEnd: k('x0'), countOnly: true })),
      gone(() => d.sutCall(Range, { key: k('x/'), rangeEnd: k('x0'), countOnly: true })),
    ]);
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
    await d.same(TimeToLive, { ID: 0x600n, keys: false });
    await d.ctl(['lease', 'timetolive', '600']);
  });

  void it('etcdctl lease commands agree', async () => {
    await d.ctl(['lease', 'grant', '9000000001']);
    await d.ctl(['lease', 'revoke', '1234']);
    await d.ctl(['lease', 'keep-alive', '--once', '1234']);
    await d.ctl(['lease', 'timetolive', '1234', '-w', 'json']);
    await d.ctl(['put', '--lease', '1234', 'c/k', 'v']);
  });
});
