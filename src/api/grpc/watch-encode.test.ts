import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WatchResponse } from '../../generated/etcdserverpb.js';
import { Event, type Event as EventMsg } from '../../generated/mvccpb.js';
import { encodeControl, fragmentCounts, FRAME_BYTES, WatchEncoder } from './watch-encode.js';

const enc = new TextEncoder();

function put(key: string, rev: bigint, valueBytes = 3): EventMsg {
  return Event.create({
    type: 0,
    kv: {
      key: enc.encode(key),
      createRevision: 2n,
      modRevision: rev,
      version: rev - 1n,
      value: new Uint8Array(valueBytes).fill(0x76),
      lease: 0n,
    },
  });
}

/** etcd's sendFragments, run on real messages with the generated codec's sizes. */
function etcdFragments(wr: WatchResponse, max: number): WatchResponse[] {
  const size = (m: WatchResponse) => WatchResponse.encode(m).length;
  if (size(wr) < max || wr.events.length < 2) return [wr];
  const out: WatchResponse[] = [];
  let idx = 0;
  for (;;) {
    const cur: WatchResponse = { ...wr, events: [], fragment: true };
    for (const ev of wr.events.slice(idx)) {
      cur.events.push(ev);
      if (cur.events.length > 1 && size(cur) >= max) {
        cur.events.pop();
        break;
      }
      idx++;
    }
    if (idx === wr.events.length) cur.fragment = false;
    out.push(cur);
    if (!cur.fragment) return out;
  }
}

void describe('watch response encoding', () => {
  const encoder = new WatchEncoder(0x1234n, 0xfeedbeefcafen);

  void it('event responses are byte-identical to the generated encoder, for any watch ID', () => {
    const events = [put('a', 5n), put('bb', 5n, 200), put('c', 6n, 0)];
    const bytes = events.map((e) => Event.encode(e));
    for (const id of [0n, 1n, 7n, 300n, -3n, (1n << 40n) + 5n]) {
      for (const fragment of [false, true]) {
        const got = encoder.encodeEvents(9n, 4n, id, bytes, 0, bytes.length, fragment);
        const want = WatchResponse.encode(
          WatchResponse.create({ header: encoder.header(9n, 4n), watchId: id, fragment, events }),
        );
        assert.deepStrictEqual(Buffer.from(got.subarray(FRAME_BYTES)), Buffer.from(want), `id ${id}`);
        const head = WatchResponse.encode(
          WatchResponse.create({ header: encoder.header(9n, 4n), watchId: id }),
        );
        assert.equal(encoder.headBytes(9n, 4n, id), head.length);
      }
    }
  });

  void it('a slice of the events, and a new header when the revision or the term changes', () => {
    const events = [put('a', 5n), put('b', 6n), put('c', 7n)];
    const bytes = events.map((e) => Event.encode(e));
    for (const [rev, term] of [
      [7n, 4n],
      [8n, 4n],
      [8n, 5n],
    ] as const) {
      const got = encoder.encodeEvents(rev, term, 2n, bytes, 1, 3, false);
      const decoded = WatchResponse.decode(got.subarray(FRAME_BYTES));
      assert.deepStrictEqual(decoded.header, encoder.header(rev, term));
      assert.deepStrictEqual(
        decoded.events.map((e) => e.kv!.modRevision),
        [6n, 7n],
      );
    }
  });

  void it('control responses leave the frame prefix and encode the message after it', () => {
    const r = {
      header: encoder.header(3n, 2n),
      watchId: -1n,
      created: true,
      canceled: true,
      cancelReason: 'x',
    };
    const got = encodeControl(r);
    assert.deepStrictEqual(
      Buffer.from(got.subarray(FRAME_BYTES)),
      Buffer.from(WatchResponse.encode(WatchResponse.create(r))),
    );
  });

  void it('fragments exactly where etcd 3.4 splits, for many sizes and limits', () => {
    const header = encoder.header(1000n, 3n);
    for (let seed = 1; seed <= 40; seed++) {
      const n = 1 + (seed % 9);
      const events = Array.from({ length: n }, (_, i) =>
        put(`k${i}`, 100n + BigInt(i), (seed * 37 + i * 101) % 700),
      );
      const lens = events.map((e) => Event.encode(e).length);
      for (const max of [1, 50, 200, 400, 800, 1500, 5000]) {
        const wr = WatchResponse.create({ header, watchId: BigInt(seed), events });
        const want = etcdFragments(wr, max).map((m) => m.events.length);
        const got = fragmentCounts(encoder.headBytes(1000n, 3n, BigInt(seed)), lens, max);
        assert.deepStrictEqual(got, want, `seed ${seed} max ${max}`);
      }
    }
  });
});
