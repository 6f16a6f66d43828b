import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadOnly, ReadOnlyOption } from './read-only.js';
import { EntryType, MessageType, newMessage, type Message } from './types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
function req(ctx: string, from = 0n): Message {
  return newMessage({
    type: MessageType.MsgReadIndex,
    from,
    entries: [{ term: 0n, index: 0n, type: EntryType.Normal, data: bytes(ctx) }],
  });
}
const ack = (ctx: string): Message => newMessage({ type: MessageType.MsgHeartbeatResp, context: bytes(ctx) });

test('requests are queued once per context and acks are counted per request', () => {
  const ro = new ReadOnly(ReadOnlyOption.ReadOnlySafe);
  ro.addRequest(5n, req('a'));
  ro.addRequest(9n, req('a'));
  ro.addRequest(6n, req('b'));
  assert.equal(ro.pendingCount(), 2);
  assert.deepEqual(ro.lastPendingRequestCtx(), bytes('b'));
  assert.deepEqual([...(ro.recvAck(1n, bytes('a')) ?? new Map()).keys()], [1n]);
  assert.deepEqual([...(ro.recvAck(2n, bytes('a')) ?? new Map()).keys()], [1n, 2n]);
  assert.equal(ro.recvAck(2n, bytes('zz')), undefined);
});

test('advance releases the acknowledged request and every request before it, in order', () => {
  const ro = new ReadOnly(ReadOnlyOption.ReadOnlySafe);
  ro.addRequest(5n, req('a'));
  ro.addRequest(6n, req('b'));
  ro.addRequest(7n, req('c'));
  assert.deepEqual(ro.advance(ack('unknown')), []);
  const done = ro.advance(ack('b'));
  assert.deepEqual(
    done.map((rs) => rs.index),
    [5n, 6n],
  );
  assert.equal(ro.pendingCount(), 1);
  assert.deepEqual(ro.lastPendingRequestCtx(), bytes('c'));
  assert.equal(ro.recvAck(1n, bytes('a')), undefined, 'released requests are gone');
  assert.deepEqual(
    ro.advance(ack('c')).map((rs) => rs.index),
    [7n],
  );
  assert.equal(ro.lastPendingRequestCtx(), undefined);
});

test('binary contexts are distinct keys', () => {
  const ro = new ReadOnly(ReadOnlyOption.ReadOnlySafe);
  const m1 = req('');
  (m1.entries[0] as { data: Uint8Array }).data = new Uint8Array([0, 255]);
  const m2 = req('');
  (m2.entries[0] as { data: Uint8Array }).data = new Uint8Array([0, 254]);
  ro.addRequest(1n, m1);
  ro.addRequest(2n, m2);
  assert.equal(ro.pendingCount(), 2);
  assert.deepEqual(
    ro
      .advance(newMessage({ type: MessageType.MsgHeartbeatResp, context: new Uint8Array([0, 255]) }))
      .map((r) => r.index),
    [1n],
  );
});
