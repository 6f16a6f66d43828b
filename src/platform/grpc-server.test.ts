// The gRPC server driven by a real client (@grpc/grpc-js), by raw HTTP/2 frames for the framing edge
// cases, by plain HTTP/1.1 and HTTP/2 requests on the same port, and by Debian's etcdctl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http2 from 'node:http2';
import net from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GrpcServer,
  GrpcError,
  Status,
  frameMessage,
  type GrpcCall,
  type StatusCode,
} from './grpc-server.js';

// ---- a minimal typed view of @grpc/grpc-js (loaded through createRequire: scripts/check-imports.mjs
// allows no test-only package other than etcd3, and this is a test-only devDependency's dependency) ----
type Ser = (b: Buffer) => Buffer;
interface ServiceError extends Error {
  code: number;
  details: string;
}
interface Call {
  cancel(): void;
  on(ev: string, f: (...a: never[]) => void): Call;
}
interface Writable extends Call {
  write(b: Buffer): boolean;
  end(): void;
}
interface GrpcClient {
  makeUnaryRequest(
    p: string,
    s: Ser,
    d: Ser,
    a: Buffer,
    md: object,
    o: object,
    cb: (e: ServiceError | null, r?: Buffer) => void,
  ): Call;
  makeServerStreamRequest(p: string, s: Ser, d: Ser, a: Buffer, md: object, o: object): Call;
  makeClientStreamRequest(
    p: string,
    s: Ser,
    d: Ser,
    md: object,
    o: object,
    cb: (e: ServiceError | null, r?: Buffer) => void,
  ): Writable;
  makeBidiStreamRequest(p: string, s: Ser, d: Ser, md: object, o: object): Writable;
  close(): void;
}
interface GrpcModule {
  Client: new (address: string, creds: object, options?: object) => GrpcClient;
  credentials: { createInsecure(): object; createSsl(rootCerts: Buffer): object };
  Metadata: new () => { set(k: string, v: string | Buffer): void };
}
const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as GrpcModule;
const id: Ser = (b) => b;

const MAX_RECV = 64 * 1024;
let server: GrpcServer;
let port: number;
let client: GrpcClient;
const aborted = new Map<string, Promise<unknown>>();

function onAbort(name: string, call: GrpcCall): void {
  aborted.set(
    name,
    new Promise((resolve) => {
      if (call.signal.aborted) resolve(call.signal.reason);
      call.signal.addEventListener('abort', () => resolve(call.signal.reason));
    }),
  );
}

const text = (s: string): Uint8Array => frameMessage(Buffer.from(s));

before(async () => {
  server = new GrpcServer({
    maxReceiveMessageBytes: MAX_RECV,
    httpHandler: (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`http ${req.httpVersion} ${req.method} ${req.url}`);
    },
  });
  server.addMethod('/test.Echo/Unary', { kind: 'unary', handler: unaryHandler });
  server.addMethod('/test.Echo/ServerStream', {
    kind: 'serverStream',
    handler: async (req, call) => {
      const [what, n, size] = Buffer.from(req).toString().split(':');
      if (what === 'hang') {
        onAbort('serverStream', call);
        call.sendHeaders();
        await new Promise((r) => call.signal.addEventListener('abort', r));
        return;
      }
      let sawFull = false;
      for (let i = 0; i < Number(n); i++) {
        const body = Buffer.alloc(Number(size), i % 256);
        body.write(String(i));
        if (!call.send(frameMessage(body))) {
          sawFull = true;
          await call.drain();
        }
      }
      call.send(text(sawFull ? 'saw-backpressure' : 'no-backpressure'));
    },
  });
  server.addMethod('/test.Echo/ClientStream', {
    kind: 'clientStream',
    handler: async (call) => {
      const parts: string[] = [];
      for await (const m of call) parts.push(Buffer.from(m).toString());
      return text(parts.join('+'));
    },
  });
  server.addMethod('/test.Echo/Bidi', {
    kind: 'bidi',
    handler: async (call) => {
      for await (const m of call) {
        const s = Buffer.from(m).toString();
        if (s === 'fail') throw new GrpcError(Status.FAILED_PRECONDITION, 'bidi failed on request');
        call.send(text(s.toUpperCase()));
      }
    },
  });
  port = await server.listen(0, '127.0.0.1');
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.close(1000);
});

async function unaryHandler(req: Uint8Array, call: GrpcCall): Promise<Uint8Array> {
  const s = Buffer.from(req).toString();
  if (s.startsWith('error:')) {
    const [, code, ...msg] = s.split(':');
    throw new GrpcError(Number(code) as StatusCode, msg.join(':'));
  }
  if (s === 'throw') throw new TypeError('handler blew up');
  if (s === 'meta')
    return text(
      JSON.stringify({
        ...call.metadata,
        bin: Buffer.from(call.binaryMetadata['x-data-bin'] ?? []).toString('hex'),
        timeout: call.timeoutMs !== undefined,
      }),
    );
  if (s.startsWith('slow:')) {
    onAbort(s, call);
    await new Promise((r) => call.signal.addEventListener('abort', r));
    return text('too late');
  }
  return frameMessage(req);
}

function unary(
  path: string,
  body: Buffer | string,
  options: object = {},
  md?: object,
): Promise<{ value?: string; code?: number; details?: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      id,
      id,
      Buffer.from(body),
      md ?? new grpc.Metadata(),
      options,
      (err, res) => {
        if (err) resolve({ code: err.code, details: err.details });
        else resolve({ value: res!.toString() });
      },
    );
  });
}

void test('unary call echoes the request', async () => {
  assert.deepEqual(await unary('/test.Echo/Unary', 'hello'), { value: 'hello' });
  assert.deepEqual(await unary('/test.Echo/Unary', ''), { value: '' });
});

void test('a large request and response (just under the receive limit) round-trip', async () => {
  const big = Buffer.alloc(MAX_RECV, 'x');
  const r = await unary('/test.Echo/Unary', big);
  assert.equal(r.value?.length, MAX_RECV);
});

void test('GrpcError from a handler reaches the client with its code and exact message', async () => {
  assert.deepEqual(await unary('/test.Echo/Unary', 'error:9:etcdserver: not leader'), {
    code: Status.FAILED_PRECONDITION,
    details: 'etcdserver: not leader',
  });
  // Non-ASCII and '%' are percent-encoded in grpc-message and decoded by the client.
  assert.deepEqual(await unary('/test.Echo/Unary', 'error:3:bad key: 100% ✓ é'), {
    code: Status.INVALID_ARGUMENT,
    details: 'bad key: 100% ✓ é',
  });
});

void test('any other thrown error becomes UNKNOWN with its message', async () => {
  assert.deepEqual(await unary('/test.Echo/Unary', 'throw'), {
    code: Status.UNKNOWN,
    details: 'handler blew up',
  });
});

void test('unknown service and unknown method get UNIMPLEMENTED with grpc-go words', async () => {
  assert.deepEqual(await unary('/test.Echo/Nope', 'x'), {
    code: Status.UNIMPLEMENTED,
    details: 'unknown method Nope for service test.Echo',
  });
  assert.deepEqual(await unary('/etcdserverpb.Foo/Range', 'x'), {
    code: Status.UNIMPLEMENTED,
    details: 'unknown service etcdserverpb.Foo',
  });
});

void test('metadata: text headers by lower-case name, -bin headers decoded, timeout visible', async () => {
  const md = new grpc.Metadata();
  md.set('Token', 'abc.123');
  md.set('x-data-bin', Buffer.from([0, 1, 254, 255]));
  const r = await unary('/test.Echo/Unary', 'meta', { deadline: Date.now() + 60_000 }, md);
  const got = JSON.parse(r.value!) as Record<string, unknown>;
  assert.equal(got.token, 'abc.123');
  assert.equal(got.bin, '0001feff');
  assert.equal(got.timeout, true);
  assert.equal(got['content-type'], undefined);
});

void test('a passed deadline answers DEADLINE_EXCEEDED and aborts the handler', async () => {
  const r = await unary('/test.Echo/Unary', 'slow:deadline', { deadline: Date.now() + 200 });
  assert.equal(r.code, Status.DEADLINE_EXCEEDED);
  // The client resets the stream at its deadline too, so the handler sees whichever comes first.
  const reason = (await aborted.get('slow:deadline')) as GrpcError;
  assert.ok(reason.code === Status.DEADLINE_EXCEEDED || reason.code === Status.CANCELLED);
});

void test('the server itself sends DEADLINE_EXCEEDED "context deadline exceeded"', async () => {
  const r = await rawCall('/test.Echo/Unary', [frame('slow:raw')], { 'grpc-timeout': '50m' });
  assert.equal(r.status, '4');
  assert.equal(r.message, 'context deadline exceeded');
});

void test('client cancellation aborts the handler signal with CANCELLED', async () => {
  const call = client.makeServerStreamRequest(
    '/test.Echo/ServerStream',
    id,
    id,
    Buffer.from('hang'),
    new grpc.Metadata(),
    {},
  );
  call.on('error', () => {});
  await new Promise((r) => call.on('metadata', r));
  call.cancel();
  const reason = (await aborted.get('serverStream')) as GrpcError;
  assert.equal(reason.code, Status.CANCELLED);
  assert.deepEqual(await unary('/test.Echo/Unary', 'still alive'), { value: 'still alive' });
});

void test('a message over the receive limit gets RESOURCE_EXHAUSTED with grpc-go words', async () => {
  const r = await unary('/test.Echo/Unary', Buffer.alloc(MAX_RECV + 1));
  assert.deepEqual(r, {
    code: Status.RESOURCE_EXHAUSTED,
    details: `grpc: received message larger than max (${MAX_RECV + 1} vs. ${MAX_RECV})`,
  });
});

void test('server streaming delivers every message in order and honours backpressure', async () => {
  const call = client.makeServerStreamRequest(
    '/test.Echo/ServerStream',
    id,
    id,
    Buffer.from('send:40:100000'),
    new grpc.Metadata(),
    {},
  );
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    call.on('data', (b: Buffer) =>
      got.push(b.length === 100000 ? b.subarray(0, 2).toString() : b.toString()),
    );
    call.on('error', reject);
    call.on('end', resolve);
  });
  assert.equal(got.length, 41);
  assert.deepEqual(got.slice(0, 12), [
    '0\0',
    '1\x01',
    '2\x02',
    '3\x03',
    '4\x04',
    '5\x05',
    '6\x06',
    '7\x07',
    '8\b',
    '9\t',
    '10',
    '11',
  ]);
  assert.equal(got[40], 'saw-backpressure');
});

void test('client streaming collects every message until the client half-closes', async () => {
  const r = await new Promise<string>((resolve, reject) => {
    const call = client.makeClientStreamRequest(
      '/test.Echo/ClientStream',
      id,
      id,
      new grpc.Metadata(),
      {},
      (err, res) => (err ? reject(err) : resolve(res!.toString())),
    );
    for (const s of ['a', 'b', '', 'c']) call.write(Buffer.from(s));
    call.end();
  });
  assert.equal(r, 'a+b++c');
});

void test('bidi streaming answers each message, and a handler error ends the stream with its status', async () => {
  const call = client.makeBidiStreamRequest('/test.Echo/Bidi', id, id, new grpc.Metadata(), {});
  const got: string[] = [];
  const status = new Promise<ServiceError>((resolve) => {
    call.on('data', (b: Buffer) => {
      got.push(b.toString());
      if (got.length === 2) call.write(Buffer.from('fail'));
    });
    call.on('error', (e: ServiceError) => resolve(e));
  });
  call.write(Buffer.from('one'));
  call.write(Buffer.from('two'));
  const err = await status;
  assert.deepEqual(got, ['ONE', 'TWO']);
  assert.equal(err.code, Status.FAILED_PRECONDITION);
  assert.equal(err.details, 'bidi failed on request');
});

void test('messages split across DATA frames, and several in one frame, are reassembled', async () => {
  const one = frame('split message');
  const bytes = [...one].map((b) => Buffer.from([b]));
  const r = await rawCall('/test.Echo/Unary', bytes);
  assert.equal(r.status, '0');
  assert.equal(unframe(r.body), 'split message');
  const many = await rawCall('/test.Echo/ClientStream', [
    Buffer.concat([frame('x'), frame('yy'), frame('').subarray(0, 2)]),
    frame('').subarray(2),
    frame('z'),
  ]);
  assert.equal(unframe(many.body), 'x+yy++z');
});

void test('malformed framing fails the call and never the process', async () => {
  const gz = await rawCall('/test.Echo/Unary', [Buffer.from([1, 0, 0, 0, 1, 7])], {
    'grpc-encoding': 'gzip',
  });
  assert.deepEqual(
    [gz.status, gz.message],
    ['12', 'grpc: Decompressor is not installed for grpc-encoding "gzip"'],
  );
  const bad = await rawCall('/test.Echo/Unary', [Buffer.from([9, 0, 0, 0, 0])]);
  assert.deepEqual([bad.status, bad.message], ['13', 'grpc: received unexpected payload format 9']);
  const cut = await rawCall('/test.Echo/Unary', [Buffer.from([0, 0, 0, 0, 9, 1, 2])]);
  assert.deepEqual([cut.status, cut.message], ['13', 'unexpected EOF']);
  const none = await rawCall('/test.Echo/Unary', []);
  assert.deepEqual([none.status, none.message], ['13', 'unexpected EOF']);
  const timeout = await rawCall('/test.Echo/Unary', [frame('x')], { 'grpc-timeout': 'soon' });
  assert.deepEqual([timeout.status, timeout.message], ['13', 'malformed grpc-timeout: soon']);
  assert.deepEqual(await unary('/test.Echo/Unary', 'ok'), { value: 'ok' });
});

void test('errors before any response are sent Trailers-Only (status in the response headers)', async () => {
  const r = await rawCall('/test.Nope/X', [frame('x')]);
  assert.equal(r.headers['grpc-status'], '12');
  assert.equal(r.trailers, undefined);
});

void test('a client that vanishes mid-stream does not disturb the server', async () => {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00');
  sock.destroy();
  const s = http2.connect(`http://127.0.0.1:${port}`);
  const req = s.request({
    ':method': 'POST',
    ':path': '/test.Echo/Bidi',
    'content-type': 'application/grpc',
  });
  req.on('error', () => {});
  req.write(frame('abc').subarray(0, 3));
  s.destroy();
  assert.deepEqual(await unary('/test.Echo/Unary', 'fine'), { value: 'fine' });
});

void test('HTTP/1.1 and non-gRPC HTTP/2 requests on the same port go to the HTTP handler', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/health?x=1`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'http 1.1 GET /health?x=1');
  const s = http2.connect(`http://127.0.0.1:${port}`);
  const body = await new Promise<string>((resolve) => {
    const req = s.request({ ':path': '/version' });
    let d = '';
    req.on('data', (c: Buffer) => (d += c.toString()));
    req.on('end', () => resolve(d));
  });
  s.close();
  assert.equal(body, 'http 2.0 GET /version');
});

void test('without an HTTP handler, HTTP requests get 404', async () => {
  const bare = new GrpcServer();
  const p = await bare.listen(0, '127.0.0.1');
  const res = await fetch(`http://127.0.0.1:${p}/health`);
  assert.equal(res.status, 404);
  await res.text();
  await bare.close(1000);
});

void test('graceful close lets an in-flight call finish, then refuses new connections', async () => {
  let started!: () => void;
  let release!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const gate = new Promise<void>((r) => (release = r));
  const s = new GrpcServer();
  s.addMethod('/test.Echo/Gate', {
    kind: 'unary',
    handler: async () => {
      started();
      await gate;
      return text('finished');
    },
  });
  const p = await s.listen(0, '127.0.0.1');
  const c = new grpc.Client(`127.0.0.1:${p}`, grpc.credentials.createInsecure());
  const inflight = new Promise<string>((resolve, reject) => {
    c.makeUnaryRequest('/test.Echo/Gate', id, id, Buffer.from('x'), new grpc.Metadata(), {}, (e, r) =>
      e ? reject(e) : resolve(r!.toString()),
    );
  });
  await running;
  const closed = s.close(10_000);
  await assert.rejects(fetch(`http://127.0.0.1:${p}/`));
  release();
  assert.equal(await inflight, 'finished');
  await closed;
  c.close();
});

void test('etcdctl gets Unimplemented (not a hang) from a service the server lacks', async () => {
  // Run asynchronously: the server under test lives in this process's event loop.
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(
      'etcdctl',
      ['--endpoints', `127.0.0.1:${port}`, '--command-timeout=5s', 'get', 'foo'],
      { timeout: 20_000, env: { ...process.env, ETCDCTL_API: '3' } },
      (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number | null), stderr }),
    );
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Error: rpc error: code = Unimplemented desc = unknown service etcdserverpb\.KV/);
});

void test('https: TLS with ALPN serves gRPC (grpc-js, etcdctl) and HTTP/1.1 on one port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ketch-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert);
    const s = new GrpcServer({
      tls: { key: readFileSync(key), cert: ca },
      httpHandler: (req, res) => res.end(`https ${req.httpVersion} ${req.url}`),
    });
    s.addMethod('/test.Echo/Unary', { kind: 'unary', handler: unaryHandler });
    const p = await s.listen(0, '127.0.0.1');
    const c = new grpc.Client(`127.0.0.1:${p}`, grpc.credentials.createSsl(ca));
    const echoed = await new Promise<string>((resolve, reject) =>
      c.makeUnaryRequest(
        '/test.Echo/Unary',
        id,
        id,
        Buffer.from('secure'),
        new grpc.Metadata(),
        {},
        (e, r) => (e ? reject(e) : resolve(r!.toString())),
      ),
    );
    c.close();
    assert.equal(echoed, 'secure');
    const h1 = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: p, path: '/health', ca }, (res) => {
          let d = '';
          res.on('data', (x: Buffer) => (d += x.toString()));
          res.on('end', () => resolve(d));
        })
        .on('error', reject);
    });
    assert.equal(h1, 'https 1.1 /health');
    const ctl = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'etcdctl',
        ['--endpoints', `https://127.0.0.1:${p}`, '--cacert', cert, '--command-timeout=5s', 'get', 'foo'],
        { timeout: 20_000, env: { ...process.env, ETCDCTL_API: '3' } },
        (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number | null), stderr }),
      );
    });
    assert.equal(ctl.code, 1, ctl.stderr);
    assert.match(ctl.stderr, /code = Unimplemented desc = unknown service etcdserverpb\.KV/);
    await s.close(1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- raw HTTP/2 helpers for the framing cases ----

function frame(s: string): Buffer {
  return Buffer.from(text(s));
}

function unframe(b: Buffer): string {
  assert.equal(b[0], 0);
  assert.equal(b.readUInt32BE(1), b.length - 5);
  return b.subarray(5).toString();
}

interface RawResult {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  status: string | undefined;
  message: string | undefined;
}

async function rawCall(
  path: string,
  chunks: Buffer[],
  extra: Record<string, string> = {},
): Promise<RawResult> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise<RawResult>((resolve, reject) => {
      const req = s.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...extra,
      });
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders | undefined;
      const body: Buffer[] = [];
      req.on('response', (h: http2.IncomingHttpHeaders) => (headers = h));
      req.on('trailers', (t: http2.IncomingHttpHeaders) => (trailers = t));
      req.on('data', (c: Buffer) => body.push(c));
      req.on('error', reject);
      req.on('close', () => {
        const st = trailers ?? headers;
        resolve({
          headers,
          trailers,
          body: Buffer.concat(body),
          status: st['grpc-status'] as string | undefined,
          message:
            st['grpc-message'] === undefined ? undefined : decodeURIComponent(st['grpc-message'] as string),
        });
      });
      void (async () => {
        for (const c of chunks) {
          req.write(c);
          await new Promise((r) => setImmediate(r));
        }
        req.end();
      })();
    });
  } finally {
    s.close();
  }
}
