// KeyWatch and waitDelete on a real member's WatchableStore: catch-up from an old revision, every
// batch in order past the queue bound (the store holds the rest and catches up on resume), the end
// of a watch whose revisions were compacted, and cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../../base/index.js';
import { CompactionRequest, DeleteRangeRequest } from '../../generated/etcdserverpb.js';
import { KeyWatch, waitDelete, type KeyEvents } from './key-watch.js';
import { put, text, withMember } from './test-helpers.js';

const live = () => new AbortController().signal;

test(
  'a watch from an old revision catches up, then follows new writes, every batch in order',
  withMember(async ({ server }) => {
    const first = await put(server, 'k', 'v0');
    for (let i = 1; i < 10; i++) await put(server, 'k', `v${i}`);
    const w = new KeyWatch(server.watchable, utf8('k'), new Uint8Array(0), first);
    for (let i = 10; i < 200; i++) await put(server, 'k', `v${i}`);
    const seen: string[] = [];
    while (seen.length < 200) {
      const got = (await w.next(live())) as KeyEvents;
      assert.ok('events' in got);
      for (const e of got.events) seen.push(text(e.kv!.value));
      assert.ok(got.rev >= got.events[got.events.length - 1]!.kv!.modRevision);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 200 }, (_, i) => `v${i}`),
    );
    const before = server.watchable.watcherCount;
    w.cancel();
    assert.equal(server.watchable.watcherCount, before - 1);
  }),
);

test(
  'a watch whose revisions were compacted away ends; waitDelete then fails as clientv3 does',
  withMember(async ({ server }) => {
    const first = await put(server, 'k', 'a');
    await put(server, 'k', 'b');
    await server.compact(CompactionRequest.create({ revision: server.revision }));
    const w = new KeyWatch(server.watchable, utf8('k'), new Uint8Array(0), first);
    assert.deepEqual(await w.next(live()), { compactRev: server.revision });
    await assert.rejects(
      waitDelete(server.watchable, utf8('k'), first, live()),
      new EtcdError(Err.compacted),
    );
  }),
);

test(
  'waitDelete resolves on the delete, ignoring puts; a caller that gives up stops waiting',
  withMember(async ({ server }) => {
    const rev = await put(server, 'k', 'a');
    const waiting = waitDelete(server.watchable, utf8('k'), rev, live());
    await put(server, 'k', 'b');
    await server.deleteRange(DeleteRangeRequest.create({ key: utf8('k') }));
    await waiting;
    const watchers = server.watchable.watcherCount;
    const ac = new AbortController();
    const given = waitDelete(server.watchable, utf8('gone-never'), server.revision, ac.signal);
    ac.abort();
    await assert.rejects(given, new EtcdError(Err.contextCanceled));
    assert.equal(server.watchable.watcherCount, watchers, 'the watcher was removed');
  }),
);
