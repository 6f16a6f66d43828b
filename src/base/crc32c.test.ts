import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from './crc32c.js';

// Bit-at-a-time reference, straight from the definition, to cross-check the sliced tables.
function reference(data: Uint8Array, prev = 0): number {
  let c = ~prev >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

function bytes(n: number, f: (i: number) => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = f(i);
  return b;
}

void test('RFC 3720 B.4: 32 bytes of zeros', () => {
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
});

void test('RFC 3720 B.4: 32 bytes of 0xff', () => {
  assert.equal(crc32c(bytes(32, () => 0xff)), 0x62a8ab43);
});

void test('RFC 3720 B.4: 32 incrementing bytes', () => {
  assert.equal(crc32c(bytes(32, (i) => i)), 0x46dd794e);
});

void test('RFC 3720 B.4: 32 decrementing bytes', () => {
  assert.equal(crc32c(bytes(32, (i) => 31 - i)), 0x113fdb5c);
});

void test('RFC 3720 B.4: iSCSI read command PDU', () => {
  const pdu = new Uint8Array(48);
  pdu.set([0x01, 0xc0], 0);
  pdu[16] = 0x14;
  pdu[22] = 0x04;
  pdu[27] = 0x14;
  pdu[31] = 0x18;
  pdu[32] = 0x28;
  pdu[40] = 0x02;
  assert.equal(crc32c(pdu), 0xd9963a56);
});

void test('the check value of "123456789" is 0xe3069283', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

void test('empty input leaves the running value unchanged', () => {
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(0), 0x12345678), 0x12345678);
});

void test('matches the bitwise definition for every length 0..100 and any split point', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let n = 0; n <= 100; n++) {
    const data = bytes(n, rnd);
    const whole = crc32c(data);
    assert.equal(whole, reference(data), `length ${n}`);
    for (let cut = 0; cut <= n; cut += 7) {
      assert.equal(
        crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))),
        whole,
        `length ${n} cut ${cut}`,
      );
    }
  }
});

void test('works on a subarray with an unaligned byte offset', () => {
  const buf = bytes(64, (i) => i * 3);
  assert.equal(crc32c(buf.subarray(3, 51)), reference(buf.subarray(3, 51)));
});
