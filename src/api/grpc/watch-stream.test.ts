// The Watch stream's own rules, against a recording store (the real WatchableStore is exercised
// end to end by test/e2e/watch-*.test.ts): watch IDs, refusals, cancel, compaction, progress,
// fragments and flow control, by the exact responses written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WatchResponse, type WatchCreateRequest } from '../../generated/etcdserverpb.js';
import { Event, type Event as EventMsg } from '../../generated/mvccpb.js';
import type { SharedEvent, WatchBatch, Watcher, WatchSink, WatchSpec } from '../../server/watch.js';
import { FRAME_BYTES } from './watch-encode.js';
import { ERR_DUPLICATE_ID, ERR_EMPTY_RANGE, WatchStream, type WatchOutput } from './watch-stream.js';

const enc = new TextEncoder();

class FakeWatcher implements Watcher {
  progressRev: bigint;
  synced: boolean;
  constructor(
    readonly spec: WatchSpec,
    readonly sink: WatchSink,
    readonly tag: bigint,
    current: bigint,
  ) {
    this.synced = spec.startRev > current;
    this.progressRev = spec.startRev - 1n < current ? spec.startRev - 1n : current;
  }
}

/** Records what the stream asks of the store; the test plays the store's part towards the sink. */
class FakeStore {
  currentRev = 10n;
  readonly live = new Set<FakeWatcher>();
  readonly resumed: Watcher[] = [];
  watch(spec: WatchSpec, sink: WatchSink, tag: bigint): Watcher {
    const w = new FakeWatcher(spec, sink, tag, this.currentRev);
    this.live.add(w);
    return w;
  }
  cancel(w: Watcher): boolean {
    return this.live.delete(w as FakeWatcher);
  }
  resume(w: Watcher): void {
    this.resumed.push(w);
  }
  byTag(tag: bigint): FakeWatcher {
    const w = [...this.live].find((x) => x.tag === tag);
    assert.ok(w !== undefined, `no live watcher ${tag}`);
    return w;
  }
}

class FakeOutput implements WatchOutput {
  readonly sent: WatchResponse[] = [];
  full = false;
  done = false;
  private release: (() => void) | undefined;
  send(framed: Uint8Array): boolean {
    this.sent.push(WatchResponse.decode(framed.subarray(FRAME_BYTES)));
    return !this.full;
  }
  drain(): Promise<void> {
    return new Promise((r) => (this.release = r));
  }
  drained(): Promise<void> {
    this.full = false;
    this.release?.();
    return new Promise((r) => setImmediate(r));
  }
  take(): WatchResponse[] {
    return this.sent.splice(0);
  }
}

function shared(e: EventMsg): SharedEvent {
  return { event: e, encoded: (withPrev) => Event.encode(withPrev ? e : { ...e, prevKv: undefined }) };
}

function putEvent(key: string, rev: bigint, valueBytes = 1): SharedEvent {
  const kv = (r: bigint) => ({
    key: enc.encode(key),
    createRevision: 1n,
    modRevision: r,
    version: r,
    value: new Uint8Array(valueBytes).fill(0x61),
    lease: 0n,
  });
  return shared(Event.create({ type: 0, kv: kv(rev), prevKv: kv(rev - 1n) }));
}

function setup(opts: { maxResponseBytes?: number } = {}) {
  const store = new FakeStore();
  const out = new FakeOutput();
  const ticks: (() => void)[] = [];
  let stopped = 0;
  const host = { watchable: store, clusterId: 11n, memberId: 22n, term: 3n };
  const stream = new WatchStream(host, out, {
    maxResponseBytes: opts.maxResponseBytes ?? 1 << 20,
    startTicker: (tick) => {
      ticks.push(tick);
      return () => stopped++;
    },
  });
  const create = (c: Partial<WatchCreateRequest>) =>
    stream.handle({ createRequest: { ...emptyCreate(), ...c } });
  return { store, out, stream, ticks, create, stopped: () => stopped };
}

function emptyCreate(): WatchCreateRequest {
  return {
    key: enc.encode('k'),
    rangeEnd: new Uint8Array(0),
    startRevision: 0n,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0n,
    fragment: false,
  };
}

const hdr = (revision: bigint) => ({ clusterId: 11n, memberId: 22n, revision, raftTerm: 3n });
const resp = (r: Partial<WatchResponse>) => WatchResponse.create(r);

void describe('WatchStream', () => {
  void it('assigns IDs from 0 upward, skipping IDs the client chose, and refuses duplicates and empty ranges', () => {
    const { out, create } = setup();
    create({ watchId: 1n });
    create({});
    create({});
    create({ watchId: 2n });
    create({ key: enc.encode('b'), rangeEnd: enc.encode('a') });
    create({ key: enc.encode('b'), rangeEnd: enc.encode('b') });
    const refused = (reason: string) =>
      resp({ header: hdr(10n), watchId: -1n, created: true, canceled: true, cancelReason: reason });
    assert.deepStrictEqual(out.take(), [
      resp({ header: hdr(10n), watchId: 1n, created: true }),
      resp({ header: hdr(10n), watchId: 0n, created: true }),
      resp({ header: hdr(10n), watchId: 2n, created: true }),
      refused(ERR_DUPLICATE_ID),
      refused(ERR_EMPTY_RANGE),
      refused(ERR_EMPTY_RANGE),
    ]);
  });

  void it('hands the store etcd-normalized specs: empty key is "\\0", start 0 is the next revision', () => {
    const { store, create } = setup();
    create({ key: new Uint8Array(0), rangeEnd: new Uint8Array([0]), filters: [0, 1], prevKv: true });
    create({ key: enc.encode('a'), startRevision: 4n, filters: [1] });
    const specs = [...store.live].map((w) => w.spec);
    assert.deepStrictEqual(specs, [
      {
        key: new Uint8Array([0]),
        end: new Uint8Array([0]),
        startRev: 11n,
        prevKv: true,
        noPut: true,
        noDelete: true,
      },
      {
        key: enc.encode('a'),
        end: new Uint8Array(0),
        startRev: 4n,
        prevKv: false,
        noPut: false,
        noDelete: true,
      },
    ]);
  });

  void it('cancel answers once per ID; a compacted ID stays taken until canceled', () => {
    const { store, out, stream, create } = setup();
    create({ watchId: 5n, startRevision: 2n });
    const w = store.byTag(5n);
    store.live.delete(w);
    stream.compacted(w, 7n);
    create({ watchId: 5n });
    stream.handle({ cancelRequest: { watchId: 5n } });
    stream.handle({ cancelRequest: { watchId: 5n } });
    stream.handle({ cancelRequest: { watchId: 9n } });
    create({ watchId: 5n });
    assert.deepStrictEqual(out.take(), [
      resp({ header: hdr(10n), watchId: 5n, created: true }),
      resp({ header: hdr(0n), watchId: 5n, canceled: true, compactRevision: 7n }),
      resp({ header: hdr(10n), watchId: -1n, created: true, canceled: true, cancelReason: ERR_DUPLICATE_ID }),
      resp({ header: hdr(10n), watchId: 5n, canceled: true }),
      resp({ header: hdr(10n), watchId: 5n, created: true }),
    ]);
    assert.equal(store.live.size, 1);
  });

  void it('events carry prev_kv only for watchers that asked, under the batch revision', () => {
    const { store, out, stream, create } = setup();
    create({ watchId: 1n, prevKv: true });
    create({ watchId: 2n });
    store.currentRev = 14n;
    const events = [putEvent('k', 11n), putEvent('k', 12n)];
    const batch: WatchBatch = { events, rev: 12n };
    out.take();
    assert.equal(stream.deliver(store.byTag(1n), batch), true);
    assert.equal(stream.deliver(store.byTag(2n), batch), true);
    const [a, b] = out.take();
    assert.deepStrictEqual(a, resp({ header: hdr(12n), watchId: 1n, events: events.map((e) => e.event) }));
    assert.deepStrictEqual(
      b,
      resp({ header: hdr(12n), watchId: 2n, events: events.map((e) => ({ ...e.event, prevKv: undefined })) }),
    );
  });

  void it('progress claims the lowest progress of the stream, never past the store; none: the store revision', () => {
    const { store, out, stream, create } = setup();
    stream.handle({ progressRequest: {} });
    create({ watchId: 1n });
    create({ watchId: 2n, startRevision: 4n });
    create({ watchId: 3n, startRevision: 50n });
    store.byTag(3n).progressRev = 49n;
    stream.handle({ progressRequest: {} });
    store.byTag(2n).progressRev = 9n;
    stream.handle({ progressRequest: {} });
    const w2 = store.byTag(2n);
    store.live.delete(w2);
    stream.compacted(w2, 5n);
    store.byTag(1n).progressRev = 12n;
    store.currentRev = 12n;
    stream.handle({ progressRequest: {} });
    const progress = out.take().filter((r) => r.watchId === -1n);
    assert.deepStrictEqual(
      progress.map((r) => r.header!.revision),
      [10n, 3n, 9n, 12n],
    );
  });

  void it('periodic progress: synced progress_notify watchers that got no events since the last tick', () => {
    const { store, out, stream, ticks, create, stopped } = setup();
    create({ watchId: 1n, progressNotify: true });
    create({ watchId: 2n, progressNotify: true });
    create({ watchId: 3n });
    create({ watchId: 4n, progressNotify: true, startRevision: 2n });
    assert.equal(ticks.length, 1, 'one ticker per stream');
    out.take();
    store.byTag(4n).synced = false;
    store.currentRev = 11n;
    store.byTag(1n).progressRev = 11n;
    store.byTag(2n).progressRev = 11n;
    stream.deliver(store.byTag(2n), { events: [putEvent('k', 11n)], rev: 11n });
    out.take();
    ticks[0]!();
    assert.deepStrictEqual(out.take(), [resp({ header: hdr(11n), watchId: 1n })]);
    ticks[0]!();
    assert.deepStrictEqual(out.take(), [
      resp({ header: hdr(11n), watchId: 1n }),
      resp({ header: hdr(11n), watchId: 2n }),
    ]);
    stream.close();
    assert.equal(stopped(), 1);
  });

  void it('fragments a large batch for a watcher that asked, never one that did not', () => {
    const { store, out, stream, create } = setup({ maxResponseBytes: 250 });
    create({ watchId: 1n, fragment: true });
    create({ watchId: 2n });
    out.take();
    const events = [putEvent('k', 11n, 150), putEvent('k', 12n, 150), putEvent('k', 13n, 150)];
    stream.deliver(store.byTag(1n), { events, rev: 13n });
    stream.deliver(store.byTag(2n), { events, rev: 13n });
    const got = out.take().map((r) => [r.watchId, r.fragment, r.events.length]);
    assert.deepStrictEqual(got, [
      [1n, true, 1],
      [1n, true, 1],
      [1n, false, 1],
      [2n, false, 3],
    ]);
  });

  void it('over its bound the stream parks every watcher it delivers to and resumes them on drain', async () => {
    const { store, out, stream, create } = setup();
    create({ watchId: 1n });
    create({ watchId: 2n });
    out.take();
    out.full = true;
    assert.equal(stream.deliver(store.byTag(1n), { events: [putEvent('k', 11n)], rev: 11n }), false);
    assert.equal(stream.deliver(store.byTag(2n), { events: [putEvent('k', 11n)], rev: 11n }), false);
    assert.equal(out.take().length, 2, 'the refused batches were still written');
    const writable = stream.writable();
    assert.ok(writable !== undefined);
    let woke = false;
    void writable.then(() => (woke = true));
    assert.equal(store.resumed.length, 0);
    await out.drained();
    assert.deepStrictEqual(
      store.resumed.map((w) => w.tag),
      [1n, 2n],
    );
    assert.equal(woke, true);
    assert.equal(stream.writable(), undefined);
    assert.equal(stream.deliver(store.byTag(1n), { events: [putEvent('k', 12n)], rev: 12n }), true);
  });

  void it('a watcher canceled while parked is not resumed', async () => {
    const { store, out, stream, create } = setup();
    create({ watchId: 1n });
    out.full = true;
    assert.equal(stream.deliver(store.byTag(1n), { events: [putEvent('k', 11n)], rev: 11n }), false);
    stream.handle({ cancelRequest: { watchId: 1n } });
    await out.drained();
    assert.deepStrictEqual(store.resumed, []);
  });

  void it('close cancels every watcher of the stream and ignores later requests', () => {
    const { store, out, stream, create } = setup();
    create({});
    create({ startRevision: 3n });
    assert.equal(store.live.size, 2);
    stream.close();
    assert.equal(store.live.size, 0);
    out.take();
    create({});
    stream.handle({ progressRequest: {} });
    assert.deepStrictEqual(out.take(), []);
  });
});
