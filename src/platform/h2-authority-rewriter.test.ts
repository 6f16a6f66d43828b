// The :authority shim's byte processor on hand-made frame sequences: pass-through (bytes unchanged
// but for the client's ACK of the shim's SETTINGS), rewrite (header blocks re-encoded, other frames
// unchanged), CONTINUATION, padding and priority, PINGs before node's session runs, and malformed
// input turning into plain pass-through. Every sequence is also fed split at every byte boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityRewriter,
  CLIENT_PREFACE,
  EMPTY_SETTINGS,
  isAuthorityAcceptable,
  reduceAuthority,
} from './h2-authority-rewriter.js';
import { HpackDecoder, huffmanEncode, writeInteger, type HeaderList } from './hpack.js';

// ---- frame and HPACK builders ----

function frame(type: number, flags: number, streamId: number, payload: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId, 5);
  b.set(Array.from(payload), 9);
  return b;
}
const SETTINGS = frame(4, 0, 0, [0, 3, 0, 0, 0, 100]);
const ACK = frame(4, 1, 0, []);
const WINDOW_UPDATE = frame(8, 0, 0, [0, 0x0f, 0, 0]);
const data = (id: number, s: string, end = true): Buffer =>
  frame(0, end ? 1 : 0, id, [0, 0, 0, 0, s.length, ...Buffer.from(s)]);

function str(s: string, huffman: boolean): number[] {
  const out: number[] = [];
  const bytes = huffman ? [...huffmanEncode(s)] : [...Buffer.from(s, 'latin1')];
  writeInteger(out, bytes.length, 7, huffman ? 0x80 : 0);
  return [...out, ...bytes];
}
/** Literal with incremental indexing, new name (the client's encoder adds it to its table). */
const indexNew = (name: string, value: string, huffman = true): number[] => [
  0x40,
  ...str(name, huffman),
  ...str(value, huffman),
];
/** Literal with incremental indexing, name from static index `i`. */
function indexNamed(i: number, value: string, huffman = true): number[] {
  const out: number[] = [];
  writeInteger(out, i, 6, 0x40);
  return [...out, ...str(value, huffman)];
}
function indexed(i: number): number[] {
  const out: number[] = [];
  writeInteger(out, i, 7, 0x80);
  return out;
}
function sizeUpdate(n: number): number[] {
  const out: number[] = [];
  writeInteger(out, n, 5, 0x20);
  return out;
}
// grpc-go's first request: :method POST (3), :scheme http (6), :path, :authority (1), content-type (31).
const firstBlock = (authority: string): number[] => [
  ...indexed(3),
  ...indexed(6),
  ...indexNamed(4, '/etcdserverpb.Maintenance/Status'),
  ...indexNamed(1, authority),
  ...indexNamed(31, 'application/grpc'),
  ...indexNew('te', 'trailers'),
];
// The second request refers to the client's dynamic table, newest entry first: once its :path is
// added, 62 = that :path, 63 = te, 64 = content-type, 65 = :authority.
const secondBlock = (): number[] => [
  ...indexed(3),
  ...indexed(6),
  ...indexNamed(4, '/etcdserverpb.KV/Range'),
  ...indexed(65),
  ...indexed(64),
  ...indexed(63),
];
const headers = (id: number, block: number[], flags = 0x4): Buffer => frame(1, flags, id, block);
const BAD = 'http://127.0.0.1:2379';

// ---- running the processor ----

interface Run {
  server: Buffer;
  client: Buffer;
  r: AuthorityRewriter;
}
function run(chunks: Buffer[]): Run {
  const server: Buffer[] = [];
  const client: Buffer[] = [];
  const r = new AuthorityRewriter({
    toServer: (b) => server.push(Buffer.from(b)),
    toClient: (b) => client.push(b),
  });
  for (const c of chunks) r.push(c);
  return { server: Buffer.concat(server), client: Buffer.concat(client), r };
}

/** Runs `input` whole, split in two at every offset, and byte by byte; all must agree. */
function runAllSplits(input: Buffer): Run {
  const whole = run([input]);
  for (let i = 1; i < input.length; i++) {
    const two = run([input.subarray(0, i), input.subarray(i)]);
    assert.ok(two.server.equals(whole.server), `server bytes differ when split at ${i}`);
    assert.ok(two.client.equals(whole.client), `client bytes differ when split at ${i}`);
    assert.equal(two.r.mode, whole.r.mode);
    assert.equal(two.r.raw, whole.r.raw);
  }
  const bytes = run([...input].map((b) => Buffer.from([b])));
  assert.ok(bytes.server.equals(whole.server), 'server bytes differ byte by byte');
  return whole;
}

interface Frame {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}
function parseFrames(b: Buffer): Frame[] {
  assert.ok(b.subarray(0, 24).equals(CLIENT_PREFACE));
  const out: Frame[] = [];
  let p = 24;
  while (p < b.length) {
    const len = b.readUIntBE(p, 3);
    out.push({
      type: b[p + 3]!,
      flags: b[p + 4]!,
      id: b.readUInt32BE(p + 5),
      payload: b.subarray(p + 9, p + 9 + len),
    });
    p += 9 + len;
  }
  assert.equal(p, b.length);
  return out;
}

/** Decodes the header blocks the server receives with one decoder, as nghttp2 does. */
function serverHeaderLists(frames: Frame[], decoder = new HpackDecoder()): HeaderList[] {
  const lists: HeaderList[] = [];
  let block: Buffer[] = [];
  for (const f of frames) {
    if (f.type !== 1 && f.type !== 9) continue;
    let payload = f.payload;
    if (f.type === 1 && f.flags & 0x20) payload = payload.subarray(5);
    block.push(payload);
    if (f.flags & 0x4) {
      const all = Buffer.concat(block);
      const list: HeaderList = [];
      decoder.decode(all, 0, all.length, list);
      lists.push(list);
      block = [];
    }
  }
  return lists;
}
const authorityOf = (l: HeaderList): string | undefined => l[l.indexOf(':authority') + 1];

// ---- tests ----

test('authority check: scheme and path are stripped, other refused bytes percent-encoded', () => {
  assert.equal(isAuthorityAcceptable('127.0.0.1:2379'), true);
  assert.equal(isAuthorityAcceptable('[::1]:2379'), true);
  assert.equal(isAuthorityAcceptable(BAD), false);
  assert.equal(isAuthorityAcceptable(''), true);
  assert.equal(reduceAuthority(BAD), '127.0.0.1:2379');
  assert.equal(reduceAuthority('https://[::1]:2379/v3/kv?x=1#f'), '[::1]:2379');
  assert.equal(reduceAuthority('unix://sock'), 'sock');
  assert.equal(reduceAuthority('host name:1'), 'host%20name:1');
  assert.equal(reduceAuthority('h\u00e9:1'), 'h%E9:1');
});

test('pass-through: a good first request leaves every byte as sent but the ACK of our SETTINGS', () => {
  const parts = [
    CLIENT_PREFACE,
    SETTINGS,
    WINDOW_UPDATE,
    ACK,
    headers(1, firstBlock('127.0.0.1:2379')),
    data(1, 'x'),
    headers(3, secondBlock()),
  ];
  const input = Buffer.concat(parts);
  const { server, client, r } = runAllSplits(input);
  assert.ok(client.equals(EMPTY_SETTINGS));
  assert.ok(server.equals(Buffer.concat(parts.filter((p) => p !== ACK))));
  assert.equal(r.mode, 'pass-through');
  assert.equal(r.raw, true);
});

test('pass-through waits for the ACK when the request comes first, and answers PINGs until then', () => {
  const ping = frame(6, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
  const before = [CLIENT_PREFACE, SETTINGS, headers(1, firstBlock('127.0.0.1:2379')), ping, data(1, 'x')];
  const r1 = run([Buffer.concat(before)]);
  assert.equal(r1.r.mode, 'pass-through');
  assert.equal(r1.r.raw, false);
  const input = Buffer.concat([...before, ACK, ping]);
  const { server, client, r } = runAllSplits(input);
  assert.equal(r.raw, true);
  // Once the ACK is in, the next PING is node's to answer.
  assert.ok(
    server.equals(
      Buffer.concat([CLIENT_PREFACE, SETTINGS, headers(1, firstBlock('127.0.0.1:2379')), data(1, 'x'), ping]),
    ),
  );
  const pong = Buffer.from(ping);
  pong[4] = 1;
  assert.ok(client.equals(Buffer.concat([EMPTY_SETTINGS, pong])));
});

test('rewrite: :authority becomes host:port, blocks keep decoding against the client table', () => {
  const input = Buffer.concat([
    CLIENT_PREFACE,
    SETTINGS,
    ACK,
    headers(1, firstBlock(BAD)),
    data(1, 'first'),
    headers(3, secondBlock()),
    data(3, 'second'),
    WINDOW_UPDATE,
  ]);
  const { server, r } = runAllSplits(input);
  assert.equal(r.mode, 'rewrite');
  assert.equal(r.raw, false);
  const frames = parseFrames(server);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags, f.id]),
    [
      [4, 0, 0],
      [1, 4, 1],
      [0, 1, 1],
      [1, 4, 3],
      [0, 1, 3],
      [8, 0, 0],
    ],
  );
  const decoder = new HpackDecoder();
  const lists = serverHeaderLists(frames, decoder);
  assert.deepEqual(lists[0], [
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    '/etcdserverpb.Maintenance/Status',
    ':authority',
    '127.0.0.1:2379',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
  ]);
  assert.deepEqual(lists[1]?.slice(4), [
    ':path',
    '/etcdserverpb.KV/Range',
    ':authority',
    '127.0.0.1:2379',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
  ]);
  assert.equal(decoder.dynamicTableLength, 0, "nghttp2's table is never used");
  // DATA frames are the very bytes sent.
  assert.ok(frames[2]!.payload.equals(data(1, 'first').subarray(9)));
});

test('rewrite: CONTINUATION, padding and priority; END_STREAM and priority kept, padding dropped', () => {
  const block = firstBlock(BAD);
  const padded = [3, ...[0x80, 0, 0, 5, 200], ...block.slice(0, 10), 0, 0, 0]; // PADDED|PRIORITY
  const input = Buffer.concat([
    CLIENT_PREFACE,
    ACK,
    frame(1, 0x08 | 0x20 | 0x01, 1, padded),
    frame(9, 0, 1, block.slice(10, 20)),
    frame(9, 0x4, 1, block.slice(20)),
    headers(3, secondBlock(), 0x4 | 0x1),
  ]);
  const { server } = runAllSplits(input);
  const frames = parseFrames(server);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags, f.id]),
    [
      [1, 0x20 | 0x4 | 0x1, 1],
      [1, 0x4 | 0x1, 3],
    ],
  );
  assert.deepEqual([...frames[0]!.payload.subarray(0, 5)], [0x80, 0, 0, 5, 200]);
  const lists = serverHeaderLists(frames);
  assert.equal(authorityOf(lists[0]!), '127.0.0.1:2379');
  assert.equal(authorityOf(lists[1]!), '127.0.0.1:2379');
});

test('rewrite: a re-encoded block longer than a frame is split into CONTINUATION frames', () => {
  const big = 'v'.repeat(40_000);
  const block = [...firstBlock(BAD), ...indexNew('x-big', big)];
  const sent = [headers(1, block.slice(0, 16_000), 0), frame(9, 0, 1, block.slice(16_000, 32_000))];
  sent.push(frame(9, 4, 1, block.slice(32_000)));
  const input = Buffer.concat([CLIENT_PREFACE, ACK, ...sent]);
  const frames = parseFrames(run([input]).server);
  assert.deepEqual(
    frames.map((f) => [f.type, f.flags]),
    [
      [1, 0],
      [9, 0],
      [9, 4],
    ],
  );
  assert.ok(frames.every((f) => f.payload.length <= 16_384));
  const [list] = serverHeaderLists(frames);
  assert.equal(list?.[list.indexOf('x-big') + 1], big);
});

test('rewrite: dynamic table size updates are honoured and passed on', () => {
  const second = [...sizeUpdate(0), ...indexed(3), ...indexNamed(1, BAD)];
  // After the update to 0 the client's table is empty: index 62 no longer exists.
  const third = [...indexed(3), ...indexed(62)];
  const input = Buffer.concat([
    CLIENT_PREFACE,
    ACK,
    headers(1, firstBlock(BAD)),
    headers(3, second),
    headers(5, third),
  ]);
  const { server, r } = runAllSplits(input);
  const frames = parseFrames(server);
  assert.equal(frames[1]!.payload[0], 0x20);
  assert.equal(authorityOf(serverHeaderLists(frames.slice(0, 2))[1]!), '127.0.0.1:2379');
  // The third block is invalid against the client's table: it goes on as sent.
  assert.equal(r.raw, true);
  assert.ok(server.subarray(server.length - headers(5, third).length).equals(headers(5, third)));
});

test('rewrite: PINGs go to node once it runs; SETTINGS ACKs after the first go to node too', () => {
  const ping = frame(6, 0, 0, [8, 7, 6, 5, 4, 3, 2, 1]);
  const input = Buffer.concat([CLIENT_PREFACE, headers(1, firstBlock(BAD)), ping, ACK, ACK]);
  const { server, client } = runAllSplits(input);
  assert.ok(client.equals(EMPTY_SETTINGS));
  assert.deepEqual(
    parseFrames(server).map((f) => [f.type, f.flags]),
    [
      [1, 4],
      [6, 0],
      [4, 1],
    ],
  );
});

test('malformed input turns into plain pass-through, never an exception', () => {
  const notPreface = Buffer.from('PRI * HTTP/1.1\r\n\r\nxxxxxxxxxxxxxxx');
  const a = run([notPreface]);
  assert.equal(a.r.raw, true);
  assert.ok(a.server.equals(notPreface));
  assert.equal(a.client.length, 0, 'no SETTINGS for what is not HTTP/2');

  const cases: Buffer[] = [
    headers(1, [0xff, 0xff]), // truncated HPACK integer
    headers(1, [...indexed(70)]), // index beyond the tables
    frame(1, 0x8, 1, [9, 1, 2]), // padding longer than the frame
    frame(1, 0x20, 1, [0, 0]), // priority fields cut short
    headers(0, firstBlock(BAD)), // HEADERS on stream 0
    Buffer.concat([headers(1, firstBlock(BAD).slice(0, 5), 0), frame(9, 4, 3, [])]), // CONTINUATION, wrong stream
    Buffer.concat([headers(1, firstBlock(BAD).slice(0, 5), 0), data(1, 'x')]), // no CONTINUATION
    frame(1, 4, 1, new Array<number>(16_385).fill(0x82)), // larger than the frame size
    frame(6, 0, 0, [1, 2, 3]), // PING of the wrong length
    frame(4, 1, 0, [0, 0, 0, 0, 0, 0]), // SETTINGS ACK with a payload
  ];
  for (const bad of cases) {
    const input = Buffer.concat([CLIENT_PREFACE, bad, data(1, 'after')]);
    const { server, r } = runAllSplits(input);
    assert.equal(r.raw, true);
    assert.ok(server.equals(input), `bytes changed for ${bad.subarray(0, 12).toString('hex')}`);
  }
});

test('random bytes after the preface never throw', () => {
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.from(Array.from({ length: 1 + (i % 200) }, rand));
    // Mostly valid frame headers with random payloads, to get past the first checks.
    const body = Buffer.concat([headers(1, firstBlock(BAD)), frame(i % 10, rand(), i % 4, junk), junk]);
    const input = Buffer.concat([CLIENT_PREFACE, ACK, body]);
    assert.doesNotThrow(() => run([input]));
    assert.doesNotThrow(() => run([...input].map((b) => Buffer.from([b]))));
  }
});
