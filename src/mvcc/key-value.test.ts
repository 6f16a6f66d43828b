import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../base/bytes.js';
import { mvccpb } from '../generated/index.js';
import { decodeKeyValue, encodeKeyValue, encodeTombstone, type Event, type KeyValue } from './key-value.js';
import { bytesToRev, isTombstone, mainRevBytes, revToBytes } from './revision.js';

const kv = (o: Partial<KeyValue>): KeyValue => ({
  key: utf8('k'),
  createRevision: 0n,
  modRevision: 0n,
  version: 0n,
  value: new Uint8Array(0),
  lease: 0n,
  ...o,
});

const plain = (m: KeyValue): unknown => ({ ...m, key: Array.from(m.key), value: Array.from(m.value) });

void describe('KeyValue codec', () => {
  const cases: KeyValue[] = [
    kv({}),
    kv({
      key: utf8('foo'),
      createRevision: 2n,
      modRevision: 5n,
      version: 3n,
      value: utf8('bar'),
      lease: 0x1234n,
    }),
    kv({ createRevision: 127n, modRevision: 128n, version: 16383n, lease: 16384n }),
    kv({
      createRevision: (1n << 31n) - 1n,
      modRevision: 1n << 31n,
      version: (1n << 35n) + 7n,
      lease: (1n << 63n) - 1n,
    }),
    kv({ lease: -1n, version: -(1n << 62n) }),
    kv({ key: new Uint8Array(300).fill(1), value: new Uint8Array(70000).fill(2) }),
  ];

  void it('writes the same bytes as the generated mvccpb codec and reads them back', () => {
    for (const c of cases) {
      const ours = encodeKeyValue(c);
      assert.deepEqual(Array.from(ours), Array.from(mvccpb.KeyValue.encode(c)));
      assert.deepEqual(plain(decodeKeyValue(ours)), plain(c));
      assert.deepEqual(plain(mvccpb.KeyValue.decode(ours)), plain(c));
    }
  });

  void it('a tombstone holds only the key', () => {
    const t = encodeTombstone(utf8('gone'));
    assert.deepEqual(Array.from(t), [0x0a, 4, ...utf8('gone')]);
    assert.deepEqual(plain(decodeKeyValue(t)), plain(kv({ key: utf8('gone') })));
  });

  void it('keysOnly leaves the value out', () => {
    const b = encodeKeyValue(kv({ value: utf8('v'), version: 1n }));
    assert.equal(decodeKeyValue(b, true).value.length, 0);
    assert.equal(decodeKeyValue(b, true).version, 1n);
  });

  void it('refuses truncated input', () => {
    const b = encodeKeyValue(kv({ key: utf8('foo'), value: utf8('bar'), modRevision: 300n }));
    assert.throws(() => decodeKeyValue(b.subarray(0, b.length - 1)));
  });

  void it('our KeyValue and Event are interchangeable with the generated types', () => {
    const ours: KeyValue = mvccpb.KeyValue.create({ key: utf8('a') });
    const theirs: mvccpb.KeyValue = ours;
    const ev: Event = { type: mvccpb.Event_EventType.PUT, kv: theirs };
    const gen: mvccpb.Event = ev;
    assert.equal(gen.kv?.key[0], 0x61);
  });
});

void describe('revision codec', () => {
  void it('is 8 bytes big-endian main, "_", 8 bytes big-endian sub, plus "t" for a tombstone', () => {
    const b = revToBytes({ main: 0x0102n, sub: 3n });
    assert.deepEqual(Array.from(b), [0, 0, 0, 0, 0, 0, 1, 2, 0x5f, 0, 0, 0, 0, 0, 0, 0, 3]);
    const t = revToBytes({ main: 5n, sub: 0n }, true);
    assert.equal(t.length, 18);
    assert.equal(t[17], 0x74);
    assert.ok(isTombstone(t));
    assert.ok(!isTombstone(b));
    assert.deepEqual(bytesToRev(t), { main: 5n, sub: 0n });
    assert.deepEqual(bytesToRev(b), { main: 0x0102n, sub: 3n });
    assert.deepEqual(Array.from(mainRevBytes(258n)), [0, 0, 0, 0, 0, 0, 1, 2]);
  });

  void it('orders revisions like their bytes', () => {
    const a = revToBytes({ main: 255n, sub: 9n });
    const b = revToBytes({ main: 256n, sub: 0n });
    const c = revToBytes({ main: 256n, sub: 0n }, true);
    assert.ok(Buffer.compare(a, b) < 0);
    assert.ok(Buffer.compare(b, c) < 0);
    assert.ok(Buffer.compare(c, revToBytes({ main: 256n, sub: 1n })) < 0);
  });
});
