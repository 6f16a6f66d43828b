// Flow control of watch streams, end to end: a client that stops reading holds the server back
// through HTTP/2 flow control while writes go on; the server parks its watchers instead of
// buffering without bound, and once the client reads again each watcher gets every event exactly
// once, in revision order. A client that vanishes mid-stream leaves the others unaffected.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, target, type ServerHandle } from './harness.js';
import { GrpcConn } from './grpc-wire.js';
import { call, Rpc } from './etcd-pb.js';
import { WatchCall, b } from './watch-wire.js';

void describe(`watch flow control against ${target()}`, () => {
  let server: ServerHandle;
  let conn: GrpcConn;
  const rev = async () => (await call(conn, Rpc.Range, { key: b('probe') })).res!.header!.revision;
  const putMany = async (prefix: string, n: number, value: Buffer) => {
    for (let i = 0; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) =>
        call(conn, Rpc.Put, { key: b(`${prefix}${i + j}`), value }),
      );
      for (const r of await Promise.all(batch)) assert.equal(r.code, 0, r.message);
    }
  };

  before(async () => {
    server = await startServer(target());
    conn = new GrpcConn(server.clientUrl);
  });
  after(async () => {
    conn?.close();
    await server?.stop();
  });

  void it('a client that stops reading gets every event once, in order, when it reads again', async () => {
    const w = new WatchCall(server.clientUrl);
    const watchers = 20;
    for (let i = 0; i < watchers; i++) w.create({ key: b('f/'), rangeEnd: b('f0'), prevKv: i % 2 === 0 });
    await w.take(watchers);
    const r0 = await rev();
    w.pauseReading();
    const n = 1500;
    await putMany('f/', n, b('x'.repeat(2000)));
    w.resumeReading();
    const last = new Map<bigint, bigint>();
    let events = 0;
    while (events < n * watchers) {
      const r = await w.next(60_000);
      assert.equal(r.canceled, false, `watch ${r.watchId} canceled: ${r.cancelReason}`);
      for (const e of r.events) {
        const prev = last.get(r.watchId) ?? r0;
        assert.equal(e.kv!.modRevision, prev + 1n, `watch ${r.watchId}: the revision after ${prev}`);
        assert.equal(e.prevKv !== undefined, false, 'new keys have no previous value');
        last.set(r.watchId, e.kv!.modRevision);
        events++;
      }
    }
    assert.deepStrictEqual(
      [...last.values()],
      Array.from({ length: watchers }, () => r0 + BigInt(n)),
    );
    w.close();
  });

  void it('a client that vanishes mid-stream does not disturb the other streams', async () => {
    const gone = new WatchCall(server.clientUrl);
    const stays = new WatchCall(server.clientUrl);
    for (let i = 0; i < 50; i++) gone.create({ key: b('g/'), rangeEnd: b('g0') });
    stays.create({ key: b('g/'), rangeEnd: b('g0') });
    await Promise.all([gone.take(50), stays.take(1)]);
    const r0 = await rev();
    gone.pauseReading();
    await putMany('g/', 200, b('y'.repeat(1000)));
    gone.destroy();
    await putMany('h/', 10, b('z'));
    await putMany('g/more-', 10, b('z'));
    const got: bigint[] = [];
    while (got.length < 210) for (const e of (await stays.next()).events) got.push(e.kv!.modRevision);
    const want = [
      ...Array.from({ length: 200 }, (_, i) => r0 + 1n + BigInt(i)),
      ...Array.from({ length: 10 }, (_, i) => r0 + 211n + BigInt(i)),
    ];
    assert.deepStrictEqual(got, want);
    stays.close();
  });
});
