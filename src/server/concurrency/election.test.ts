// The election recipe on a real member: Campaign (uncontended, again by the same lease, queued
// behind a leader, given up), Proclaim and Resign against current and stale leader keys, Leader,
// and etcd's error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../../base/index.js';
import {
  campaign,
  ERR_ELECTION_NO_LEADER,
  ERR_ELECTION_NOT_LEADER,
  ERR_MISSING_LEADER_KEY,
  leader,
  proclaim,
  resign,
} from './election.js';
import { eventually, grant, keysUnder, roundTrip, text, track, withMember } from './test-helpers.js';

const live = () => new AbortController().signal;
const v = utf8;

test(
  'an uncontended campaign wins at once with its txn header; Leader reads the key',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const won = await campaign(client, utf8('e'), a, v('one'), live());
    assert.equal(won.header.revision, server.revision);
    assert.deepEqual(
      { ...won.leader, name: text(won.leader.name), key: text(won.leader.key) },
      { name: 'e', key: `e/${a.toString(16)}`, rev: won.header.revision, lease: a },
    );
    const l = await leader(client, utf8('e'), live());
    assert.deepEqual([text(l.kv.key), text(l.kv.value), l.kv.lease], [`e/${a.toString(16)}`, 'one', a]);
    assert.equal(l.header.revision, server.revision);
  }),
);

test(
  'campaigning again by the same lease keeps the place and proclaims a new value',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const won = await campaign(client, utf8('e'), a, v('one'), live());
    const same = await campaign(client, utf8('e'), a, v('one'), live());
    assert.deepEqual(same, won, 'same value: nothing written');
    const other = await campaign(client, utf8('e'), a, v('two'), live());
    assert.deepEqual(other, won, 'the header is the first txn’s, as etcd answers');
    const l = await leader(client, utf8('e'), live());
    assert.deepEqual(
      [text(l.kv.value), l.kv.createRevision, l.kv.modRevision],
      ['two', won.leader.rev, server.revision],
    );
  }),
);

test(
  'a second candidate is elected only when the leader resigns, with its own txn header',
  withMember(async ({ server, client }) => {
    const [a, b] = [await grant(server, 60n), await grant(server, 60n)];
    const first = await campaign(client, utf8('e'), a, v('a'), live());
    const second = track(campaign(client, utf8('e'), b, v('b'), live()));
    await eventually(async () => (await keysUnder(server, 'e/')).length === 2);
    await roundTrip(server);
    assert.equal(second.settled(), false);
    const queuedAt = (await keysUnder(server, 'e/')).find((kv) => kv.lease === b)!.createRevision;
    const h = await resign(client, first.leader, live());
    assert.equal(h.revision, server.revision);
    const won = await second.promise;
    assert.deepEqual([won.leader.rev, won.header.revision, won.leader.lease], [queuedAt, queuedAt, b]);
    assert.equal(text((await leader(client, utf8('e'), live())).kv.value), 'b');
  }),
);

test(
  'a candidate that gives up while waiting withdraws its key',
  withMember(async ({ server, client }) => {
    const [a, b] = [await grant(server, 60n), await grant(server, 60n)];
    await campaign(client, utf8('e'), a, v('a'), live());
    const ac = new AbortController();
    const waiting = campaign(client, utf8('e'), b, v('b'), ac.signal);
    await eventually(async () => (await keysUnder(server, 'e/')).length === 2);
    ac.abort();
    await assert.rejects(waiting, new EtcdError(Err.contextCanceled));
    await eventually(async () => (await keysUnder(server, 'e/')).length === 1);
  }),
);

test(
  'Proclaim and Resign act only for the current leader key; etcd’s errors otherwise',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const { leader: L } = await campaign(client, utf8('e'), a, v('a'), live());
    const h = await proclaim(client, L, v('a2'), live());
    assert.equal(h.revision, server.revision);
    await assert.rejects(
      proclaim(client, { ...L, rev: 1n }, v('x'), live()),
      new EtcdError(ERR_ELECTION_NOT_LEADER),
    );
    await assert.rejects(proclaim(client, undefined, v('x'), live()), new EtcdError(ERR_MISSING_LEADER_KEY));
    await assert.rejects(resign(client, undefined, live()), new EtcdError(ERR_MISSING_LEADER_KEY));
    await assert.rejects(
      proclaim(client, { ...L, lease: 0x999n }, v('x'), live()),
      new EtcdError(Err.leaseNotFound),
    );
    const before = server.revision;
    assert.equal(
      (await resign(client, { ...L, rev: 1n }, live())).revision,
      before,
      'stale: nothing deleted',
    );
    assert.equal(text((await leader(client, utf8('e'), live())).kv.value), 'a2');
    await resign(client, L, live());
    await assert.rejects(leader(client, utf8('e'), live()), new EtcdError(ERR_ELECTION_NO_LEADER));
    await assert.rejects(proclaim(client, L, v('late'), live()), new EtcdError(ERR_ELECTION_NOT_LEADER));
  }),
);

test(
  'Proclaim with lease 0 attaches the key to a fresh session lease, as etcd does',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const { leader: L } = await campaign(client, utf8('e'), a, v('a'), live());
    await proclaim(client, { ...L, lease: 0n }, v('b'), live());
    const kv = (await leader(client, utf8('e'), live())).kv;
    assert.equal(text(kv.value), 'b');
    assert.notEqual(kv.lease, a);
    assert.notEqual(kv.lease, 0n);
  }),
);
