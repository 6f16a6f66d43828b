// The lock and election recipes across a 3-member cluster: requests to followers take the one write
// path (forwarded to the leader), each member waits on its own WatchableStore, and the leader's
// lease expiry reaches a waiter queued through a follower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, utf8 } from '../../base/index.js';
import { TestCluster } from '../cluster-test-helpers.js';
import type { EtcdServer } from '../etcd-server.js';
import { campaign, resign } from './election.js';
import { KvClient } from './kv-client.js';
import { ERR_SESSION_EXPIRED, lock, unlock } from './mutex.js';
import { observe, type LeaderReport } from './observe.js';
import { eventually, FakeClock, grant, keysUnder, text, track } from './test-helpers.js';

const live = () => new AbortController().signal;

async function withCluster(
  fn: (c: TestCluster, clock: FakeClock, lead: EtcdServer, followers: EtcdServer[]) => Promise<void>,
) {
  const clock = new FakeClock();
  const c = new TestCluster({ leaseClock: clock });
  try {
    await c.startAll([1n, 2n, 3n]);
    const lead = await c.leader();
    const followers = [...c.servers.values()].filter((s) => s !== lead);
    await fn(c, clock, lead, followers);
  } finally {
    await c.close();
  }
}

test('a lock held through one follower passes to a waiter on another when the leader unlocks it', () =>
  withCluster(async (_c, clock, lead, [f1, f2]) => {
    const [a, b, x] = [await grant(f1!, 60n), await grant(f2!, 60n), await grant(lead, 5n)];
    const held = await lock(new KvClient(f1!), utf8('L'), a, live());
    // x queues first: a waiter only learns its key is gone once every earlier key is.
    const expiring = track(lock(new KvClient(f1!), utf8('L'), x, live()));
    await eventually(async () => (await keysUnder(lead, 'L/')).length === 2);
    const waiting = track(lock(new KvClient(f2!), utf8('L'), b, live()));
    await eventually(async () => (await keysUnder(lead, 'L/')).length === 3);
    clock.t += 6_000; // x's lease expires on the leader's clock; its waiter on f1 must not win
    await eventually(async () => (await keysUnder(lead, 'L/')).length === 2);
    await unlock(new KvClient(lead), held.key, live());
    assert.equal(text((await waiting.promise).key), `L/${b.toString(16)}`);
    await assert.rejects(expiring.promise, new EtcdError(ERR_SESSION_EXPIRED));
  }));

test('an observer on a follower sees the leaders elected through the other members', () =>
  withCluster(async (_c, _clock, lead, [f1, f2]) => {
    const reports: LeaderReport[] = [];
    const ac = new AbortController();
    const done = observe(new KvClient(f2!), utf8('e'), ac.signal, (r) => {
      reports.push(r);
      return Promise.resolve();
    });
    const [a, b] = [await grant(lead, 60n), await grant(lead, 60n)];
    const first = await campaign(new KvClient(f1!), utf8('e'), a, utf8('one'), live());
    const second = campaign(new KvClient(lead), utf8('e'), b, utf8('two'), live());
    await eventually(() => Promise.resolve(reports.length === 1));
    await resign(new KvClient(f1!), first.leader, live());
    await second;
    await eventually(() => Promise.resolve(reports.length === 2));
    assert.deepEqual(
      reports.map((r) => text(r.kv.value)),
      ['one', 'two'],
    );
    ac.abort();
    await assert.rejects(done);
  }));
