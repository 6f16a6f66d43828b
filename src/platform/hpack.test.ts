// HPACK: RFC 7541 Appendix C examples for integers, Huffman and the decoder's dynamic table, and the
// literal-only encoder's round trip (what the :authority shim relies on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeLiteralHeaderList,
  encodeLiteralHeaders,
  HpackDecoder,
  HpackError,
  readInteger,
  writeInteger,
  type HeaderList,
} from './hpack.js';
import { huffmanDecode, huffmanEncode } from './hpack-huffman.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s/g, ''), 'hex'));
const pairs = (l: HeaderList): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i < l.length; i += 2) out.push([l[i]!, l[i + 1]!]);
  return out;
};
function decode(d: HpackDecoder, hex: string): [string, string][] {
  const b = bytes(hex);
  const out: HeaderList = [];
  d.decode(b, 0, b.length, out);
  return pairs(out);
}

test('Huffman: RFC 7541 C.4 strings encode to the published bytes and decode back', () => {
  const cases: [string, string][] = [
    ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
    ['no-cache', 'a8eb10649cbf'],
    ['custom-key', '25a849e95ba97d7f'],
    ['custom-value', '25a849e95bb8e8b4bf'],
  ];
  for (const [s, hex] of cases) {
    assert.equal(Buffer.from(huffmanEncode(s)).toString('hex'), hex, s);
    const b = bytes(hex);
    assert.equal(huffmanDecode(b, 0, b.length), s);
  }
});

test('Huffman: every latin1 byte round-trips, alone and in one long string', () => {
  let all = '';
  for (let c = 0; c < 256; c++) {
    const s = String.fromCharCode(c);
    const e = huffmanEncode(s);
    assert.equal(huffmanDecode(e, 0, e.length), s, `byte ${c}`);
    all += s;
  }
  const e = huffmanEncode(all + all);
  assert.equal(huffmanDecode(e, 0, e.length), all + all);
});

test('Huffman: padding that is not all ones, or longer than 7 bits, is rejected', () => {
  // '0' is 00000 (5 bits): padding with 000 is invalid, with 111 valid.
  assert.equal(huffmanDecode(Uint8Array.of(0x07), 0, 1), '0');
  assert.throws(() => huffmanDecode(Uint8Array.of(0x00), 0, 1), /padding is not the EOS prefix/);
  assert.throws(() => huffmanDecode(Uint8Array.of(0x07, 0xff), 0, 2), /longer than 7 bits/);
});

test('integers: RFC 7541 C.1 examples (10 in 5 bits, 1337 in 5 bits, 42 in 8 bits)', () => {
  const cases: [number, number, string][] = [
    [10, 5, '0a'],
    [1337, 5, '1f9a0a'],
    [42, 8, '2a'],
  ];
  for (const [v, prefix, hex] of cases) {
    const out: number[] = [];
    writeInteger(out, v, prefix, 0);
    assert.equal(Buffer.from(out).toString('hex'), hex);
    const b = bytes(hex);
    assert.deepEqual(readInteger(b, 0, b.length, prefix), [v, b.length]);
  }
  assert.throws(() => readInteger(bytes('1f9a'), 0, 2, 5), /truncated integer/);
});

test('decoder: RFC 7541 C.3 requests without Huffman, sharing one dynamic table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, '828684410f7777772e6578616d706c652e636f6d'), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ]);
  assert.equal(d.dynamicTableSize, 57);
  assert.deepEqual(decode(d, '828684be58086e6f2d6361636865'), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ]);
  assert.equal(d.dynamicTableSize, 110);
  assert.deepEqual(decode(d, '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'), [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ]);
  assert.equal(d.dynamicTableSize, 164);
  assert.equal(d.dynamicTableLength, 3);
});

test('decoder: RFC 7541 C.4 requests with Huffman give the same headers and table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, '828684418cf1e3c2e5f23a6ba0ab90f4ff')[3], [':authority', 'www.example.com']);
  assert.deepEqual(decode(d, '828684be5886a8eb10649cbf')[4], ['cache-control', 'no-cache']);
  assert.deepEqual(decode(d, '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf')[4], [
    'custom-key',
    'custom-value',
  ]);
  assert.equal(d.dynamicTableSize, 164);
});

test('decoder: entries are evicted oldest first when the table is full', () => {
  const d = new HpackDecoder(100);
  // Literal with incremental indexing, new name: 'aaaa' = 'bbbb' (size 40) three times with new values.
  decode(d, '4004616161610462626231'); // aaaa: bbb1
  decode(d, '4004616161610462626232'); // aaaa: bbb2
  assert.equal(d.dynamicTableLength, 2);
  decode(d, '4004616161610462626233'); // evicts bbb1
  assert.equal(d.dynamicTableLength, 2);
  assert.deepEqual(decode(d, 'bebf'), [
    ['aaaa', 'bbb3'],
    ['aaaa', 'bbb2'],
  ]);
  assert.throws(() => decode(d, 'c0'), /beyond the dynamic table/);
});

test('decoder: size updates shrink the table, must come first, and may not exceed our limit', () => {
  const d = new HpackDecoder(4096);
  decode(d, '4004616161610462626231');
  assert.equal(d.dynamicTableLength, 1);
  assert.deepEqual(decode(d, '2082'), [[':method', 'GET']]); // size update to 0, then an indexed field
  assert.equal(d.dynamicTableLength, 0);
  assert.throws(() => decode(d, '8220'), /size update after a header field/);
  assert.throws(() => decode(new HpackDecoder(4096), '3fe21f'), /too large/); // 4097 > 4096
});

test('decoder: literal never indexed and without indexing do not touch the table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(decode(d, '1004616161610162'), [['aaaa', 'b']]);
  assert.deepEqual(decode(d, '0f1003616263'), [['content-type', 'abc']]);
  assert.equal(d.dynamicTableLength, 0);
});

test('encoder: gRPC request headers as literals without indexing decode to the same list', () => {
  const headers: [string, string][] = [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/etcdserverpb.KV/Put'],
    [':authority', '127.0.0.1:2379'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
  ];
  const block = encodeLiteralHeaders(headers);
  // :method POST and :scheme http are fully indexed (static 3 and 6).
  assert.deepEqual([...block.subarray(0, 2)], [0x83, 0x86]);
  const d = new HpackDecoder();
  const out: HeaderList = [];
  d.decode(block, 0, block.length, out);
  assert.deepEqual(pairs(out), headers);
  assert.equal(d.dynamicTableLength, 0);
});

test('round trip: blocks that index into the dynamic table re-encode as literals to the same lists', () => {
  // RFC 7541 C.4 (Huffman, indexing) decoded by one decoder, re-encoded, decoded by a fresh decoder
  // per block: the literal encoding carries no reference to any table.
  const d = new HpackDecoder();
  for (const hex of [
    '828684418cf1e3c2e5f23a6ba0ab90f4ff',
    '828684be5886a8eb10649cbf',
    '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
  ]) {
    const b = bytes(hex);
    const list: HeaderList = [];
    d.decode(b, 0, b.length, list);
    const again = encodeLiteralHeaderList(list);
    const fresh = new HpackDecoder();
    const out: HeaderList = [];
    fresh.decode(again, 0, again.length, out);
    assert.deepEqual(out, list);
    assert.equal(fresh.dynamicTableLength, 0);
  }
  assert.equal(d.dynamicTableLength, 3);
});

test('round trip: every octet value, long strings (multi-byte lengths) and unknown names survive', () => {
  let all = '';
  for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
  const list: HeaderList = [
    ':authority',
    'http://127.0.0.1:2379',
    'x-bin',
    all,
    'x-long',
    'v'.repeat(70_000),
    ':status',
    '200',
    'content-type',
    'application/grpc',
  ];
  const block = encodeLiteralHeaderList(list);
  const out: HeaderList = [];
  new HpackDecoder().decode(block, 0, block.length, out);
  assert.deepEqual(out, list);
  // ':status: 200' is static entry 8, fully indexed.
  assert.ok(block.includes(0x88));
});

test('encoder: size updates go first, and the decoder reports the ones it read', () => {
  const block = encodeLiteralHeaderList([':method', 'POST'], [0, 4096]);
  assert.deepEqual([...block], [0x20, 0x3f, 0xe1, 0x1f, 0x83]);
  const d = new HpackDecoder();
  const out: HeaderList = [];
  const updates: number[] = [];
  d.decode(block, 0, block.length, out, updates);
  assert.deepEqual(updates, [0, 4096]);
  assert.deepEqual(out, [':method', 'POST']);
  assert.equal(d.dynamicTableLimit, 4096);
});

test('decoder: malformed blocks throw HpackError, never anything else', () => {
  const bad = ['ff', '7f', '41', '4105616263', '00ff', '0085f1e3c2', 'fe', '8f0f'];
  for (const hex of bad) {
    const b = bytes(hex);
    assert.throws(() => new HpackDecoder().decode(b, 0, b.length, []), HpackError, hex);
  }
  // A Huffman string whose padding is zeros.
  assert.throws(() => new HpackDecoder().decode(bytes('008100'), 0, 3, []), HpackError);
});

test('encoder: strings that are not latin1 are refused', () => {
  assert.throws(() => encodeLiteralHeaders([['x', '\u20ac']]), HpackError);
});
