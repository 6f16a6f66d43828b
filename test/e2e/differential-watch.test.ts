// Differential tests of the Watch service: real etcd 3.4 and the server under test get the same
// watch streams, the same scripted writes, compaction and cancellations in lockstep, and every
// response stream must be equal, header IDs and raft term aside. Responses to different watchers of
// one stream may interleave in any order (etcd itself sends them from a map), so each step reads the
// number of responses etcd sends for it from both sides and compares them watcher by watcher, in
// order; a leftover response would then surface in a later step's comparison.
//
// Where ketch departs from etcd 3.4 on purpose (a stream-wide progress request with a watcher that
// is still catching up; event headers of a catch-up longer than one step) the scripts stay clear.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, target, type ServerHandle } from './harness.js';
import { GrpcConn } from './grpc-wire.js';
import { call, Rpc, type RequestOp } from './etcd-pb.js';
import type { MsgDef } from './pb.js';
import { FilterType, WatchCall, b, type WatchCreateRequest, type WatchResponse } from './watch-wire.js';
import { show } from './watch-helpers.js';

const { Put, DeleteRange, Txn, Compact } = Rpc;

/** The header's run-specific fields zeroed, after checking both servers set them. */
function normalize(side: string, r: WatchResponse): WatchResponse {
  const h = r.header;
  assert.ok(h !== undefined, `${side}: every watch response has a header`);
  assert.ok(h.clusterId !== 0n && h.memberId !== 0n && h.raftTerm !== 0n, `${side}: header IDs and term set`);
  return { ...r, header: { ...h, clusterId: 0n, memberId: 0n, raftTerm: 0n } };
}

/** Responses by watch ID (IDs in ascending order), each watcher's in the order received. */
function byWatcher(side: string, rs: WatchResponse[]): [bigint, WatchResponse[]][] {
  const m = new Map<bigint, WatchResponse[]>();
  for (const r of rs) {
    const list = m.get(r.watchId) ?? [];
    list.push(normalize(side, r));
    m.set(r.watchId, list);
  }
  return [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

/** One watch stream opened on both servers. */
class StreamPair {
  constructor(
    readonly etcd: WatchCall,
    readonly sut: WatchCall,
  ) {}

  create(c: Partial<WatchCreateRequest>): void {
    this.etcd.create(c);
    this.sut.create(c);
  }

  cancel(id: bigint): void {
    this.etcd.cancel(id);
    this.sut.cancel(id);
  }

  progress(): void {
    this.etcd.progress();
    this.sut.progress();
  }

  /** Reads n responses from each side and asserts them equal watcher by watcher; returns etcd's. */
  async expect(n: number, what: string): Promise<WatchResponse[]> {
    const [a, s] = await Promise.all([this.etcd.take(n), this.sut.take(n)]);
    assert.deepStrictEqual(byWatcher('sut', s), byWatcher('etcd', a), what);
    return a;
  }

  /** Reads from each side until a response passes `pick`, skipping others; asserts the two equal. */
  async expectNext(pick: (r: WatchResponse) => boolean, what: string): Promise<WatchResponse> {
    const next = async (c: WatchCall) => {
      for (;;) {
        const r = await c.next();
        if (pick(r)) return r;
      }
    };
    const [a, s] = await Promise.all([next(this.etcd), next(this.sut)]);
    assert.deepStrictEqual(normalize('sut', s), normalize('etcd', a), what);
    return a;
  }

  close(): void {
    this.etcd.close();
    this.sut.close();
  }
}

class Pair {
  private readonly streams: StreamPair[] = [];
  private constructor(
    readonly etcd: ServerHandle,
    readonly sut: ServerHandle,
    private readonly etcdConn: GrpcConn,
    private readonly sutConn: GrpcConn,
  ) {}

  static async start(): Promise<Pair> {
    const opts = { extraArgs: ['--experimental-watch-progress-notify-interval', '100ms'] };
    const [etcd, sut] = await Promise.all([startServer('etcd', opts), startServer(target(), opts)]);
    return new Pair(etcd, sut, new GrpcConn(etcd.clientUrl), new GrpcConn(sut.clientUrl));
  }

  stream(metadata: Record<string, string> = {}): StreamPair {
    const s = new StreamPair(
      new WatchCall(this.etcd.clientUrl, metadata),
      new WatchCall(this.sut.clientUrl, metadata),
    );
    this.streams.push(s);
    return s;
  }

  /** A KV request to both; the answers must agree (header IDs aside). Returns etcd's header revision. */
  async kv<Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    req: Partial<Q>,
  ): Promise<bigint> {
    const [a, s] = await Promise.all([call(this.etcdConn, rpc, req), call(this.sutConn, rpc, req)]);
    const strip = (r: typeof a) => {
      const res = r.res as { header?: { revision: bigint } } | undefined;
      return { code: r.code, message: r.message, revision: res?.header?.revision };
    };
    assert.deepStrictEqual(strip(s), strip(a), `${rpc.path} ${show(req)}`);
    assert.equal(a.code, 0, `${rpc.path}: ${a.message}`);
    return strip(a).revision ?? 0n;
  }

  put(key: string, value: string): Promise<bigint> {
    return this.kv(Put, { key: b(key), value: b(value) });
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.close();
    this.etcdConn.close();
    this.sutConn.close();
    await Promise.all([this.etcd.stop(), this.sut.stop()]);
  }
}

const putOp = (key: string, value: string): RequestOp => ({ requestPut: { key: b(key), value: b(value) } });
const delOp = (key: string, end = ''): RequestOp => ({
  requestDeleteRange: { key: b(key), rangeEnd: b(end) },
});

void describe(`differential: etcd 3.4 vs ${target()} (Watch)`, () => {
  let d: Pair;
  let s1: StreamPair;
  let s2: StreamPair;
  before(async () => {
    d = await Pair.start();
  });
  after(async () => {
    await d?.stop();
  });

  void it('create: auto and client IDs, duplicate and empty-range refusals, key and range forms', async () => {
    s1 = d.stream();
    const creates: [Partial<WatchCreateRequest>, string][] = [
      [{ key: b('a') }, 'key a → 0'],
      [{ key: b('p/'), rangeEnd: b('p0'), prevKv: true }, 'prefix p/ with prev_kv → 1'],
      [{ key: b('m'), rangeEnd: b('\0') }, 'every key from m → 2'],
      [{ key: b(''), rangeEnd: b('\0') }, 'every key → 3'],
      [{ key: b('p/'), rangeEnd: b('p0'), filters: [FilterType.NOPUT] }, 'NOPUT → 4'],
      [{ key: b('p/'), rangeEnd: b('p0'), filters: [FilterType.NODELETE] }, 'NODELETE → 5'],
      [{ key: b('a'), watchId: 100n }, 'client id 100'],
      [{ key: b('b'), watchId: 100n }, 'duplicate id 100'],
      [{ key: b('z') }, 'auto → 6'],
      [{ key: b('b'), rangeEnd: b('a') }, 'empty range'],
      [{ key: b('c'), rangeEnd: b('c') }, 'empty range, end = key'],
      [{ key: b('x'), watchId: -7n }, 'negative client id'],
    ];
    for (const [c, what] of creates) {
      s1.create(c);
      await s1.expect(1, what);
    }
  });

  void it('writes: events by key, range, prefix and filter; multi-event revisions; prev_kv', async () => {
    await d.put('a', '1');
    await s1.expect(3, 'put a: watchers 0, 3, 100');
    await d.put('p/1', 'x');
    await s1.expect(4, 'put p/1: 1, 2, 3, 5 (4 filters it)');
    await d.put('p/1', 'y');
    await s1.expect(4, 'put p/1 again, prev_kv for 1');
    await d.put('m/1', 'q');
    await s1.expect(2, 'put m/1: 2, 3');
    await d.kv(Txn, { success: [putOp('p/2', 'z'), delOp('a'), putOp('zz', '1')] });
    await s1.expect(6, 'txn: one revision, several events');
    await d.kv(DeleteRange, { key: b('p/'), rangeEnd: b('p0') });
    await s1.expect(4, 'delete the prefix: two DELETEs in one revision for 1, 2, 3, 4');
    await d.put('z', 'end');
    await s1.expect(3, 'put z: 6, 2, 3');
    await d.put('x', 'x');
    await s1.expect(3, 'put x: -7, 2, 3');
  });

  void it('progress request and cancellations', async () => {
    s1.progress();
    await s1.expect(1, 'stream-wide progress at the current revision');
    s1.cancel(3n);
    await s1.expect(1, 'cancel 3');
    s1.cancel(55n);
    s1.cancel(100n);
    await s1.expect(1, 'cancel of an unknown id answers nothing; cancel 100 does');
    s1.cancel(100n);
    await d.put('a', '2');
    await s1.expect(1, 'after the cancels only watcher 0 sees a');
  });

  void it('start revisions: history replayed whole, nothing for an untouched key, the future', async () => {
    s2 = d.stream();
    s2.create({ key: b('p/'), rangeEnd: b('p0'), startRevision: 2n, prevKv: true });
    await s2.expect(2, 'prefix p/ from 2 with prev_kv: created, then its history');
    s2.create({ key: b(''), rangeEnd: b('\0'), startRevision: 1n, filters: [FilterType.NODELETE] });
    await s2.expect(2, 'every key from 1, puts only');
    s2.create({ key: b('nothing'), startRevision: 2n });
    await s2.expect(1, 'no history for the key: only created');
    // etcd moves such a watcher to its synced group in a sync pass some time later, and a
    // compaction before that cancels it: nothing a client can wait for, so it goes now.
    s2.cancel(2n);
    await s2.expect(1, 'cancel it');
    s2.create({ key: b('a'), startRevision: 1000n });
    await s2.expect(1, 'a start in the future: created');
    await d.put('a', '3');
    await Promise.all([s1.expect(1, 'put a on stream 1'), s2.expect(1, 'put a on stream 2: watcher 1 only')]);
    s2.progress();
    await s2.expect(1, 'progress on stream 2');
  });

  void it('compaction: an earlier start is canceled with compact_revision; the compaction revision is served', async () => {
    await d.kv(Compact, { revision: 5n });
    s2.create({ key: b('a'), startRevision: 3n });
    await s2.expect(2, 'start 3 < 5: created, then canceled with compact_revision');
    s2.create({ key: b('a'), startRevision: -1n });
    await s2.expect(2, 'a negative start: created, then compacted');
    s2.create({ key: b(''), rangeEnd: b('\0'), startRevision: 5n, prevKv: true });
    await s2.expect(2, 'start = compaction revision: everything from 5, prev_kv where still readable');
    s2.cancel(4n);
    await s2.expect(1, 'a compacted watcher can still be canceled');
    s2.create({ key: b('a'), watchId: 4n });
    await s2.expect(1, 'and its id reused');
    s2.create({ key: b('a'), watchId: 5n });
    await s2.expect(1, 'a compacted id is taken until canceled');
  });

  void it('fragment: a large catch-up split at max-request-bytes for a watcher that asked, whole otherwise', async () => {
    s2.cancel(1n);
    s2.cancel(6n);
    await s2.expect(2, 'quiet stream 2');
    // No watcher of streams 1 and 2 watches big/.
    const first = await d.put('big/0', 'v'.repeat(100 * 1024));
    for (let i = 1; i < 24; i++) await d.put(`big/${i}`, 'v'.repeat(100 * 1024));
    const s3 = d.stream();
    s3.create({ key: b('big/'), rangeEnd: b('big0'), startRevision: first, fragment: true });
    const frag = await s3.expect(3, 'created, then two fragments');
    assert.deepStrictEqual(
      frag.map((r) => [r.created, r.fragment, r.events.length > 0]),
      [
        [true, false, false],
        [false, true, true],
        [false, false, true],
      ],
    );
    s3.create({ key: b('big/'), rangeEnd: b('big0'), startRevision: first });
    await s3.expect(2, 'created, then one response with all 24 events');
  });

  void it('progress_notify: periodic empty responses at the revision the watcher has reached', async () => {
    const s4 = d.stream({ hasleader: 'true' });
    s4.create({ key: b('pn'), progressNotify: true });
    await s4.expect(1, 'created (a hasleader stream)');
    const quiet = (r: WatchResponse) => r.events.length === 0;
    await s4.expectNext(quiet, 'a periodic progress response');
    const rev = await d.put('pn', '1');
    await s4.expectNext((r) => r.events.length > 0, 'the event');
    const p = await s4.expectNext(quiet, 'the next periodic progress response');
    assert.equal(p.header!.revision, rev);
  });
});
