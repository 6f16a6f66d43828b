// The gateway's plumbing against stand-in gRPC methods on a real HTTP server: routing and methods,
// request decoding, unary answers and errors (with the trailer etcd's gateway sends), streaming in both
// directions, the closing error chunk, metadata from headers, Grpc-Timeout and client disconnects.
// What the answers contain for the real services is checked against etcd in test/e2e/gateway.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GrpcError, Status } from '../../base/grpc-status.js';
import {
  HashResponse,
  RangeRequest,
  RangeResponse,
  WatchRequest,
  WatchResponse,
} from '../../generated/etcdserverpb.js';
import { JsonGateway } from './gateway.js';
import type { BidiLike, CallContextLike, GatewayMethod } from './gateway-call.js';
import { cleanPath } from './handler.js';

const FRAME = 5;
const frame = (b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(FRAME + b.length);
  out.set(b, FRAME);
  return out;
};

const seen: { metadata?: Readonly<Record<string, string>>; aborted?: unknown } = {};
const methods = new Map<string, GatewayMethod>();
methods.set('/etcdserverpb.KV/Range', {
  kind: 'unary',
  handler: (bytes: Uint8Array, call: CallContextLike) => {
    seen.metadata = call.metadata;
    const r = RangeRequest.decode(bytes);
    if (r.key.length === 0) throw new GrpcError(Status.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    const kv = {
      key: r.key,
      createRevision: 2n,
      modRevision: r.revision,
      version: 1n,
      value: r.rangeEnd,
      lease: 0n,
    };
    return frame(RangeResponse.encode(RangeResponse.create({ kvs: [kv], count: r.limit })));
  },
});
methods.set('/etcdserverpb.KV/Put', {
  kind: 'unary',
  handler: (_bytes: Uint8Array, call: CallContextLike) =>
    new Promise<Uint8Array>((_resolve, reject) => {
      call.signal.addEventListener('abort', () => {
        seen.aborted = call.signal.reason;
        reject(new Error('aborted'));
      });
    }),
});
for (const [name, hash] of [
  ['Hash', 1],
  ['HashKV', 2],
] as const) {
  const response = frame(HashResponse.encode(HashResponse.create({ hash })));
  methods.set(`/etcdserverpb.Maintenance/${name}`, { kind: 'unary', handler: () => response });
}
methods.set('/etcdserverpb.Watch/Watch', {
  kind: 'bidi',
  handler: async (call: BidiLike) => {
    let n = 0n;
    for await (const bytes of call) {
      const w = WatchRequest.decode(bytes);
      if (w.cancelRequest !== undefined) throw new GrpcError(Status.CANCELLED, 'etcdserver: watch canceled');
      call.send(frame(WatchResponse.encode(WatchResponse.create({ watchId: n++, created: true }))));
    }
    await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve()));
    seen.aborted = call.signal.reason;
  },
});

let server: http.Server;
let base: string;
let gw: JsonGateway;
before(async () => {
  gw = new JsonGateway({ lookup: (p) => methods.get(p), maxRequestBytes: 64 });
  server = http.createServer((req, res) => gw.serve(req, res, new URL(req.url!, 'http://x').pathname));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(base + path, { method: 'POST', body, headers });
  return { status: r.status, headers: r.headers, body: await r.text() };
}

void test('a unary call: JSON in, JSON out, with the gateway headers', async () => {
  const r = await post('/v3/kv/range', '{"key":"Zm9v","revision":"7","limit":2,"range_end":"YmFy"}');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('grpc-metadata-content-type'), 'application/grpc');
  assert.equal(
    r.body,
    '{"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"7","version":"1","value":"YmFy"}],"count":"2"}',
  );
});

void test('a status from the method: HTTP status by code, error body, and the trailer announced', async () => {
  const r = await post('/v3/kv/range', '{}');
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('trailer'), 'Grpc-Trailer-Content-Type');
  assert.equal(
    r.body,
    '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}',
  );
});

void test("an unreadable body is the gateway's 400, before any call", async () => {
  const r = await post('/v3/kv/range', '{bad');
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('trailer'), null);
  const msg = "invalid character 'b' looking for beginning of object key string";
  assert.equal(r.body, `{"error":"${msg}","message":"${msg}","code":3}`);
});

void test('a request message over the receive limit is refused as the gRPC server refuses it', async () => {
  const r = await post('/v3/kv/range', JSON.stringify({ key: Buffer.alloc(100).toString('base64') }));
  assert.equal(r.status, 429);
  assert.match(r.body, /grpc: received message larger than max \(102 vs\. 64\)/);
});

void test('unknown paths, other methods, and services the server does not have', async () => {
  assert.deepEqual(await post('/v3/kv/nope', '{}').then((r) => [r.status, r.body]), [404, 'Not Found\n']);
  assert.deepEqual(await post('/v3/kv/range:x', '{}').then((r) => [r.status, r.body]), [404, 'Not Found\n']);
  const get = await fetch(`${base}/v3/kv/range`);
  assert.deepEqual([get.status, await get.text()], [405, 'Method Not Allowed\n']);
  const lock = await post('/v3/lock/lock', '{"name":"bA=="}');
  assert.equal(lock.status, 501);
  assert.equal(
    lock.body,
    '{"error":"unknown service v3lockpb.Lock","message":"unknown service v3lockpb.Lock","code":12}',
  );
  // /v3/maintenance/hash is Hash, as in etcd (HashKV shares the path and loses).
  const hash = await post('/v3/maintenance/hash', '{"revision":"3"}');
  assert.equal(hash.body, '{"hash":1}');
});

void test('metadata: Grpc-Metadata-*, Authorization, permanent headers and forwarding', async () => {
  await post('/v3/kv/range', '{"key":"YQ=="}', {
    'Grpc-Metadata-Hasleader': 'true',
    Authorization: 'tok',
    'X-Other': 'no',
  });
  const md = seen.metadata!;
  assert.equal(md['hasleader'], 'true');
  assert.equal(md['authorization'], 'tok');
  assert.equal(md['grpcgateway-authorization'], 'tok');
  assert.equal(md['x-other'], undefined);
  assert.equal(md['x-forwarded-for'], '127.0.0.1');
  assert.match(md['x-forwarded-host'] ?? '', /^127\.0\.0\.1:\d+$/);
});

void test('Grpc-Timeout: a malformed one is refused; when one passes the call is aborted and 504 answered', async () => {
  const bad = await post('/v3/kv/put', '{}', { 'Grpc-Timeout': 'xx' });
  assert.deepEqual(
    [bad.status, bad.body],
    [400, '{"error":"invalid grpc-timeout: xx","message":"invalid grpc-timeout: xx","code":3}'],
  );
  const r = await post('/v3/kv/put', '{"key":"YQ=="}', { 'Grpc-Timeout': '20m' });
  assert.deepEqual(
    [r.status, r.body],
    [504, '{"error":"context deadline exceeded","message":"context deadline exceeded","code":4}'],
  );
  assert.ok(seen.aborted instanceof GrpcError && seen.aborted.code === Status.DEADLINE_EXCEEDED);
});

/** A raw HTTP/1.1 request with a chunked body the test writes piece by piece. */
function openStream(path: string): {
  req: http.ClientRequest;
  lines: () => Promise<string>;
  rest: () => string;
  done: Promise<number>;
} {
  let buf = '';
  const waiters: (() => void)[] = [];
  let status = 0;
  let settle!: (n: number) => void;
  const done = new Promise<number>((r) => (settle = r));
  const req = http.request(base + path, { method: 'POST' }, (res) => {
    status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      waiters.splice(0).forEach((w) => w());
    });
    res.on('end', () => settle(status));
  });
  req.on('error', () => settle(-1));
  req.flushHeaders();
  const lines = async (): Promise<string> => {
    while (!buf.includes('\n')) await new Promise<void>((r) => waiters.push(r));
    const i = buf.indexOf('\n');
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  return { req, lines, rest: () => buf, done };
}

void test('a bidi stream answers each request object as it arrives, as {"result": ...} lines', async () => {
  const s = openStream('/v3/watch');
  s.req.write('{"create_request":{"key":"YQ=="}}');
  assert.equal(await s.lines(), '{"result":{"created":true}}');
  s.req.write('\n{"create_request"');
  s.req.write(':{"key":"Yg=="}}');
  assert.equal(await s.lines(), '{"result":{"watch_id":"1","created":true}}');
  // The method fails: the stream ends with the gateway's error chunk.
  s.req.write('{"cancel_request":{}}');
  s.req.end();
  assert.equal(await s.done, 200);
});

void test('the error chunk closing a failed stream', async () => {
  const r = await post('/v3/watch', '{"create_request":{}}{"cancel_request":{}}');
  assert.equal(r.status, 200);
  assert.equal(
    r.body,
    '{"result":{"created":true}}\n' +
      '{"error":{"grpc_code":1,"http_code":408,"message":"etcdserver: watch canceled","http_status":"Request Timeout"}}',
  );
});

void test('a bidi stream whose first request cannot be read is a 500 with code Unknown', async () => {
  const r = await post('/v3/watch', '{"create_request":5}');
  assert.equal(r.status, 500);
  const msg = 'json: cannot unmarshal number into Go value of type map[string]json.RawMessage';
  assert.equal(r.body, `{"error":"${msg}","message":"${msg}","code":2}`);
});

void test('the client going away cancels the stream', async () => {
  seen.aborted = undefined;
  const s = openStream('/v3/watch');
  s.req.write('{"create_request":{"key":"YQ=="}}');
  s.req.end();
  await s.lines();
  s.req.destroy();
  while (seen.aborted === undefined) await new Promise((r) => setTimeout(r, 5));
  assert.ok(seen.aborted instanceof GrpcError && seen.aborted.code === Status.CANCELLED);
});

void test('close() ends open streams with Unavailable "transport is closing"', async () => {
  const s = openStream('/v3/watch');
  s.req.write('{"create_request":{"key":"YQ=="}}');
  assert.equal(await s.lines(), '{"result":{"created":true}}');
  gw.close();
  assert.equal(await s.done, 200);
  assert.equal(
    s.rest(),
    '{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}',
  );
});

void test("cleanPath is Go's: dots resolved, slashes collapsed, a trailing slash kept", () => {
  assert.equal(cleanPath('/v3/kv/range'), '/v3/kv/range');
  assert.equal(cleanPath('/v3//kv/./range'), '/v3/kv/range');
  assert.equal(cleanPath('/v3/kv/../kv/range/'), '/v3/kv/range/');
  assert.equal(cleanPath('/..'), '/');
  assert.equal(cleanPath(''), '/');
  assert.equal(cleanPath('v3'), '/v3');
});
