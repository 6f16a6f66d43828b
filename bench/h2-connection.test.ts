import { test } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import { FakeGrpcServer, type Reply } from './fake-grpc-server.js';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { grpcUnframe, readFields } from './grpc-codec.js';
import { H2Connection, type GrpcConnection } from './h2-connection.js';
import { encodeFrame, encodeSettings, FrameType, PREFACE } from './h2-frames.js';
import { NodeHttp2Connection } from './node-http2-connection.js';
import { benchValue, preparePut, prepareRange, benchKey, type PreparedRequest } from './request.js';

interface Done {
  status: number;
  message: string;
  body: Uint8Array | null;
}

function call(conn: GrpcConnection, req: PreparedRequest, key = 0): Promise<Done> {
  return new Promise((resolve) => {
    const c = new GrpcCall((status, message, body) => resolve({ status, message, body }), true);
    conn.request(c, req, key);
  });
}

const clients: [string, (port: number) => Promise<GrpcConnection>][] = [
  ['raw', (port) => H2Connection.connect('127.0.0.1', port)],
  ['node:http2', (port) => NodeHttp2Connection.connect('127.0.0.1', port)],
];

for (const [name, connect] of clients) {
  test(`${name}: a put reaches the server with gRPC headers, the key written in, and the reply body back`, async () => {
    const srv = await FakeGrpcServer.start(() => ({ kind: 'ok', message: Uint8Array.of(1, 2, 3) }));
    const conn = await connect(srv.port);
    const req = preparePut(`127.0.0.1:${srv.port}`, 8, benchValue(256));
    const r = await call(conn, req, 4242);
    assert.deepEqual(r, { status: 0, message: '', body: Buffer.from([1, 2, 3]) });
    const got = srv.calls[0]!;
    assert.equal(got.headers[':method'], 'POST');
    assert.equal(got.headers[':path'], '/etcdserverpb.KV/Put');
    assert.equal(got.headers[':scheme'], 'http');
    assert.equal(got.headers['content-type'], 'application/grpc');
    assert.equal(got.headers.te, 'trailers');
    const fields = readFields(grpcUnframe(got.body));
    assert.equal(Buffer.from(fields[0]!.bytes).toString(), '00004242');
    assert.deepEqual(Buffer.from(fields[1]!.bytes), Buffer.from(benchValue(256)));
    conn.close();
    await srv.close();
  });

  test(`${name}: errors are reported with their status and reason, never as success`, async () => {
    const replies: Reply[] = [
      { kind: 'error', status: 9, message: 'etcdserver: request is too large' },
      { kind: 'no-status' },
      { kind: 'no-trailers' },
      { kind: 'ok', message: Uint8Array.of(7), badPrefix: true },
      { kind: 'rst' },
    ];
    let i = 0;
    const srv = await FakeGrpcServer.start(() => replies[i++]!);
    const conn = await connect(srv.port);
    const req = prepareRange(`127.0.0.1:${srv.port}`, benchKey(0, 8), true);
    const a = await call(conn, req);
    assert.deepEqual([a.status, a.message], [9, 'etcdserver: request is too large']);
    const b = await call(conn, req);
    assert.deepEqual([b.status, b.message], [TRANSPORT_ERROR, 'reply without grpc-status']);
    const b2 = await call(conn, req);
    assert.equal(b2.status, TRANSPORT_ERROR);
    assert.match(b2.message, /^stream (ended|closed) without trailers/);
    const c = await call(conn, req);
    assert.deepEqual([c.status, c.message], [TRANSPORT_ERROR, 'reply prefix says 2 bytes, body has 1']);
    const d = await call(conn, req);
    assert.equal(d.status, TRANSPORT_ERROR);
    assert.match(d.message, name === 'raw' ? /^RST_STREAM with error code 8$/ : /RST code 8/);
    conn.close();
    await srv.close();
  });

  test(`${name}: calls still open when the server drops the connection fail with a reason`, async () => {
    const srv = await FakeGrpcServer.start(() => ({ kind: 'ignore' }));
    const conn = await connect(srv.port);
    const req = prepareRange(`127.0.0.1:${srv.port}`, benchKey(0, 8), false);
    const pending = [call(conn, req), call(conn, req)];
    while (srv.calls.length < 2) await new Promise((r) => setTimeout(r, 5));
    for (const s of srv.sessions) s.destroy();
    for (const r of await Promise.all(pending)) assert.equal(r.status, TRANSPORT_ERROR);
    conn.close();
    await srv.close();
  });
}

test('raw: thousands of concurrent calls with varying Huffman-coded headers, flow control and a stream limit', async () => {
  let n = 0;
  // Values that change per reply make nghttp2 index new entries and evict old ones; a 4 KB body
  // per reply makes the client top up the connection window; 64 KB of requests exceed the
  // server's initial window; maxConcurrentStreams 7 makes the client queue.
  const srv = await FakeGrpcServer.start(
    () => ({
      kind: 'ok',
      message: new Uint8Array(4096).fill(n % 251),
      extraHeaders: { 'x-seq': `value-${n++}-${'z'.repeat(n % 50)}` },
    }),
    { maxConcurrentStreams: 7 },
  );
  const conn = await H2Connection.connect('127.0.0.1', srv.port);
  const req = preparePut(`127.0.0.1:${srv.port}`, 8, benchValue(256));
  const total = 2000;
  const results = await Promise.all(Array.from({ length: total }, (_, i) => call(conn, req, i)));
  assert.equal(results.filter((r) => r.status === 0 && r.body?.length === 4096).length, total);
  const keys = new Set(
    srv.calls.map((c) => Buffer.from(readFields(grpcUnframe(c.body))[0]!.bytes).toString()),
  );
  assert.equal(keys.size, total);
  conn.close();
  await srv.close();
});

test('raw: requests on a closed connection fail at once with the close reason', async () => {
  const srv = await FakeGrpcServer.start(() => ({ kind: 'ok', message: new Uint8Array(0) }));
  const conn = await H2Connection.connect('127.0.0.1', srv.port);
  conn.close('stopped by test');
  const r = await call(conn, prepareRange(`127.0.0.1:${srv.port}`, benchKey(0, 8), false));
  assert.deepEqual([r.status, r.message], [TRANSPORT_ERROR, 'stopped by test']);
  await srv.close();
});

test('raw: after a GOAWAY new calls fail with its code and text; open calls wait for their replies', async () => {
  const srv = await FakeGrpcServer.start(() => ({ kind: 'ignore' }));
  const conn = await H2Connection.connect('127.0.0.1', srv.port);
  const req = prepareRange(`127.0.0.1:${srv.port}`, benchKey(0, 8), false);
  const first = call(conn, req);
  while (srv.calls.length < 1) await new Promise((r) => setTimeout(r, 5));
  // nghttp2 reports the last stream it saw (1), so the open call stays open.
  for (const s of srv.sessions) s.goaway(2, 0, Buffer.from('bye'));
  await new Promise((r) => setTimeout(r, 50));
  const later = await call(conn, req);
  assert.deepEqual([later.status, later.message], [TRANSPORT_ERROR, 'GOAWAY error code 2: bye']);
  for (const s of srv.sessions) s.destroy();
  const r = await first;
  assert.deepEqual([r.status, r.message], [TRANSPORT_ERROR, 'connection closed by peer']);
  conn.close();
  await srv.close();
});

test('raw: a GOAWAY whose last stream id is below an open call fails that call at once', async () => {
  // A hand-written peer: SETTINGS, then on the first request GOAWAY(last stream 0, NO_ERROR).
  const peer = net.createServer((sock) => {
    sock.write(encodeSettings([]));
    // The client's preface, SETTINGS (2 parameters), WINDOW_UPDATE and SETTINGS ack come first.
    const setupBytes = PREFACE.length + (9 + 12) + (9 + 4) + 9;
    let seen = 0;
    sock.on('data', (d: Buffer) => {
      seen += d.length;
      if (seen > setupBytes) {
        const payload = new Uint8Array(8);
        sock.write(encodeFrame(FrameType.GoAway, 0, 0, payload));
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const port = (peer.address() as net.AddressInfo).port;
  const conn = await H2Connection.connect('127.0.0.1', port);
  const r = await call(conn, prepareRange(`127.0.0.1:${port}`, benchKey(0, 8), false));
  assert.deepEqual([r.status, r.message], [TRANSPORT_ERROR, 'GOAWAY error code 0']);
  conn.close();
  await new Promise<void>((r2) => peer.close(() => r2()));
});
