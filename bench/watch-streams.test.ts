import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WatchRequest, WatchResponse, ResponseHeader } from '../src/generated/etcdserverpb.js';
import { Event, KeyValue } from '../src/generated/mvccpb.js';
import { grpcFrame } from './grpc-codec.js';
import { planStreams, WatcherSet } from './watch-streams.js';

/** A Watch stream as the fake server sees it: the create requests' keys and a way to answer. */
interface FakeStream {
  keys: string[];
  stream: http2.ServerHttp2Stream;
  send(r: Partial<WatchResponse>): void;
}

/**
 * A gRPC Watch server on node:http2 (nghttp2): it assigns ids 0, 1, ... per stream and answers each
 * create with `created`, unless `refuse(key)` says to refuse it, using the generated codec.
 */
async function fakeWatchServer(refuse: (key: string) => boolean = () => false) {
  const streams: FakeStream[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    assert.equal(headers[':path'], '/etcdserverpb.Watch/Watch');
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const fs: FakeStream = {
      keys: [],
      stream,
      send: (r) => void stream.write(grpcFrame(WatchResponse.encode(WatchResponse.create(r)))),
    };
    streams.push(fs);
    let buf = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
        const req = WatchRequest.decode(buf.subarray(5, 5 + buf.readUInt32BE(1)));
        buf = buf.subarray(5 + buf.readUInt32BE(1));
        const key = Buffer.from(req.createRequest?.key ?? []).toString();
        const refused = refuse(key);
        fs.send({
          watchId: refused ? -1n : BigInt(fs.keys.length),
          created: true,
          canceled: refused,
          cancelReason: refused ? 'no' : '',
        });
        if (!refused) fs.keys.push(key);
      }
    });
    stream.on('error', () => {});
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as AddressInfo).port,
    streams,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('planStreams: stream j on connection j % conns, watchers split evenly in order', () => {
  assert.deepEqual(planStreams({ conns: 2, streams: 3, watchers: 10 }), [
    { conn: 0, first: 0, count: 4 },
    { conn: 1, first: 4, count: 3 },
    { conn: 0, first: 7, count: 3 },
  ]);
  assert.throws(() => planStreams({ conns: 3, streams: 2, watchers: 10 }), RangeError);
});

test('every watcher is created over several streams and connections, beyond the first flow-control window', async () => {
  const srv = await fakeWatchServer();
  // 5 streams of 1,000 creates each, ~25 KB per stream and ~75 KB on one connection: more than
  // the 65,535-byte window nghttp2 starts with, so the client must wait for WINDOW_UPDATEs.
  const keyOf = (w: number) => new TextEncoder().encode(`key/${String(w).padStart(12, '0')}`);
  const set = await WatcherSet.open(
    '127.0.0.1',
    srv.port,
    { conns: 2, streams: 5, watchers: 5000 },
    keyOf,
    () => {},
  );
  await set.waitCreated(10_000);
  assert.equal(set.createdTotal, 5000);
  assert.deepEqual(set.problems, []);
  const keys = srv.streams.flatMap((s) => s.keys).sort();
  assert.equal(keys.length, 5000);
  assert.equal(keys[4999], 'key/000000004999');
  set.close();
  await srv.close();
});

test('events reach the right watcher, also when one message spans several DATA frames', async () => {
  const srv = await fakeWatchServer();
  const got: [number, number, number][] = [];
  const te = new TextEncoder();
  const set = await WatcherSet.open(
    '127.0.0.1',
    srv.port,
    { conns: 1, streams: 2, watchers: 6 },
    (w) => te.encode(`k${w}`),
    (w, ev) => got.push([w, ev.modRevision, ev.value.length]),
  );
  await set.waitCreated(5000);
  const big = new Uint8Array(40_000).fill(7); // three DATA frames at the default 16 KB frame size
  const event = (rev: bigint, value: Uint8Array) =>
    Event.create({ kv: KeyValue.create({ key: te.encode('k'), modRevision: rev, value }) });
  srv.streams[1]!.send({
    header: ResponseHeader.create({ revision: 9n }),
    watchId: 2n,
    events: [event(9n, big)],
  });
  srv.streams[0]!.send({ watchId: 0n, events: [event(10n, te.encode('a')), event(11n, te.encode('bb'))] });
  for (let i = 0; i < 200 && got.length < 3; i++) await sleep(10);
  assert.deepEqual(
    got.sort((a, b) => a[1] - b[1]),
    [
      [5, 9, 40_000],
      [0, 10, 1],
      [0, 11, 2],
    ],
  );
  assert.deepEqual(set.problems, []);
  set.close();
  await srv.close();
});

test('a refused create, an unknown watch id and a stream the server ends are problems', async () => {
  const srv = await fakeWatchServer((key) => key === 'k1');
  const te = new TextEncoder();
  const set = await WatcherSet.open(
    '127.0.0.1',
    srv.port,
    { conns: 1, streams: 1, watchers: 2 },
    (w) => te.encode(`k${w}`),
    () => {},
  );
  await assert.rejects(set.waitCreated(5000), /a watch create was refused: no \(1 created\)/);
  srv.streams[0]!.send({ watchId: 42n, events: [Event.create()] });
  srv.streams[0]!.stream.close(http2.constants.NGHTTP2_CANCEL);
  for (let i = 0; i < 200 && set.problems.length < 3; i++) await sleep(10);
  assert.deepEqual(set.problems, [
    'a watch create was refused: no',
    'a response for watch id 42, never created',
    'a watch stream ended: RST_STREAM with error code 8',
  ]);
  set.close();
  await srv.close();
});
