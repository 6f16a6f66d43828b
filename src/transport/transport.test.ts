// HttpPeerTransport between real sockets on 127.0.0.1: ordered delivery, batching, reconnect after a
// peer restarts, refusals (cluster ID, recipient, unknown and removed senders), malformed frames,
// and the GET routes. Outcomes only: the tests wait for events, they never assert on durations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { silentLogger } from '../base/log.js';
import { encodeMessage } from '../raft/raft-codec.js';
import { MessageType, newMessage, type Message } from '../raft/types.js';
import { frame, frameHeader } from './frame.js';
import { HEADER_CLUSTER_ID, HEADER_FROM, HEADER_TO } from './headers.js';
import { HttpPeerTransport } from './http-peer-transport.js';
import { connectAll, startMember, waitFor, type Member } from './test-support.js';

const app = (from: bigint, to: bigint, index: bigint): Message =>
  newMessage({ type: MessageType.MsgApp, from, to, term: 3n, index, context: new Uint8Array([1, 2, 3]) });

async function stopAll(ms: readonly Member[]): Promise<void> {
  await Promise.all(ms.map((m) => m.t.stop()));
}

test('three members exchange messages, each sender in order', async () => {
  const ms = [await startMember(1n), await startMember(2n), await startMember(3n)];
  try {
    await connectAll(ms);
    const n = 300;
    for (let i = 1; i <= n; i++) {
      for (const a of ms) for (const b of ms) if (a !== b) a.t.send([app(a.id, b.id, BigInt(i))]);
    }
    await waitFor(() => ms.every((m) => m.h.processed.length === 2 * n), 'all messages delivered');
    for (const b of ms) {
      for (const a of ms) {
        if (a === b) continue;
        const got = b.h.processed.filter((m) => m.from === a.id).map((m) => m.index);
        assert.deepEqual(
          got,
          Array.from({ length: n }, (_, i) => BigInt(i + 1)),
        );
      }
      assert.ok(b.h.processed.every((m) => m.to === b.id && m.term === 3n));
      assert.deepEqual(b.h.unreachable, []);
    }
  } finally {
    await stopAll(ms);
  }
});

test('a burst sent in one turn of the event loop goes out in one write', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    const before = a.t.peerStats(2n)!;
    const burst = Array.from({ length: 2000 }, (_, i) => app(1n, 2n, BigInt(i)));
    a.t.send(burst.slice(0, 500));
    a.t.send(burst.slice(500, 1500));
    for (const m of burst.slice(1500)) a.t.send([m]);
    await waitFor(() => b.h.processed.length === 2000, 'burst delivered');
    const after = a.t.peerStats(2n)!;
    assert.equal(after.writes - before.writes, 1);
    assert.equal(after.messagesSent - before.messagesSent, 2000);
    assert.deepEqual(
      b.h.processed.map((m) => m.index),
      burst.map((m) => m.index),
    );
  } finally {
    await stopAll(ms);
  }
});

test('a queue overflow drops messages and reports the peer unreachable', async () => {
  const a = await startMember(1n, 0xc1n, 'http://127.0.0.1:0', { limits: { maxQueuedMessages: 10 } });
  const b = await startMember(2n);
  try {
    await connectAll([a, b]);
    a.t.send(Array.from({ length: 25 }, (_, i) => app(1n, 2n, BigInt(i))));
    await waitFor(() => b.h.processed.length === 10, 'the first 10 delivered');
    assert.deepEqual(
      b.h.processed.map((m) => m.index),
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
    assert.equal(a.h.unreachable.length, 15);
    assert.ok(a.h.unreachable.every((id) => id === 2n));
    assert.equal(a.t.peerStats(2n)!.dropped, 15);
    assert.ok(a.log.find('dropped internal Raft message since sending buffer is full (overloaded network)'));
    // A message too large for the receiver's frame limit is never sent.
    const huge = app(1n, 2n, 99n);
    huge.entries = [{ term: 1n, index: 1n, type: 0, data: new Uint8Array(70 * 1024 * 1024) }];
    a.t.send([huge, app(1n, 2n, 100n)]);
    await waitFor(() => b.h.processed.length === 11, 'the message after the huge one');
    assert.equal(b.h.processed[10]!.index, 100n);
    assert.equal(a.h.unreachable.length, 16);
    assert.ok(a.log.find('dropped internal Raft message larger than the frame limit'));
  } finally {
    await stopAll([a, b]);
  }
});

test('a peer that goes down is reported unreachable, and is reconnected to when it comes back', async () => {
  const a = await startMember(1n);
  let b = await startMember(2n);
  const bUrl = b.url;
  try {
    await connectAll([a, b]);
    a.t.send([app(1n, 2n, 1n)]);
    await waitFor(() => b.h.processed.length === 1, 'first message');
    await b.t.stop();
    await waitFor(() => a.t.activeSince(2n) === undefined, 'connection loss noticed');
    assert.ok(a.log.find('lost TCP streaming connection with remote peer'));
    assert.ok(a.log.find('peer became inactive (message send to peer failed)'));
    // While b is down every message is dropped and reported.
    const reported = a.h.unreachable.length;
    for (let i = 0; i < 20; i++) a.t.send([app(1n, 2n, 100n + BigInt(i))]);
    await waitFor(() => a.h.unreachable.length > reported, 'unreachable reported');
    assert.ok(a.h.unreachable.every((id) => id === 2n));

    b = await startMember(2n, 0xc1n, bUrl);
    b.t.addPeer(1n, [a.url]);
    await waitFor(() => a.t.activeSince(2n) !== undefined, 'reconnected');
    assert.ok(a.t.peerStats(2n)!.connects >= 2);
    a.t.send([app(1n, 2n, 1000n)]);
    await waitFor(() => b.h.processed.length === 1, 'message after reconnect');
    // Nothing sent while b was down arrives late: it was dropped, not buffered.
    assert.deepEqual(
      b.h.processed.map((m) => m.index),
      [1000n],
    );
  } finally {
    await stopAll([a, b]);
  }
});

test('a member of another cluster is refused with 412, and both sides log it', async () => {
  const a = await startMember(1n, 0xaaaan);
  const c = await startMember(3n, 0xbbbbn);
  try {
    a.t.addPeer(3n, [c.url]);
    c.t.addPeer(1n, [a.url]);
    const sent = 'request sent was ignored by remote peer due to cluster ID mismatch';
    await waitFor(() => a.log.find('request cluster ID mismatch') !== undefined, 'receiver log');
    await waitFor(() => c.log.find(sent) !== undefined, 'sender log');
    assert.deepEqual(a.log.find('request cluster ID mismatch')!.fields, {
      'local-member-id': '1',
      'local-member-cluster-id': 'aaaa',
      'remote-peer-id': '3',
      'remote-peer-cluster-id': 'bbbb',
    });
    assert.equal(c.log.find(sent)!.fields['remote-peer-cluster-id'], 'aaaa');
    assert.equal(c.log.find(sent)!.fields['local-member-cluster-id'], 'bbbb');
    assert.equal(a.t.activeSince(3n), undefined);
    c.t.send([app(3n, 1n, 1n)]);
    a.t.send([app(1n, 3n, 1n)]);
    assert.deepEqual(a.h.processed, []);
    assert.deepEqual(c.h.processed, []);
  } finally {
    await stopAll([a, c]);
  }
});

/** A raw HTTP/2 POST to a member; resolves with the status and body once the answer is complete. */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url);
    s.on('error', reject);
    const req = s.request({ ':method': 'POST', ':path': path, ...headers });
    let text = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      s.close();
      resolve({ status, body: text.trim() });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const hdrs = (cluster: string, from: string, to: string): Record<string, string> => ({
  [HEADER_CLUSTER_ID]: cluster,
  [HEADER_FROM]: from,
  [HEADER_TO]: to,
});

test('requests for another member, from unknown members and from removed members are refused', async () => {
  let removedBy: bigint | undefined;
  const a = await startMember(1n);
  const b = await startMember(2n, 0xc1n, 'http://127.0.0.1:0', { onRemoved: (by) => (removedBy = by) });
  try {
    a.t.addPeer(2n, [b.url]);
    const m = frame(encodeMessage(app(2n, 1n, 1n)));
    assert.deepEqual(await rawPost(a.url, '/raft/stream', hdrs('c1', '2', '9'), m), {
      status: 412,
      body: 'to field mismatch',
    });
    assert.ok(a.log.find('ignored streaming request; ID mismatch'));
    assert.equal((await rawPost(a.url, '/raft/stream', hdrs('c1', '7', '1'), m)).status, 404);
    assert.ok(a.log.find('failed to find remote peer in cluster'));
    assert.equal((await rawPost(a.url, '/raft/stream', hdrs('c1', 'zz', '1'), m)).status, 404);
    assert.equal((await rawPost(a.url, '/raft/stream', hdrs('', '2', '1'), m)).status, 412);
    a.t.removePeer(2n);
    assert.deepEqual(await rawPost(a.url, '/raft/snapshot', hdrs('c1', '2', '1'), m), {
      status: 410,
      body: 'the member has been permanently removed from the cluster',
    });
    assert.ok(a.log.find('rejected stream from remote peer because it was removed'));
    // The removed member's own stream is refused the same way, and it is told.
    b.t.addPeer(1n, [a.url]);
    await waitFor(() => removedBy === 1n, 'onRemoved');
    assert.deepEqual(a.h.processed, []);
  } finally {
    await stopAll([a, b]);
  }
});

/** A raw message stream to a member, as member `fromHex` (which the member must know). */
function rawStream(
  url: string,
  fromHex: string,
): { req: http2.ClientHttp2Stream; closed: Promise<void>; s: http2.ClientHttp2Session } {
  const s = http2.connect(url);
  s.on('error', () => undefined);
  const req = s.request(
    { ':method': 'POST', ':path': '/raft/stream', ...hdrs('c1', fromHex, '1') },
    { endStream: false },
  );
  req.on('error', () => undefined);
  const closed = new Promise<void>((r) => req.on('close', () => r()));
  return { req, closed, s };
}

test('malformed frames drop the connection, are logged, and the member keeps working', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    a.t.addPeer(5n, ['http://127.0.0.1:1']); // the raw streams below come "from" member 5
    const good = frame(encodeMessage(app(5n, 1n, 77n)));
    const garbage = [
      Buffer.concat([good, frameHeader(5), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])]), // bad varint
      Buffer.concat([good, frameHeader(0x7fffffff)]), // length beyond the limit
      Buffer.concat([good, frameHeader(0)]), // an empty frame
      Buffer.concat([good, frame(Buffer.from('0813', 'hex'))]), // unknown message type
      Buffer.concat([good, frame(encodeMessage(app(5n, 9n, 78n)))]), // for another member: skipped only
    ];
    for (const g of garbage) {
      const before = a.log.lines.length;
      const { req, closed, s } = rawStream(a.url, '5');
      req.write(g);
      await waitFor(() => a.h.processed.some((m) => m.index === 77n), 'the good frame before the garbage');
      a.h.processed.length = 0;
      if (g === garbage[4]) {
        await waitFor(
          () => a.log.lines.slice(before).some((l) => l.msg === 'ignored Raft message; to field mismatch'),
          'skip log',
        );
        s.destroy();
      } else {
        await closed; // the receiver dropped the connection
        const line = a.log.lines.slice(before).find((l) => l.msg === 'failed to decode Raft message');
        assert.ok(line, 'decode failure logged');
        assert.equal(line.fields['remote-peer-id'], '5');
      }
    }
    b.t.send([app(2n, 1n, 5n)]);
    await waitFor(() => a.h.processed.some((m) => m.index === 5n), 'the real stream still works');
    assert.ok(a.h.processed.every((m) => m.to === 1n));
  } finally {
    await stopAll(ms);
  }
});

test('a newer stream from a peer replaces the older one, and removing the peer closes it', async () => {
  const a = await startMember(1n);
  try {
    a.t.addPeer(5n, ['http://127.0.0.1:1']);
    const first = rawStream(a.url, '5');
    first.req.write(frame(encodeMessage(app(5n, 1n, 1n))));
    await waitFor(() => a.h.processed.length === 1, 'first stream delivers');
    const second = rawStream(a.url, '5');
    await first.closed;
    second.req.write(frame(encodeMessage(app(5n, 1n, 2n))));
    await waitFor(() => a.h.processed.length === 2, 'second stream delivers');
    a.t.removePeer(5n);
    await second.closed;
    assert.deepEqual(
      a.h.processed.map((m) => m.index),
      [1n, 2n],
    );
    first.s.destroy();
    second.s.destroy();
  } finally {
    await a.t.stop();
  }
});

test('the peer listener answers /version, /members and /raft/probing over HTTP/1.1 and HTTP/2', async () => {
  const a = await startMember(1n, 0xc1n, 'http://127.0.0.1:0', {
    membersJson: () => [{ id: 0xabcn, name: 'a', peerURLs: ['http://x:2380'] }],
  });
  const b = await startMember(2n);
  try {
    const v = await fetch(`${a.url}/version`);
    assert.equal(v.status, 200);
    assert.deepEqual(await v.json(), { etcdserver: '3.4.23', etcdcluster: '3.4.0' });
    assert.deepEqual(await (await fetch(`${a.url}/members`)).json(), [
      { id: '2748', name: 'a', peerURLs: ['http://x:2380'] },
    ]);
    assert.equal((await fetch(`${a.url}/raft/probing`)).status, 200);
    assert.equal((await fetch(`${b.url}/members`)).status, 404);
    assert.equal((await fetch(`${a.url}/raft/stream`, { method: 'POST', body: 'x' })).status, 505);
    const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = http2.connect(a.url);
      s.on('error', reject);
      const req = s.request({ ':path': '/version' });
      let body = '';
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        s.close();
        resolve({ status, body });
      });
    });
    assert.deepEqual(h2, { status: 200, body: '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}' });
  } finally {
    await stopAll([a, b]);
  }
});

test('stop() closes the listener and every connection; later calls do nothing', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  await connectAll(ms);
  const url = a.url;
  await a.t.stop();
  await waitFor(() => b.t.activeSince(1n) === undefined, 'b notices');
  a.t.send([app(1n, 2n, 1n)]);
  assert.equal(a.t.activeSince(2n), undefined);
  await a.t.stop();
  // The port is free again.
  const again = await startMember(1n, 0xc1n, url);
  await again.t.stop();
  await b.t.stop();
  assert.deepEqual(b.h.processed, []);
});

test('https peer URLs are refused at construction', () => {
  const opts = { localId: 1n, clusterId: 1n, logger: silentLogger, nowMs: () => 0 };
  assert.throws(
    () => new HttpPeerTransport({ ...opts, listenUrls: ['https://127.0.0.1:2380'] }),
    /https peer URLs are not supported/,
  );
  assert.throws(() => new HttpPeerTransport({ ...opts, listenUrls: ['unix:///x'] }), /unsupported scheme/);
  assert.throws(
    () => new HttpPeerTransport({ ...opts, listenUrls: [], limits: { backoffMinMs: 10_000 } }),
    /backoffMinMs must not exceed backoffMaxMs/,
  );
});
