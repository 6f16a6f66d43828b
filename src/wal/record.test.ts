import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../base/crc32c.js';
import {
  FLAG_BATCH_START,
  MAX_RECORD_BYTES,
  RecordType,
  decodeFrame,
  encodeBatch,
  frameCrc,
  parseFrame,
  type Frame,
  type WalRecord,
} from './record.js';

function frames(buf: Uint8Array): Frame[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Frame[] = [];
  for (let off = 0; off < buf.length;) {
    const f = parseFrame(buf, view, off);
    if (typeof f === 'string') assert.fail(`frame at ${off}: ${f}`);
    out.push(f);
    off = f.end;
  }
  return out;
}

const all: WalRecord[] = [
  { type: RecordType.Crc, crc: 0xdeadbeef },
  { type: RecordType.Metadata, data: new Uint8Array([1, 2, 3]) },
  {
    type: RecordType.Entry,
    entry: { term: 3n, index: 2n ** 63n + 5n, type: 1, data: new Uint8Array([9, 8, 7, 6, 5]) },
  },
  { type: RecordType.Entry, entry: { term: 0n, index: 1n, type: 0, data: new Uint8Array(0) } },
  { type: RecordType.State, state: { term: 2n ** 64n - 1n, vote: 7n, commit: 99n } },
  { type: RecordType.Snapshot, snapshot: { index: 1000n, term: 4n } },
];

void test('every record type round-trips through a batch', () => {
  const { bytes } = encodeBatch(all, 0);
  assert.deepEqual(frames(bytes).map(decodeFrame), all);
});

void test('frames are 8-byte aligned and the length word carries the padding as etcd does', () => {
  const { bytes } = encodeBatch([{ type: RecordType.Metadata, data: new Uint8Array(5) }], 0);
  // record = 8 header bytes + 5 payload bytes = 13, padded with 3.
  assert.equal(bytes.length, 8 + 13 + 3);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getBigUint64(0, true), 13n | (BigInt(0x80 | 3) << 56n));
  const unpadded = encodeBatch([{ type: RecordType.Metadata, data: new Uint8Array(8) }], 0).bytes;
  assert.equal(new DataView(unpadded.buffer).getBigUint64(0, true), 16n);
});

void test('only the first record of a batch is flagged as the batch start', () => {
  const { bytes } = encodeBatch(all, 0);
  assert.deepEqual(
    frames(bytes).map((f) => f.flags),
    [FLAG_BATCH_START, 0, 0, 0, 0, 0],
  );
});

void test('the crc chains across records and across batches', () => {
  const a = encodeBatch([{ type: RecordType.Metadata, data: new Uint8Array([1]) }], 0x1234);
  const b = encodeBatch([{ type: RecordType.Snapshot, snapshot: { index: 1n, term: 1n } }], a.crc);
  const [fa] = frames(a.bytes);
  const [fb] = frames(b.bytes);
  assert.equal(fa!.storedCrc, crc32c(fa!.payload, crc32c(fa!.head, 0x1234)));
  assert.equal(fa!.storedCrc, a.crc);
  assert.equal(frameCrc(fb!, a.crc), fb!.storedCrc);
  assert.notEqual(frameCrc(fb!, 0), fb!.storedCrc);
});

void test('a crc record stores the chain value it is given', () => {
  const r = encodeBatch([{ type: RecordType.Crc, crc: 77 }], 5);
  assert.equal(frames(r.bytes)[0]!.storedCrc, 77);
  assert.equal(r.crc, 77);
});

function corrupt(patch: (b: Uint8Array, v: DataView) => void): string {
  const { bytes } = encodeBatch(
    [{ type: RecordType.Entry, entry: { term: 1n, index: 1n, type: 0, data: new Uint8Array(3) } }],
    0,
  );
  const view = new DataView(bytes.buffer);
  patch(bytes, view);
  const f = parseFrame(bytes, view, 0);
  assert.equal(typeof f, 'string');
  return f as string;
}

void test('parseFrame rejects bytes that are not a record', () => {
  assert.equal(
    corrupt((b) => (b[8] = 9)),
    'unknown record type 9',
  );
  assert.equal(
    corrupt((b) => (b[9] = 2)),
    'unknown record flags 0x2',
  );
  assert.equal(
    corrupt((b) => (b[10] = 1)),
    'non-zero reserved header bytes',
  );
  assert.equal(
    corrupt((b) => (b[8 + 8 + 16] = 3)),
    'unknown entry type 3',
  );
  assert.equal(
    corrupt((b) => (b[b.length - 1] = 1)),
    'non-zero padding',
  );
  assert.equal(
    corrupt((b) => (b[7] = 0x40)),
    'bad length word high byte 0x40',
  );
  assert.equal(
    corrupt((b) => (b[7] = 0x81)),
    'padding 1 does not match record length 28',
  );
  assert.equal(
    corrupt((_, v) => v.setUint32(0, MAX_RECORD_BYTES + 1, true)),
    'record length exceeds the limit',
  );
  assert.equal(
    corrupt((_, v) => v.setUint32(0, 36, true)),
    'record runs past the end of the file',
  );
  assert.equal(
    corrupt((_, v) => v.setUint32(0, 4, true)),
    'record length 4 below the header size',
  );
  assert.equal(
    corrupt((b, v) => {
      v.setUint32(0, 8 + 10, true);
      b[7] = 0x86;
      b[8] = RecordType.Entry;
    }),
    'entry payload of 10 bytes',
  );
  const { bytes } = encodeBatch([{ type: RecordType.Metadata, data: new Uint8Array(0) }], 0);
  assert.equal(parseFrame(bytes.subarray(0, 5), new DataView(bytes.buffer, 0, 5), 0), 'partial length word');
});

void test('a record above the size limit is refused when encoding', () => {
  const data = new Uint8Array(MAX_RECORD_BYTES);
  assert.throws(
    () => encodeBatch([{ type: RecordType.Entry, entry: { term: 1n, index: 1n, type: 0, data } }], 0),
    /wal: max entry size limit exceeded/,
  );
});
