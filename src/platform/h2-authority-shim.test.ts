// The :authority shim inside a GrpcServer, driven by Debian's etcdctl (whose clientv3 3.4 sends
// `:authority: http://127.0.0.1:PORT` for `endpoint status`), by node's HTTP/2 client (nghttp2's
// encoder, which indexes and Huffman-codes) with that authority, over h2c and TLS, by hand-written
// frames, and by HTTP/1.1 on the same port. The first test pins the shim's character table to
// nghttp2's own, on a plain node server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcServer, frameMessage } from './grpc-server.js';
import { CLIENT_PREFACE, EMPTY_SETTINGS, isAuthorityAcceptable } from './h2-authority-rewriter.js';
import { encodeLiteralHeaders, HpackDecoder, type HeaderList } from './hpack.js';

// A StatusResponse with a header (member_id 0xab) and a version: enough for etcdctl to print a row.
const STATUS_RESPONSE = Buffer.from([0x0a, 3, 0x10, 0xab, 0x01, 0x12, 6, ...Buffer.from('3.4.23')]);

let server: GrpcServer;
let port: number;
const peers: string[] = [];

before(async () => {
  server = new GrpcServer({ httpHandler: (req, res) => res.end(`http ${req.httpVersion} ${req.url}`) });
  server.addMethod('/etcdserverpb.Maintenance/Status', {
    kind: 'unary',
    handler: (_req, call) => {
      peers.push(call.peer);
      return frameMessage(STATUS_RESPONSE);
    },
  });
  server.addMethod('/test.Echo/Unary', { kind: 'unary', handler: (req) => frameMessage(req) });
  port = await server.listen(0, '127.0.0.1');
});

after(async () => {
  await server.close(1000);
});

// ---- raw HTTP/2 ----

function frame(type: number, flags: number, streamId: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId, 5);
  b.set(payload, 9);
  return b;
}

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** Reads frames from a raw connection; `until` resolves with all frames once one matches. */
function frameReader(sock: net.Socket): { until(match: (f: Frame) => boolean): Promise<Frame[]> } {
  const frames: Frame[] = [];
  let buf = Buffer.alloc(0);
  let waiting: { match: (f: Frame) => boolean; resolve: (f: Frame[]) => void } | null = null;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
      const len = buf.readUIntBE(0, 3);
      const f = { type: buf[3]!, flags: buf[4]!, id: buf.readUInt32BE(5), payload: buf.subarray(9, 9 + len) };
      frames.push(f);
      buf = buf.subarray(9 + len);
      if (waiting?.match(f) === true) waiting.resolve(frames);
    }
  });
  return {
    until: (match) =>
      new Promise((resolve, reject) => {
        if (frames.some(match)) resolve(frames);
        else waiting = { match, resolve };
        sock.once('close', () => reject(new Error('connection closed')));
      }),
  };
}

async function connect(p: number): Promise<net.Socket> {
  const sock = net.connect(p, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  return sock;
}

void test('the shim refuses exactly the :authority bytes that nghttp2 resets a stream for', async () => {
  const plain = http2.createServer();
  plain.on('stream', (s) => s.respond({ ':status': 200 }, { endStream: true }));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  const sock = await connect((plain.address() as net.AddressInfo).port);
  const out = [CLIENT_PREFACE, frame(4, 0, 0, new Uint8Array(0))];
  for (let c = 0; c < 256; c++) {
    const authority = `a${String.fromCharCode(c)}b`;
    const block = encodeLiteralHeaders([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', authority],
    ]);
    out.push(frame(1, 5, 2 * c + 1, block));
  }
  const reader = frameReader(sock);
  sock.write(Buffer.concat(out));
  const answered = new Map<number, number>();
  await reader.until((f) => {
    if (f.type === 1 || f.type === 3) answered.set((f.id - 1) / 2, f.type);
    return answered.size === 256;
  });
  for (let c = 0; c < 256; c++) {
    const accepted = answered.get(c) === 1;
    assert.equal(accepted, isAuthorityAcceptable(`a${String.fromCharCode(c)}b`), `byte ${c}`);
  }
  assert.equal(answered.get('/'.charCodeAt(0)), 3, 'a slash is reset (RST_STREAM)');
  sock.destroy();
  await new Promise((r) => plain.close(r));
});

function etcdctl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'etcdctl',
      [...args, '--command-timeout=5s'],
      { timeout: 20_000, env: { ...process.env, ETCDCTL_API: '3' } },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : (err.code as number | null), stdout, stderr }),
    );
  });
}

void test('etcdctl endpoint status answers for an http:// endpoint as for a bare one', async () => {
  peers.length = 0;
  for (const ep of [`http://127.0.0.1:${port}`, `127.0.0.1:${port}`]) {
    const r = await etcdctl(['--endpoints', ep, 'endpoint', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${ep.replace(/[/.]/g, '\\$&')}, ab, 3\\.4\\.23, `));
  }
  assert.equal(peers.length, 2);
  for (const p of peers) assert.match(p, /^127\.0\.0\.1:\d+$/, 'the rewritten connection keeps its peer');
});

async function echoOverNodeClient(
  session: http2.ClientHttp2Session,
  authority: string,
  message: string,
): Promise<{ status: string | undefined; body: string }> {
  const req = session.request({
    ':method': 'POST',
    ':path': '/test.Echo/Unary',
    ':authority': authority,
    'content-type': 'application/grpc',
    te: 'trailers',
    'x-same-every-time': 'indexed by the encoder',
  });
  req.end(frameMessage(Buffer.from(message)));
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    req.on('trailers', resolve);
    req.on('error', reject);
  });
  await new Promise((r) => req.on('close', r));
  return {
    status: trailers['grpc-status'] as string | undefined,
    body: Buffer.concat(chunks).subarray(5).toString(),
  };
}

void test('node client with :authority http://…: many requests on one connection (indexed headers)', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const bad = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await echoOverNodeClient(session, bad, `m${i}`), { status: '0', body: `m${i}` });
    }
    // Concurrent calls, some with a good authority on the same (rewritten) connection.
    const all = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        echoOverNodeClient(session, i % 2 === 0 ? bad : `127.0.0.1:${port}`, `c${i}`),
      ),
    );
    assert.deepEqual(
      all.map((r) => r.body),
      Array.from({ length: 50 }, (_, i) => `c${i}`),
    );
    const h = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/health', ':authority': bad });
      let d = '';
      req.on('data', (c: Buffer) => (d += c.toString()));
      req.on('end', () => resolve(d));
      req.on('error', reject);
      req.end();
    });
    assert.equal(h, 'http 2.0 /health');
  } finally {
    session.close();
  }
});

void test('raw frames: the shim sends its SETTINGS first, node its own, and the call is answered', async () => {
  const sock = await connect(port);
  const reader = frameReader(sock);
  sock.write(Buffer.concat([CLIENT_PREFACE, frame(4, 0, 0, new Uint8Array(0))]));
  const [first] = await reader.until(() => true);
  assert.ok(frame(first!.type, first!.flags, first!.id, first!.payload).equals(EMPTY_SETTINGS));
  const block = encodeLiteralHeaders([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/test.Echo/Unary'],
    [':authority', `http://127.0.0.1:${port}/`],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ]);
  // The request goes before the ACK of the shim's SETTINGS, as a client that does not wait may do.
  sock.write(
    Buffer.concat([
      frame(1, 4, 1, block),
      frame(0, 1, 1, frameMessage(Buffer.from('raw'))),
      frame(4, 1, 0, new Uint8Array(0)),
    ]),
  );
  const frames = await reader.until((f) => f.type === 1 && (f.flags & 1) === 1);
  const settings = frames.filter((f) => f.type === 4 && (f.flags & 1) === 0);
  assert.equal(settings.length, 2);
  assert.ok(settings[1]!.payload.length > 0, "node's SETTINGS follow the shim's empty ones");
  assert.ok(!frames.some((f) => f.type === 7 || f.type === 3), 'no GOAWAY, no RST_STREAM');
  const decoder = new HpackDecoder();
  const lists = frames
    .filter((f) => f.type === 1)
    .map((f) => {
      const l: HeaderList = [];
      decoder.decode(f.payload, 0, f.payload.length, l);
      return l;
    });
  assert.deepEqual(lists[0]?.slice(0, 2), [':status', '200']);
  assert.equal(lists[1]?.[lists[1].indexOf('grpc-status') + 1], '0');
  const body = frames.filter((f) => f.type === 0).map((f) => f.payload);
  assert.equal(Buffer.concat(body).subarray(5).toString(), 'raw');
  sock.destroy();
});

void test('HTTP/1.1 on the same port is untouched', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health' }, (res) => {
        let d = '';
        res.on('data', (x: Buffer) => (d += x.toString()));
        res.on('end', () => resolve(d));
      })
      .on('error', reject);
  });
  assert.equal(body, 'http 1.1 /health');
});

void test('closing: an HTTP/2 client that sent no request gets GOAWAY and the close completes', async () => {
  const s = new GrpcServer();
  const p = await s.listen(0, '127.0.0.1');
  const sock = await connect(p);
  const reader = frameReader(sock);
  sock.write(
    Buffer.concat([CLIENT_PREFACE, frame(4, 0, 0, new Uint8Array(0)), frame(4, 1, 0, new Uint8Array(0))]),
  );
  await reader.until(() => true);
  const closed = s.close(10_000);
  const frames = await reader.until((f) => f.type === 7);
  const goAway = frames.find((f) => f.type === 7)!;
  assert.equal(goAway.payload.readUInt32BE(4), 0, 'NO_ERROR');
  sock.end();
  await closed;
});

void test('TLS: node client with :authority https://… is answered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ketch-shim-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]),
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert);
    const s = new GrpcServer({ tls: { key: readFileSync(key), cert: ca } });
    s.addMethod('/test.Echo/Unary', { kind: 'unary', handler: (req) => frameMessage(req) });
    const p = await s.listen(0, '127.0.0.1');
    const session = http2.connect(`https://127.0.0.1:${p}`, { ca });
    try {
      for (const m of ['one', 'two']) {
        const r = await echoOverNodeClient(session, `https://127.0.0.1:${p}`, m);
        assert.deepEqual(r, { status: '0', body: m });
      }
    } finally {
      session.close();
    }
    await s.close(1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
