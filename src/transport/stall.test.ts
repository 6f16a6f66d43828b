// Peers that fall silent (stopped, or cut off without a reset), peers that move, and heartbeats
// beside a snapshot that is stuck: the transport must notice through its own pings, report the peer
// unreachable, and carry on when the peer answers again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, newMessage, type Message } from '../raft/types.js';
import { FreezableProxy, connectAll, startMember, waitFor, type Member } from './test-support.js';

const hb = (from: bigint, to: bigint, commit: bigint): Message =>
  newMessage({ type: MessageType.MsgHeartbeat, from, to, term: 2n, commit });

const quick = { pingIntervalMs: 50, pingTimeoutMs: 300, dialTimeoutMs: 500, backoffMaxMs: 400 };

async function stopAll(ms: readonly Member[]): Promise<void> {
  await Promise.all(ms.map((m) => m.t.stop()));
}

test('a peer that falls silent is dropped after unanswered pings and reconnected once it answers', async () => {
  const a = await startMember(1n, 0xc1n, 'http://127.0.0.1:0', { limits: quick });
  const b = await startMember(2n);
  const proxy = new FreezableProxy(b.url);
  try {
    a.t.addPeer(2n, [await proxy.listen()]);
    b.t.addPeer(1n, [a.url]);
    await waitFor(() => a.t.activeSince(2n) !== undefined, 'stream through the proxy');
    a.t.send([hb(1n, 2n, 1n)]);
    await waitFor(() => b.h.processed.length === 1, 'first heartbeat');

    proxy.freeze();
    await waitFor(() => a.t.activeSince(2n) === undefined, 'silence noticed');
    const lost = a.log.find('lost TCP streaming connection with remote peer');
    assert.match(String(lost?.fields.error), /ping unanswered/);
    assert.ok(a.h.unreachable.includes(2n));
    // A snapshot towards the silent peer fails too, instead of hanging.
    a.t.sendSnapshot(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n }), async function* () {
      yield new Uint8Array(1000);
    });
    await waitFor(() => a.h.snapshotReports.length === 1, 'snapshot failure');
    assert.deepEqual(a.h.snapshotReports, [{ id: 2n, ok: false }]);

    proxy.thaw();
    await waitFor(() => a.t.activeSince(2n) !== undefined, 'reconnected after thaw');
    a.t.send([hb(1n, 2n, 99n)]);
    await waitFor(() => b.h.processed.some((m) => m.commit === 99n), 'heartbeat after thaw');
  } finally {
    await stopAll([a, b]);
    await proxy.close();
  }
});

test("updatePeer moves the stream to the peer's new URL", async () => {
  const a = await startMember(1n);
  let b = await startMember(2n);
  try {
    await connectAll([a, b]);
    await b.t.stop();
    b = await startMember(2n); // another port
    b.t.addPeer(1n, [a.url]);
    a.t.updatePeer(2n, [b.url]);
    await waitFor(() => a.t.activeSince(2n) !== undefined, 'stream to the new URL');
    a.t.send([hb(1n, 2n, 7n)]);
    await waitFor(() => b.h.processed.length === 1, 'delivered at the new URL');
    assert.equal(b.h.processed[0]!.commit, 7n);
  } finally {
    await stopAll([a, b]);
  }
});

test('heartbeats keep flowing while a snapshot to the same peer is stuck', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    b.h.receive = async (_m, body) => {
      for await (const chunk of body) {
        void chunk;
        started = true;
        await gate; // a disk that does not move
      }
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 200; i++) yield new Uint8Array(256 * 1024).fill(i); // 50 MB
    }
    a.t.sendSnapshot(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n }), body);
    await waitFor(() => started, 'snapshot started');
    for (let i = 1n; i <= 50n; i++) a.t.send([hb(1n, 2n, i)]);
    await waitFor(() => b.h.processed.length === 50, 'heartbeats beside the stuck snapshot');
    assert.deepEqual(a.h.snapshotReports, []);
    release();
    await waitFor(() => a.h.snapshotReports.length === 1, 'snapshot done');
    assert.deepEqual(a.h.snapshotReports, [{ id: 2n, ok: true }]);
  } finally {
    await stopAll(ms);
  }
});
