import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../base/bytes.js';
import { Err, EtcdError } from '../base/errors.js';
import { MemoryBackend } from '../backend/memory-backend.js';
import type { Backend } from '../backend/backend.js';
import { minLeaseTtlSeconds, MAX_LEASE_TTL } from './lease.js';
import { decodeLeaseRecord, leaseIdKey } from './lease-codec.js';
import { Lessor } from './lessor.js';

class FakeClock {
  t = 1_000_000;
  reads = 0;
  nowMs(): number {
    this.reads++;
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function open(
  be: Backend = new MemoryBackend(),
  clock = new FakeClock(),
): { l: Lessor; be: Backend; clock: FakeClock } {
  const l = Lessor.open(be, { minTtlSeconds: 2n, clock, expiredRetryMs: 3000, checkpointIntervalMs: 1000 });
  return { l, be, clock };
}

const rejects = (fn: () => unknown, msg: string): void =>
  assert.throws(fn, (e: unknown) => e instanceof EtcdError && e.message === msg);

test('the minimum TTL is 1.5 election timeouts in whole ticks, rounded up to seconds', () => {
  assert.equal(minLeaseTtlSeconds(1000, 100), 2n);
  assert.equal(minLeaseTtlSeconds(1500, 100), 3n); // 22 ticks of 100 ms
  assert.equal(minLeaseTtlSeconds(3000, 300), 5n);
  assert.equal(minLeaseTtlSeconds(500, 100), 1n);
});

test('grant stores etcd’s leasepb.Lease under the 8-byte ID, raising short TTLs to the minimum', () => {
  const { l, be } = open();
  const lease = be.write((tx) => l.grant(tx, 7n, 1n));
  assert.equal(lease.ttl, 2n);
  const raw = be.read((tx) => tx.get('lease', leaseIdKey(7n)));
  assert.deepEqual(decodeLeaseRecord(raw!), { ID: 7n, TTL: 2n, RemainingTTL: 0n });
  assert.equal(be.write((tx) => l.grant(tx, 8n, MAX_LEASE_TTL)).ttl, MAX_LEASE_TTL);
});

test('grant refuses ID 0, a TTL above the maximum and an existing ID with etcd’s messages', () => {
  const { l, be } = open();
  be.write((tx) => l.grant(tx, 1n, 10n));
  rejects(() => be.write((tx) => l.grant(tx, 0n, 10n)), Err.leaseNotFound);
  rejects(() => be.write((tx) => l.grant(tx, 2n, MAX_LEASE_TTL + 1n)), Err.leaseTTLTooLarge);
  rejects(() => be.write((tx) => l.grant(tx, 1n, 10n)), Err.leaseExist);
  assert.deepEqual(l.ids(), [1n]);
});

test('applying entries never reads the clock, even on the leader', () => {
  const { l, be, clock } = open();
  l.promote(0);
  const before = clock.reads;
  be.write((tx) => {
    l.grant(tx, 1n, 10n);
    l.grant(tx, 2n, 10n);
    l.attach(1n, utf8('a'));
    l.checkpoint(tx, 2n, 4n);
    l.detach(1n, utf8('a'));
    l.revoke(tx, 1n);
  });
  assert.equal(clock.reads, before);
});

test('a follower never expires a lease by its own clock', () => {
  const { l, be, clock } = open();
  be.write((tx) => l.grant(tx, 1n, 5n));
  clock.advance(3_600_000);
  assert.deepEqual(l.expired(1000), []);
  assert.deepEqual(l.dueCheckpoints(1000), []);
  assert.deepEqual(l.renew(1n), { kind: 'notPrimary' });
});

test('on the leader a lease expires after its TTL and is handed out again until revoked', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => l.grant(tx, 1n, 5n));
  l.schedulePending();
  clock.advance(4999);
  assert.deepEqual(l.expired(10), []);
  clock.advance(1);
  assert.deepEqual(l.expired(10), [1n]);
  assert.deepEqual(l.expired(10), []); // handed out once per retry interval
  assert.deepEqual(l.renew(1n), { kind: 'expired' });
  clock.advance(3000);
  assert.deepEqual(l.expired(10), [1n]);
  be.write((tx) => l.revoke(tx, 1n));
  clock.advance(3000);
  assert.deepEqual(l.expired(10), []);
});

test('expired leases are handed out at most `limit` at a time, earliest first', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => {
    for (let i = 1n; i <= 5n; i++) l.grant(tx, i, 10n + i);
  });
  l.schedulePending();
  clock.advance(60_000);
  assert.deepEqual(l.expired(2), [1n, 2n]);
  assert.deepEqual(l.expired(2), [3n, 4n]);
  assert.deepEqual(l.expired(2), [5n]);
});

test('a renewal restarts the full TTL and asks for the checkpoint to be reset when one is recorded', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => l.grant(tx, 1n, 10n));
  clock.advance(6000);
  assert.deepEqual(l.renew(1n), { kind: 'renewed', ttl: 10n, resetCheckpoint: false });
  assert.equal(l.timeToLive(1n, false)!.ttl, 10n);
  be.write((tx) => l.checkpoint(tx, 1n, 7n));
  clock.advance(2500);
  assert.equal(l.timeToLive(1n, false)!.ttl, 7n); // 7.5 s left, truncated
  assert.deepEqual(l.renew(1n), { kind: 'renewed', ttl: 10n, resetCheckpoint: true });
  be.write((tx) => l.checkpoint(tx, 1n, 0n));
  assert.deepEqual(l.renew(1n), { kind: 'renewed', ttl: 10n, resetCheckpoint: false });
  assert.deepEqual(l.renew(99n), { kind: 'notFound' });
});

test('checkpoints come once a second per lease whose remaining TTL moved, 0 meaning full', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => {
    l.grant(tx, 1n, 10n);
    l.grant(tx, 2n, 60n);
  });
  l.schedulePending();
  assert.deepEqual(l.dueCheckpoints(100), []);
  clock.advance(1000);
  assert.deepEqual(l.dueCheckpoints(100), [
    { ID: 1n, remainingTTL: 9n },
    { ID: 2n, remainingTTL: 59n },
  ]);
  assert.deepEqual(l.dueCheckpoints(100), []); // not due again for a second
  be.write((tx) => l.checkpoint(tx, 1n, 9n));
  clock.advance(400);
  l.renew(2n);
  clock.advance(600);
  // Lease 1 moved to 8; lease 2 was renewed: its recorded 0 (nothing applied yet) is still right.
  assert.deepEqual(l.dueCheckpoints(100), [{ ID: 1n, remainingTTL: 8n }]);
  clock.advance(1000);
  assert.deepEqual(l.dueCheckpoints(1), [{ ID: 1n, remainingTTL: 7n }]);
  assert.deepEqual(l.dueCheckpoints(1), [{ ID: 2n, remainingTTL: 59n }]);
});

test('allCheckpoints covers every lease whose recorded remaining TTL is stale', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => {
    l.grant(tx, 1n, 10n);
    l.grant(tx, 2n, 20n);
  });
  l.schedulePending();
  clock.advance(2500);
  be.write((tx) => l.checkpoint(tx, 2n, 18n));
  assert.deepEqual(l.allCheckpoints(), [{ ID: 1n, remainingTTL: 8n }]);
});

test('a new leader continues from the checkpointed remaining TTL, with grace before revoking', () => {
  const a = open();
  const b = open(new MemoryBackend(), new FakeClock());
  a.l.promote(0);
  for (const m of [a, b]) m.be.write((tx) => m.l.grant(tx, 1n, 30n));
  a.l.schedulePending();
  a.clock.advance(12_000);
  const cps = a.l.dueCheckpoints(1000);
  assert.deepEqual(cps, [{ ID: 1n, remainingTTL: 18n }]);
  for (const m of [a, b]) m.be.write((tx) => m.l.checkpoint(tx, 1n, cps[0]!.remainingTTL));
  a.l.demote();
  b.l.promote(1000);
  assert.equal(b.l.timeToLive(1n, false)!.ttl, 18n);
  b.clock.advance(18_000);
  assert.deepEqual(b.l.expired(10), []); // the grace
  b.clock.advance(1000);
  assert.deepEqual(b.l.expired(10), [1n]);
});

test('a renewal after a promotion drops the grace', () => {
  const { l, be, clock } = open();
  be.write((tx) => l.grant(tx, 1n, 10n));
  l.promote(5000);
  l.renew(1n);
  clock.advance(10_000);
  assert.deepEqual(l.expired(10), [1n]);
});

test('demote stops expiry and tells revoke waiters the lease was not revoked here', async () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => l.grant(tx, 1n, 5n));
  l.schedulePending();
  clock.advance(6000);
  assert.deepEqual(l.expired(10), [1n]);
  const waiting = l.waitRevoked(1n);
  l.demote();
  assert.equal(await waiting, false);
  clock.advance(60_000);
  assert.deepEqual(l.expired(10), []);
  assert.equal(l.isPrimary, false);
});

test('revoke names the attached keys in byte order, then removes lease and bucket entry', async () => {
  const { l, be } = open();
  l.promote(0);
  be.write((tx) => l.grant(tx, 1n, 10n));
  for (const k of ['b', 'a', 'c']) assert.equal(l.attach(1n, utf8(k)), true);
  assert.equal(l.attach(2n, utf8('x')), false);
  assert.deepEqual(l.keysToRevoke(1n), [utf8('a'), utf8('b'), utf8('c')]);
  assert.throws(() => be.write((tx) => l.revoke(tx, 1n)), /still attached/);
  const waiting = l.waitRevoked(1n);
  be.write((tx) => {
    for (const k of l.keysToRevoke(1n)) assert.equal(l.detach(1n, k), true);
    l.revoke(tx, 1n);
  });
  assert.equal(await waiting, true);
  assert.equal(
    be.read((tx) => tx.get('lease', leaseIdKey(1n))),
    undefined,
  );
  rejects(() => l.keysToRevoke(1n), Err.leaseNotFound);
  rejects(() => be.write((tx) => l.revoke(tx, 1n)), Err.leaseNotFound);
});

test('timeToLive reports whole seconds left, the granted TTL and the keys', () => {
  const { l, be, clock } = open();
  l.promote(0);
  be.write((tx) => l.grant(tx, 1n, 10n));
  l.schedulePending();
  l.attach(1n, utf8('k2'));
  l.attach(1n, utf8('k1'));
  clock.advance(3300);
  assert.deepEqual(l.timeToLive(1n, true), { ttl: 6n, grantedTtl: 10n, keys: [utf8('k1'), utf8('k2')] });
  assert.deepEqual(l.timeToLive(1n, false), { ttl: 6n, grantedTtl: 10n, keys: [] });
  assert.equal(l.timeToLive(2n, true), undefined);
});

test('reopening restores leases and checkpoints from the bucket; keys come back through attach', () => {
  const { l, be } = open();
  be.write((tx) => {
    l.grant(tx, 1n, 10n);
    l.grant(tx, -3n, 100n);
    l.checkpoint(tx, -3n, 42n);
  });
  const again = Lessor.open(be, { minTtlSeconds: 20n, clock: new FakeClock() });
  assert.deepEqual(again.ids(), [-3n, 1n]);
  assert.equal(again.lookup(1n)!.ttl, 20n); // the minimum applies on restore too, as in etcd
  assert.equal(again.lookup(-3n)!.remainingTtl, 42n);
  assert.equal(again.lookup(-3n)!.startTtl, 42n);
});
