// Watch streams and the `hasleader` metadata (clientv3.WithRequireLeader, which etcdctl sets): on a
// member that has lost its leader, a stream that asked for one is ended with "etcdserver: no
// leader" (Unavailable) after a few election timeouts, while a stream that did not ask keeps its
// watchers; a new stream that asks is refused at once. KETCH_E2E_TARGET=etcd runs it against etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Cluster, type Member } from './cluster.js';
import { Code } from './grpc-wire.js';
import { WatchCall, b } from './watch-wire.js';

/** The call's end, or a failure if it has not ended in a minute (a liveness guard, not a timing claim). */
function ended(call: WatchCall): Promise<{ code: number; message: string }> {
  return Promise.race([
    call.ended,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the stream did not end')), 60_000).unref(),
    ),
  ]);
}

test(`watch streams on a member without a leader (${target()})`, async () => {
  const c = await Cluster.start(target(), 3);
  try {
    const leader = await c.waitLeader();
    const [survivor, other] = c.members.filter((m) => m !== leader) as [Member, Member];
    const requiring = new WatchCall(survivor.clientUrl, { hasleader: 'true' });
    const plain = new WatchCall(survivor.clientUrl);
    requiring.create({ key: b('a') });
    plain.create({ key: b('a') });
    assert.equal((await requiring.next()).created, true);
    assert.equal((await plain.next()).created, true);

    await other.server.kill9();
    await leader.server.kill9();
    assert.deepStrictEqual(await ended(requiring), {
      code: Code.UNAVAILABLE,
      message: 'etcdserver: no leader',
    });

    const refused = new WatchCall(survivor.clientUrl, { hasleader: 'true' });
    assert.deepStrictEqual(await ended(refused), {
      code: Code.UNAVAILABLE,
      message: 'etcdserver: no leader',
    });

    // The stream without the metadata is still there: it answers a progress request.
    plain.progress();
    const p = await plain.next();
    assert.equal(p.watchId, -1n);
    plain.close();
  } finally {
    await c.stopAll();
  }
});
