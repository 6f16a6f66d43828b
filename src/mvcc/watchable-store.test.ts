// WatchableStore behaviour over the memory backend: which watchers an event reaches, filters,
// prev_kv in the synced and catch-up paths, historical starts, compaction, victims and resume,
// the catch-up racing notify, rebind, cancel and close.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../backend/memory-backend.js';
import { KVStore } from './kv-store.js';
import { backendImpls } from './store-harness.test.js';
import { WatchableStore } from './watchable-store.js';
import {
  applyBatch,
  checkBatches,
  del,
  drain,
  expected,
  k,
  makeEnv,
  put,
  Recorder,
  runStep,
  show,
  spec,
  type Env,
} from './watch-harness.test.js';
import type { Watcher, WatchSpec } from './watch-types.js';

function watch(env: Env, sink: Recorder, s: WatchSpec, tag = 0n): Watcher {
  return env.ws.watch(s, sink, tag);
}

/** What the watcher received equals the log's events for it from `from` through its progress. */
function assertStream(env: Env, sink: Recorder, w: Watcher, from: bigint): void {
  checkBatches(sink.batches.get(w) ?? []);
  const want = expected(env.log, w.spec, from, w.progressRev);
  assert.deepEqual(show(sink.received(w)), show(want));
}

void describe('WatchableStore', () => {
  void it('delivers to single-key, prefix, range and from-key watchers exactly the keys they watch', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const single = watch(env, sink, spec('foo'));
    const prefix = watch(env, sink, spec('p/', 'p0'));
    const range = watch(env, sink, spec('b', 'd'));
    const fromKey = watch(env, sink, spec('c', '\0'));
    for (const key of ['foo', 'fo', 'fooo', 'p/1', 'p/', 'p0', 'a', 'b', 'c', 'cz', 'd', 'zz'])
      put(env, key, 'v');
    const keys = (w: Watcher): string[] => show(sink.received(w)).map((s) => s.split(' ')[1]!.split('@')[0]!);
    assert.deepEqual(keys(single), ['foo']);
    assert.deepEqual(keys(prefix), ['p/1', 'p/']);
    assert.deepEqual(keys(range), ['b', 'c', 'cz']);
    assert.deepEqual(keys(fromKey), ['foo', 'fo', 'fooo', 'p/1', 'p/', 'p0', 'c', 'cz', 'd', 'zz']);
    for (const w of [single, prefix, range, fromKey]) {
      assert.equal(w.synced, true);
      assert.equal(w.progressRev, env.kv.currentRev);
    }
  });

  void it('gives each watcher one batch per notify holding every revision of it, sharing event objects', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const a = watch(env, sink, spec('a', 'b'));
    const b = watch(env, sink, spec('a', '\0'));
    applyBatch(env, [
      (t) => void t.put(k('a1'), k('x')),
      (t) => {
        t.put(k('a2'), k('y'));
        t.put(k('zz'), k('z'));
      },
    ]);
    assert.equal(sink.batches.get(a)!.length, 1);
    assert.equal(sink.batches.get(a)![0]!.rev, 3n);
    assert.deepEqual(show(sink.received(a)), ['PUT a1@2=x', 'PUT a2@3=y']);
    assert.deepEqual(show(sink.received(b)), ['PUT a1@2=x', 'PUT a2@3=y', 'PUT zz@3=z']);
    // The same event object, encoded once, reaches both.
    const ea = sink.batches.get(a)![0]!.events[0]!;
    const eb = sink.batches.get(b)![0]!.events[0]!;
    assert.equal(ea, eb);
    assert.equal(ea.encoded(false), eb.encoded(false));
  });

  void it('applies the NOPUT and NODELETE filters; a watcher left with nothing still progresses', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const noPut = watch(env, sink, spec('x', '', { noPut: true }));
    const noDel = watch(env, sink, spec('x', '', { noDelete: true }));
    put(env, 'x', '1');
    del(env, 'x');
    assert.deepEqual(show(sink.received(noPut)), ['DEL x@3=']);
    assert.deepEqual(show(sink.received(noDel)), ['PUT x@2=1']);
    put(env, 'x', '2');
    assert.equal(sink.batches.get(noPut)!.length, 1, 'no deliver call for a batch filtered empty');
    assert.equal(noPut.progressRev, 4n);
  });

  void it('carries prev_kv only to watchers that asked, in the synced and the catch-up path', () => {
    const env = makeEnv();
    put(env, 'k', 'v1');
    const sink = new Recorder();
    const withPrev = watch(env, sink, spec('k', '', { prevKv: true }));
    const without = watch(env, sink, spec('k'));
    put(env, 'k', 'v2');
    del(env, 'k');
    put(env, 'k', 'v3');
    assert.deepEqual(show(sink.received(withPrev)), ['PUT k@3=v2 prev=v1', 'DEL k@4= prev=v2', 'PUT k@5=v3']);
    assert.deepEqual(show(sink.received(without)), ['PUT k@3=v2', 'DEL k@4=', 'PUT k@5=v3']);
    // The same history replayed from the backend.
    const late = new Recorder();
    const histPrev = watch(env, late, spec('k', '', { prevKv: true, startRev: 2n }));
    const hist = watch(env, late, spec('k', '', { startRev: 2n }));
    assert.equal(histPrev.synced, false);
    drain(env);
    assert.deepEqual(show(late.received(histPrev)), [
      'PUT k@2=v1',
      'PUT k@3=v2 prev=v1',
      'DEL k@4= prev=v2',
      'PUT k@5=v3',
    ]);
    assert.deepEqual(show(late.received(hist)), ['PUT k@2=v1', 'PUT k@3=v2', 'DEL k@4=', 'PUT k@5=v3']);
    assert.equal(histPrev.synced, true);
    // DELETE events carry etcd's form: key and deletion revision only.
    const delEvent = late.batches.get(hist)![0]!.events[2]!.event;
    assert.deepEqual(delEvent.kv, {
      key: k('k'),
      createRevision: 0n,
      modRevision: 4n,
      version: 0n,
      value: new Uint8Array(0),
      lease: 0n,
    });
  });

  void it('replays a historical start in bounded steps of whole revisions, then joins the synced group', () => {
    const env = makeEnv(3);
    applyBatch(env, [(t) => ['a', 'b', 'c', 'd', 'e'].forEach((x) => t.put(k(x), k('1')))]);
    for (let i = 0; i < 6; i++) put(env, 'a', `${i}`);
    const sink = new Recorder();
    const w = watch(env, sink, spec('a', '\0', { startRev: 2n }));
    assert.equal(sink.deliverCalls, 0, 'nothing is delivered synchronously inside watch()');
    assert.equal(runStep(env), true);
    // Revision 2 holds five events: read whole although over the bound of three.
    assert.deepEqual(
      sink.batches.get(w)!.map((b) => [b.rev, b.events.length]),
      [[2n, 5]],
    );
    assert.equal(w.progressRev, 2n);
    runStep(env);
    assert.deepEqual(sink.batches.get(w)!.at(-1)!.rev, 5n);
    drain(env);
    assert.equal(w.synced, true);
    assertStream(env, sink, w, 2n);
  });

  void it('moves a caught-up watcher into the synced group with no gap or duplicate when notify runs between steps', () => {
    const env = makeEnv(1);
    for (let i = 0; i < 4; i++) put(env, 'x', `old${i}`);
    const sink = new Recorder();
    const w = watch(env, sink, spec('x', '', { startRev: 2n, prevKv: true }));
    runStep(env); // revision 2
    put(env, 'x', 'new1'); // 6, while unsynced
    runStep(env); // 3
    put(env, 'x', 'new2'); // 7
    runStep(env); // 4
    runStep(env); // 5
    runStep(env); // 6
    assert.equal(w.synced, false);
    runStep(env); // 7: reaches the notified revision and joins the synced group
    assert.equal(w.synced, true);
    put(env, 'x', 'new3'); // 8, delivered by notify
    assert.equal(env.queue.length, 0);
    assertStream(env, sink, w, 2n);
    assert.equal(sink.received(w).length, 7);
  });

  void it('compacts a watcher whose start is below the compaction revision from a step, never inside watch()', async () => {
    const env = makeEnv();
    for (let i = 0; i < 5; i++) put(env, 'c', `${i}`);
    const job = env.kv.backend.write((tx) => env.kv.compact(tx, 4n));
    await job.done;
    env.ws.compacted(4n);
    const sink = new Recorder();
    const below = watch(env, sink, spec('c', '', { startRev: 3n }));
    const atCompaction = watch(env, sink, spec('c', '', { startRev: 4n }));
    assert.equal(sink.compactions.size, 0);
    assert.equal(env.ws.watcherCount, 2);
    drain(env);
    assert.equal(sink.compactions.get(below), 4n);
    assert.equal(sink.compactions.has(atCompaction), false, 'etcd serves a start equal to the compaction');
    assert.equal(env.ws.cancel(below), false, 'a compacted watcher is gone');
    assert.deepEqual(show(sink.received(atCompaction)), ['PUT c@4=2', 'PUT c@5=3', 'PUT c@6=4']);
    assert.equal(env.ws.watcherCount, 1);
  });

  void it('a watch from the compaction revision replays a delete made at exactly that revision', async () => {
    const env = makeEnv();
    put(env, 'd', 'x');
    put(env, 'e', 'y');
    del(env, 'd');
    const job = env.kv.backend.write((tx) => env.kv.compact(tx, 4n));
    await job.done;
    env.ws.compacted(4n);
    put(env, 'd', 'z');
    const sink = new Recorder();
    const w = watch(env, sink, spec('d', '', { startRev: 4n }));
    drain(env);
    assert.equal(sink.compactions.has(w), false);
    assert.deepEqual(show(sink.received(w)), ['DEL d@4=', 'PUT d@5=z']);
  });

  void it('compacts an unsynced watcher overtaken by a compaction between its steps', () => {
    const env = makeEnv(1);
    for (let i = 0; i < 6; i++) put(env, 'c', `${i}`);
    const sink = new Recorder();
    const w = watch(env, sink, spec('c', '', { startRev: 2n }));
    runStep(env);
    runStep(env);
    assert.equal(w.progressRev, 3n);
    env.kv.backend.write((tx) => env.kv.compact(tx, 5n));
    env.ws.compacted(5n);
    runStep(env);
    assert.equal(sink.compactions.get(w), 5n);
    assertStream(env, sink, w, 2n);
    assert.equal(env.queue.length, 0);
  });

  void it('a refused batch makes a victim holding nothing; resume catches it up with nothing lost or repeated', () => {
    const env = makeEnv(2);
    const sink = new Recorder();
    const w = watch(env, sink, spec('v', '', { prevKv: true }));
    const other = watch(env, sink, spec('v'));
    sink.refuse = (x) => x === w;
    put(env, 'v', '1');
    assert.equal(w.synced, false);
    assert.equal(w.progressRev, 2n, 'the refused batch was still taken');
    assert.equal(env.ws.victimCount, 1);
    sink.refuse = () => false;
    for (let i = 2; i < 8; i++) put(env, 'v', `${i}`);
    assert.equal(w.progressRev, 2n);
    assert.equal(sink.received(w).length, 1);
    env.ws.resume(w);
    env.ws.resume(w); // a second resume is a no-op
    put(env, 'v', '8');
    drain(env);
    assert.equal(w.synced, true);
    assertStream(env, sink, w, 2n);
    assertStream(env, sink, other, 2n);
    assert.equal(sink.received(w).length, 8);
  });

  void it('a watcher refused during catch-up becomes a victim and resumes from where it was', () => {
    const env = makeEnv(1);
    for (let i = 0; i < 5; i++) put(env, 'r', `${i}`);
    const sink = new Recorder();
    const w = watch(env, sink, spec('r', '', { startRev: 2n }));
    sink.refuse = (_x, b) => b.rev === 3n;
    drain(env);
    assert.equal(env.ws.victimCount, 1);
    assert.equal(w.progressRev, 3n);
    env.ws.resume(w);
    drain(env);
    assert.equal(w.synced, true);
    assertStream(env, sink, w, 2n);
  });

  void it('a start revision in the future is synced and given nothing before it', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const w = watch(env, sink, spec('f', '', { startRev: 4n }));
    assert.equal(w.synced, true);
    put(env, 'f', '1');
    put(env, 'f', '2');
    put(env, 'f', '3');
    assert.deepEqual(show(sink.received(w)), ['PUT f@4=3']);
    assert.equal(w.progressRev, 4n);
  });

  void it('rebind: every watcher catches up from its progress against the replacement store', () => {
    const env = makeEnv(2);
    const sink = new Recorder();
    const w = watch(env, sink, spec('a', '\0', { prevKv: true }));
    const hist = watch(env, sink, spec('b', '', { startRev: 1n }));
    put(env, 'a', '1');
    put(env, 'b', '1');
    // The replacement: a copy of this store's backend that has seen more writes (a snapshot).
    const copy = new MemoryBackend();
    copy.write((tx) =>
      env.kv.backend.read((r) =>
        r.forEach('key', new Uint8Array(0), undefined, (kk, v) => tx.put('key', kk, v)),
      ),
    );
    const kv2 = KVStore.open(copy);
    const env2: Env = { ...env, kv: kv2 };
    applyBatch(env2, [(t) => void t.put(k('a'), k('2'))], false);
    applyBatch(env2, [(t) => void t.deleteRange(k('b'))], false);
    env.ws.rebind(kv2);
    assert.equal(w.synced, false);
    assert.equal(env.ws.unsyncedCount, 2);
    drain(env);
    put(env2, 'a', '3');
    assert.equal(w.synced && hist.synced, true);
    assertStream(env2, sink, w, 2n);
    assertStream(env2, sink, hist, 1n);
    assert.equal(w.progressRev, 6n);
  });

  void it('a notify that skips revisions is repaired by catching the synced watchers up', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const w = watch(env, sink, spec('g'));
    applyBatch(env, [(t) => void t.put(k('g'), k('lost'))], false);
    put(env, 'g', 'seen');
    assert.equal(w.synced, false);
    drain(env);
    assertStream(env, sink, w, 2n);
    assert.equal(sink.received(w).length, 2);
    assert.throws(() => env.ws.notify(env.log.slice(-1)), /already notified/);
  });

  void it('cancel is idempotent and stops delivery, whatever the watcher state', () => {
    const env = makeEnv();
    put(env, 'q', '0');
    const sink = new Recorder();
    const synced = watch(env, sink, spec('q'));
    const unsynced = watch(env, sink, spec('q', '', { startRev: 2n }));
    const victim = watch(env, sink, spec('q'));
    sink.refuse = (x) => x === victim;
    put(env, 'q', '1');
    assert.equal(env.ws.watcherCount, 3);
    for (const w of [synced, unsynced, victim]) {
      assert.equal(env.ws.cancel(w), true);
      assert.equal(env.ws.cancel(w), false);
    }
    env.ws.resume(victim);
    assert.equal(env.ws.watcherCount, 0);
    const calls = sink.deliverCalls;
    put(env, 'q', '2');
    drain(env);
    assert.equal(sink.deliverCalls, calls);
    assert.equal(synced.progressRev, 3n);
  });

  void it('a sink may cancel and add watchers from inside deliver', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const first = watch(env, sink, spec('s'));
    const second = watch(env, sink, spec('s'));
    let added: Watcher | undefined;
    sink.onDeliver = (w) => {
      if (w !== first || added !== undefined) return;
      env.ws.cancel(second);
      added = watch(env, sink, spec('s'));
    };
    put(env, 's', '1');
    put(env, 's', '2');
    assert.deepEqual(show(sink.received(first)), ['PUT s@2=1', 'PUT s@3=2']);
    assert.deepEqual(show(sink.received(second)), []);
    assert.deepEqual(show(sink.received(added!)), ['PUT s@3=2']);
  });

  void it('refuses a notify from inside a sink callback (it would reorder or skip revisions)', () => {
    const env = makeEnv();
    const sink = new Recorder();
    watch(env, sink, spec('n'));
    sink.onDeliver = () => env.ws.notify([]);
    assert.throws(() => put(env, 'n', '1'), /inside a sink callback/);
    sink.onDeliver = undefined;
    put(env, 'n', '2');
    assert.equal(sink.deliverCalls, 2);
  });

  void it('catches up from the LMDB backend as from the memory one', async () => {
    const impl = backendImpls().find((i) => i.name === 'lmdb')!;
    try {
      const kv = KVStore.open(impl.make());
      const queue: (() => void)[] = [];
      const ws = new WatchableStore(kv, { schedule: (fn) => queue.push(fn), catchUpEventsPerStep: 2 });
      const env: Env = { kv, ws, queue, log: [] };
      for (let i = 0; i < 5; i++) put(env, `l${i % 2}`, 'x'.repeat(100 * i));
      del(env, 'l0');
      const sink = new Recorder();
      const w = watch(env, sink, spec('l', 'm', { startRev: 2n, prevKv: true }));
      drain(env);
      assert.equal(w.synced, true);
      assertStream(env, sink, w, 2n);
      assert.equal(sink.received(w).length, 6);
      await kv.backend.close();
    } finally {
      impl.cleanup();
    }
  });

  void it('close stops scheduled work and every sink call', () => {
    const env = makeEnv();
    put(env, 'z', '0');
    const sink = new Recorder();
    const synced = watch(env, sink, spec('z'));
    const unsynced = watch(env, sink, spec('z', '', { startRev: 2n }));
    env.ws.close();
    put(env, 'z', '1');
    drain(env);
    assert.equal(sink.deliverCalls, 0);
    assert.equal(env.ws.cancel(synced), false);
    assert.equal(env.ws.cancel(unsynced), false);
    const late = watch(env, sink, spec('z'));
    assert.equal(env.ws.cancel(late), false);
    assert.equal(env.ws.watcherCount, 0);
  });

  void it('finds the right watchers among 100,000 single-key watchers and some ranges', () => {
    const env = makeEnv();
    const sink = new Recorder();
    const ws: Watcher[] = [];
    for (let i = 0; i < 100000; i++) ws.push(watch(env, sink, spec(`/registry/pods/ns/pod-${i}`), BigInt(i)));
    const r = watch(env, sink, spec('/registry/pods/ns/pod-5', '/registry/pods/ns/pod-6'));
    put(env, '/registry/pods/ns/pod-54321', 'x');
    assert.equal(sink.deliverCalls, 2);
    assert.deepEqual(show(sink.received(ws[54321]!)), ['PUT /registry/pods/ns/pod-54321@2=x']);
    assert.equal(sink.received(r).length, 1);
    assert.equal(env.ws.watcherCount, 100001);
  });
});
