// Frames on peer streams: any split of the byte stream decodes to the same messages, and bad
// lengths, bad messages and cut streams are Errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../base/prng.js';
import { encodeMessage } from '../raft/raft-codec.js';
import { MessageType, newMessage, type Message } from '../raft/types.js';
import { FrameReader, MessageFrameDecoder, encodeMessageFrames, frame, frameHeader } from './frame.js';

function randomMessages(prng: Prng, n: number): Message[] {
  return Array.from({ length: n }, (_, i) =>
    newMessage({
      type: prng.pick([MessageType.MsgApp, MessageType.MsgHeartbeat, MessageType.MsgVote]),
      to: 2n,
      from: 1n,
      term: BigInt(prng.intBelow(100)),
      index: BigInt(i),
      entries: Array.from({ length: prng.intBelow(3) }, (_, k) => ({
        term: 1n,
        index: BigInt(k + 1),
        type: 0 as const,
        data: new Uint8Array(prng.intBelow(300)).fill(k),
      })),
    }),
  );
}

function split(prng: Prng, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < b.length;) {
    const n = Math.min(b.length - pos, prng.chance(0.3) ? 1 : prng.intBetween(1, 700));
    out.push(b.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

test('message frames decode the same however the bytes are split', () => {
  const prng = new Prng(21);
  for (let round = 0; round < 20; round++) {
    const msgs = randomMessages(prng, 40);
    const bytes = encodeMessageFrames(msgs);
    const d = new MessageFrameDecoder(1 << 20);
    const got: Message[] = [];
    for (const piece of split(prng, bytes)) d.push(piece, (m) => got.push(m));
    assert.deepEqual(got, msgs);
    assert.equal(d.pendingBytes, 0);
  }
});

test('the message decoder throws on an empty frame, an oversized frame or a bad message, after delivering what came before', () => {
  const good = frame(encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, to: 2n })));
  const cases: [Buffer, RegExp][] = [
    [frameHeader(0), /empty frame/],
    [frameHeader(1001), /exceeds the limit of 1000/],
    [frame(Buffer.from('3a05', 'hex')), /past the end/],
  ];
  for (const [bad, re] of cases) {
    const got: Message[] = [];
    const d = new MessageFrameDecoder(1000);
    assert.throws(() => d.push(Buffer.concat([good, bad]), (m) => got.push(m)), re);
    assert.equal(got.length, 1);
  }
});

async function* pieces(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

test('the frame reader pulls whole frames, tells a clean end from a cut one, and refuses oversized frames', async () => {
  const prng = new Prng(22);
  const payloads = Array.from({ length: 30 }, (_, i) => new Uint8Array(prng.intBelow(2000)).fill(i));
  const all = Buffer.concat([...payloads.map((p) => frame(p)), frameHeader(0)]);
  const r = new FrameReader(pieces(split(prng, all)), 4096);
  for (const p of payloads) assert.deepEqual(new Uint8Array((await r.next()) ?? []), p);
  assert.equal((await r.next())?.length, 0);
  assert.equal(await r.next(), undefined);

  const cut = new FrameReader(pieces(split(prng, all.subarray(0, all.length - 6))), 4096);
  await assert.rejects(async () => {
    while ((await cut.next()) !== undefined);
  }, /stream ended inside a frame/);
  const big = new FrameReader(pieces([frameHeader(5000), new Uint8Array(5000)]), 4096);
  await assert.rejects(() => big.next(), /exceeds the limit of 4096/);
});
