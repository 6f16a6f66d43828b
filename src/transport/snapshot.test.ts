// Snapshot transfer between two transports on 127.0.0.1: a 20 MB body streamed with backpressure
// and verified byte for byte, and the failures that must end in reportSnapshot(false).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, emptyConfState, newMessage, type Message } from '../raft/types.js';
import { connectAll, startMember, waitFor, type Member } from './test-support.js';

const SNAP_BYTES = 20 * 1024 * 1024;
const patternByte = (i: number): number => (i * 31 + 7) & 0xff;

function msgSnap(from: bigint, to: bigint, index: bigint): Message {
  return newMessage({
    type: MessageType.MsgSnap,
    from,
    to,
    term: 4n,
    snapshot: {
      data: new Uint8Array(0),
      metadata: { index, term: 4n, confState: { ...emptyConfState(), voters: [1n, 2n] } },
    },
  });
}

async function stopAll(ms: readonly Member[]): Promise<void> {
  await Promise.all(ms.map((m) => m.t.stop()));
}

test('a 20 MB snapshot is streamed with backpressure and reported delivered', async () => {
  // Small windows, so that flow control (not memory) bounds what is in flight.
  const limits = {
    streamWindowBytes: 256 * 1024,
    connectionWindowBytes: 256 * 1024,
    snapshotChunkBytes: 64 * 1024,
  };
  const a = await startMember(1n, 0xc1n, 'http://127.0.0.1:0', { limits });
  const b = await startMember(2n, 0xc1n, 'http://127.0.0.1:0', { limits });
  try {
    await connectAll([a, b]);
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    let received: Message | undefined;
    let mismatches = 0;
    b.h.receive = async (m, body) => {
      received = m;
      for await (const chunk of body) {
        for (let k = 0; k < chunk.length; k++) if (chunk[k] !== patternByte(consumed + k)) mismatches++;
        consumed += chunk.length;
        await new Promise((r) => setImmediate(r)); // a slow disk
      }
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      while (produced < SNAP_BYTES) {
        const n = Math.min(100_000, SNAP_BYTES - produced); // not a multiple of the chunk size
        const chunk = new Uint8Array(n);
        for (let k = 0; k < n; k++) chunk[k] = patternByte(produced + k);
        produced += n;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield chunk;
      }
    }
    a.t.sendSnapshot(msgSnap(1n, 2n, 42n), body);
    await waitFor(() => a.h.snapshotReports.length === 1, 'snapshot report', 120_000);
    assert.deepEqual(a.h.snapshotReports, [{ id: 2n, ok: true }]);
    assert.equal(consumed, SNAP_BYTES);
    assert.equal(mismatches, 0);
    assert.deepEqual(received, msgSnap(1n, 2n, 42n));
    // Backpressure: the sender never ran more than a few windows ahead of the receiver's disk.
    assert.ok(maxAhead <= 4 * 1024 * 1024, `sender ran ${maxAhead} bytes ahead`);
    assert.deepEqual(a.h.unreachable, []);
    assert.ok(a.log.find('sent database snapshot'));
    assert.ok(b.log.find('received and saved database snapshot'));
    // The message stream kept working beside it.
    a.t.send([newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 4n })]);
    await waitFor(() => b.h.processed.length === 1, 'heartbeat after the snapshot');
  } finally {
    await stopAll([a, b]);
  }
});

test('a receiver whose receiveSnapshot throws makes the sender report failure', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    let seen = 0;
    b.h.receive = async (_m, body) => {
      for await (const chunk of body) {
        seen += chunk.length;
        if (seen > 1_000_000) throw new Error('disk full');
      }
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 100; i++) yield new Uint8Array(100_000).fill(i);
    }
    a.t.sendSnapshot(msgSnap(1n, 2n, 7n), body);
    await waitFor(() => a.h.snapshotReports.length === 1, 'snapshot report');
    assert.deepEqual(a.h.snapshotReports, [{ id: 2n, ok: false }]);
    assert.deepEqual(a.h.unreachable, [2n]);
    const line = b.log.find('failed to save incoming database snapshot');
    assert.ok(line);
    assert.match(String(line.fields.error), /disk full/);
    assert.match(String(a.log.find('failed to send database snapshot')!.fields.error), /HTTP 500/);
  } finally {
    await stopAll(ms);
  }
});

test('a body that fails on the sender side reaches the receiver as a failed transfer', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    let receiverError: unknown;
    b.h.receive = async (_m, body) => {
      try {
        for await (const chunk of body) void chunk;
      } catch (err) {
        receiverError = err;
        throw err;
      }
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(300_000);
      throw new Error('snapshot file vanished');
    }
    a.t.sendSnapshot(msgSnap(1n, 2n, 8n), body);
    await waitFor(() => a.h.snapshotReports.length === 1, 'snapshot report');
    assert.deepEqual(a.h.snapshotReports, [{ id: 2n, ok: false }]);
    assert.match(
      String(a.log.find('failed to send database snapshot')!.fields.error),
      /snapshot file vanished/,
    );
    await waitFor(() => receiverError !== undefined, 'receiver sees the failure');
    assert.deepEqual(b.h.snapshotReports, []);
  } finally {
    await stopAll(ms);
  }
});

test('snapshots to unknown or unreachable peers are reported failed; MsgSnap through send() too', async () => {
  const a = await startMember(1n);
  const b = await startMember(2n);
  try {
    a.t.sendSnapshot(msgSnap(1n, 9n, 1n), async function* () {});
    assert.deepEqual(a.h.snapshotReports, [{ id: 9n, ok: false }]);
    a.t.addPeer(3n, ['http://127.0.0.1:1']); // nothing listens there
    a.t.sendSnapshot(msgSnap(1n, 3n, 1n), async function* () {
      yield new Uint8Array(10);
    });
    await waitFor(() => a.h.snapshotReports.length === 2, 'unreachable peer report');
    assert.deepEqual(a.h.snapshotReports[1], { id: 3n, ok: false });
    // A MsgSnap given to send() takes the snapshot path (empty body) and is reported like one.
    await connectAll([a, b]);
    a.t.send([msgSnap(1n, 2n, 5n)]);
    await waitFor(() => a.h.snapshotReports.length === 3, 'MsgSnap via send');
    assert.deepEqual(a.h.snapshotReports[2], { id: 2n, ok: true });
    assert.deepEqual(b.h.processed, []);
  } finally {
    await stopAll([a, b]);
  }
});

test('stopping a transport in the middle of a transfer: no report after stop, the receiver sees a failure', async () => {
  const ms = [await startMember(1n), await startMember(2n)];
  const [a, b] = ms as [Member, Member];
  try {
    await connectAll(ms);
    let receiverError: unknown;
    let started = false;
    b.h.receive = async (_m, body) => {
      try {
        for await (const chunk of body) {
          void chunk;
          started = true;
        }
      } catch (err) {
        receiverError = err;
        throw err;
      }
    };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (;;) yield new Uint8Array(64 * 1024); // endless: only stop() ends it
    }
    a.t.sendSnapshot(msgSnap(1n, 2n, 9n), body);
    await waitFor(() => started, 'transfer under way');
    await a.t.stop();
    await waitFor(() => receiverError !== undefined, 'receiver sees the cut');
    assert.deepEqual(a.h.snapshotReports, []);
    assert.ok(b.log.find('failed to save incoming database snapshot'));
  } finally {
    await stopAll(ms);
  }
});
