// The lock recipe on a real member: queueing by create revision, re-entry by the same lease, a
// waiter that gives up, lease 0's session lease, and the Jepsen case (a waiter whose lease expired
// while queued is refused instead of being told it holds the lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../../base/index.js';
import { LeaseTimeToLiveRequest } from '../../generated/etcdserverpb.js';
import { ERR_SESSION_EXPIRED, lock, unlock } from './mutex.js';
import { eventually, grant, keysUnder, put, roundTrip, text, track, withMember } from './test-helpers.js';

const live = () => new AbortController().signal;

test(
  'an uncontended lock is held at once: key name/<lease hex>, the header of its txn',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const held = await lock(client, utf8('L'), a, live());
    assert.equal(text(held.key), `L/${a.toString(16)}`);
    assert.equal(held.header.revision, server.revision);
    assert.equal(held.header.memberId, server.memberId);
    const [kv] = await keysUnder(server, 'L/');
    assert.deepEqual([kv!.createRevision, kv!.lease, kv!.value.length], [held.header.revision, a, 0]);
    const again = await lock(client, utf8('L'), a, live());
    assert.deepEqual(again, held, 'the same lease holds it already: same key, nothing written');
    const h = await unlock(client, held.key, live());
    assert.equal(h.revision, held.header.revision + 1n);
    assert.deepEqual(await keysUnder(server, 'L/'), []);
    assert.equal(
      (await unlock(client, held.key, live())).revision,
      h.revision,
      'unlocking again is no error',
    );
  }),
);

test(
  'waiters get the lock in create-revision order, each only once every earlier key is gone',
  withMember(async ({ server, client }) => {
    const [a, b, c] = [await grant(server, 60n), await grant(server, 60n), await grant(server, 60n)];
    const ha = await lock(client, utf8('q'), a, live());
    const wb = track(lock(client, utf8('q'), b, live()));
    await eventually(async () => (await keysUnder(server, 'q/')).length === 2);
    const wc = track(lock(client, utf8('q'), c, live()));
    await eventually(async () => (await keysUnder(server, 'q/')).length === 3);
    await put(server, 'q0', 'a key past the prefix');
    await roundTrip(server);
    assert.deepEqual([wb.settled(), wc.settled()], [false, false]);
    await unlock(client, ha.key, live());
    const hb = await wb.promise;
    assert.equal(text(hb.key), `q/${b.toString(16)}`);
    assert.equal(hb.header.revision, server.revision, 'the header of the read that found the queue clear');
    await roundTrip(server);
    assert.equal(wc.settled(), false, 'c waits for b');
    await unlock(client, hb.key, live());
    assert.equal(text((await wc.promise).key), `q/${c.toString(16)}`);
  }),
);

test(
  'a waiter whose caller gives up deletes its key and rejects',
  withMember(async ({ server, client }) => {
    const [a, b] = [await grant(server, 60n), await grant(server, 60n)];
    await lock(client, utf8('g'), a, live());
    const ac = new AbortController();
    const waiting = lock(client, utf8('g'), b, ac.signal);
    await eventually(async () => (await keysUnder(server, 'g/')).length === 2);
    ac.abort();
    await assert.rejects(waiting, new EtcdError(Err.contextCanceled));
    await eventually(async () => (await keysUnder(server, 'g/')).length === 1);
    assert.equal((await keysUnder(server, 'g/'))[0]!.lease, a);
  }),
);

test(
  'Jepsen (etcd 3.4.3): a waiter whose lease expires while queued is refused, not given the lock',
  withMember(async ({ server, client, clock }) => {
    const holder = await grant(server, 60n);
    const waiter = await grant(server, 5n);
    const held = await lock(client, utf8('j'), holder, live());
    const waiting = track(lock(client, utf8('j'), waiter, live()));
    await eventually(async () => (await keysUnder(server, 'j/')).length === 2);
    clock.t += 6_000; // past the waiter's TTL: the leader revokes its lease, and with it its key
    await eventually(async () => (await keysUnder(server, 'j/')).length === 1);
    assert.equal(waiting.settled(), false, 'the holder still holds');
    await unlock(client, held.key, live());
    await assert.rejects(waiting.promise, new EtcdError(ERR_SESSION_EXPIRED));
    assert.deepEqual(await keysUnder(server, 'j/'), []);
  }),
);

test(
  'a holder whose lease expires hands the lock to the next waiter',
  withMember(async ({ server, client, clock }) => {
    const holder = await grant(server, 5n);
    const next = await grant(server, 60n);
    await lock(client, utf8('x'), holder, live());
    const waiting = lock(client, utf8('x'), next, live());
    await eventually(async () => (await keysUnder(server, 'x/')).length === 2);
    clock.t += 6_000;
    assert.equal(text((await waiting).key), `x/${next.toString(16)}`);
  }),
);

test(
  'lease 0 runs under a fresh 60 s lease; an unknown lease is refused and leaves no key',
  withMember(async ({ server, client }) => {
    const held = await lock(client, utf8('z'), 0n, live());
    const lease = BigInt(`0x${text(held.key).slice(2)}`);
    const ttl = await server.leases.timeToLive(LeaseTimeToLiveRequest.create({ ID: lease, keys: true }));
    assert.equal(ttl.grantedTTL, 60n);
    assert.deepEqual(ttl.keys.map(text), [text(held.key)]);
    await assert.rejects(lock(client, utf8('u'), 0x999n, live()), new EtcdError(Err.leaseNotFound));
    assert.deepEqual(await keysUnder(server, 'u/'), []);
    await assert.rejects(unlock(client, new Uint8Array(0), live()), new EtcdError(Err.emptyKey));
  }),
);
