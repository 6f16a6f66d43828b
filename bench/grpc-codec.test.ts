import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseHeader, StatusResponse } from '../src/generated/etcdserverpb.js';
import {
  decodeRangeResponse,
  decodeStatusResponse,
  encodePutRequest,
  encodeRangeRequest,
  grpcFrame,
  grpcUnframe,
  readFields,
  responseRevision,
  varintSize,
  writeVarint,
} from './grpc-codec.js';
import { benchKey, benchValue, preparePut, prepareRange, prepareStatus, writeDecimal } from './request.js';

const te = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('PutRequest{key, value} encodes as fields 1 and 2, length-delimited (protoc byte order)', () => {
  assert.equal(hex(encodePutRequest(te.encode('foo'), te.encode('bar'))), '0a03666f6f1203626172');
});

test('PutRequest with a 256-byte value uses a two-byte length varint and decodes back', () => {
  const key = benchKey(42, 8);
  const value = benchValue(256);
  const m = encodePutRequest(key, value);
  // 256 as a varint is 80 02.
  assert.equal(hex(m.subarray(0, 13)), '0a08' + hex(te.encode('00000042')) + '128002');
  const fields = readFields(m);
  assert.deepEqual(
    fields.map((f) => [f.field, f.wire]),
    [
      [1, 2],
      [2, 2],
    ],
  );
  assert.deepEqual(Buffer.from(fields[0]!.bytes), Buffer.from(key));
  assert.deepEqual(Buffer.from(fields[1]!.bytes), Buffer.from(value));
  assert.equal(m.length, 2 + 8 + 1 + 2 + 256);
});

test('RangeRequest sets serializable as field 7 only when asked', () => {
  assert.equal(hex(encodeRangeRequest(te.encode('k'), false)), '0a016b');
  assert.equal(hex(encodeRangeRequest(te.encode('k'), true)), '0a016b3801');
  const f = readFields(encodeRangeRequest(te.encode('k'), true));
  assert.deepEqual(
    f.map((x) => [x.field, x.wire, x.varint]),
    [
      [1, 2, 0n],
      [7, 0, 1n],
    ],
  );
});

test('varints: sizes and bytes at the 7-bit boundaries', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 32, '8080808010'],
  ];
  for (const [n, want] of cases) {
    const out = new Uint8Array(10);
    const end = writeVarint(out, 0, n);
    assert.equal(hex(out.subarray(0, end)), want, `varint ${n}`);
    assert.equal(varintSize(n), want.length / 2, `size ${n}`);
  }
});

test('gRPC framing: 5-byte prefix with flag 0 and big-endian length; unframe checks both', () => {
  const framed = grpcFrame(te.encode('abc'));
  assert.equal(hex(framed), '0000000003616263');
  assert.equal(hex(grpcUnframe(framed)), '616263');
  assert.throws(() => grpcUnframe(framed.subarray(0, 7)), /frame says 3 bytes, body has 2/);
  assert.throws(() => grpcUnframe(Uint8Array.from([1, 0, 0, 0, 0])), /compressed flag is 1/);
  assert.throws(() => grpcUnframe(Uint8Array.from([0, 0])), /shorter than a frame/);
});

test('RangeResponse reader returns count, kvs and the header revision', () => {
  // header{cluster_id=1, revision=7}, kvs[{key="a", mod_revision=5, value="xyz"}], count=1
  const header = Uint8Array.from([0x08, 0x01, 0x18, 0x07]);
  const kv = Uint8Array.from([0x0a, 0x01, 0x61, 0x18, 0x05, 0x2a, 0x03, 0x78, 0x79, 0x7a]);
  const msg = Uint8Array.from([0x0a, header.length, ...header, 0x12, kv.length, ...kv, 0x20, 0x01]);
  const r = decodeRangeResponse(msg);
  assert.equal(r.count, 1n);
  assert.equal(r.kvs.length, 1);
  assert.equal(Buffer.from(r.kvs[0]!.key).toString(), 'a');
  assert.equal(Buffer.from(r.kvs[0]!.value).toString(), 'xyz');
  assert.equal(responseRevision(msg), 7n);
});

test('readFields rejects truncated input', () => {
  assert.throws(() => readFields(Uint8Array.from([0x0a, 0x05, 0x61])), /runs past the message/);
  assert.throws(() => readFields(Uint8Array.from([0x08, 0x80])), /truncated varint/);
});

test('prepared put: the key slot sits where the key digits are and rewriting it yields that key', () => {
  const p = preparePut('h:1', 8, benchValue(256));
  assert.equal(p.path, '/etcdserverpb.KV/Put');
  const body = Buffer.from(p.body);
  writeDecimal(body, p.keyOffsetInBody, p.keyLength, 12345);
  const f = readFields(grpcUnframe(body));
  assert.equal(Buffer.from(f[0]!.bytes).toString(), '00012345');
  assert.deepEqual(Buffer.from(f[1]!.bytes), Buffer.from(benchValue(256)));
  // The same slot inside the HTTP/2 template.
  const t = Buffer.from(p.template.bytes);
  writeDecimal(t, p.template.keyOffset, p.template.keyLength, 777);
  assert.equal(t.subarray(p.template.keyOffset, p.template.keyOffset + 8).toString(), '00000777');
});

test('prepared range carries the serializable flag in its body', () => {
  const lin = prepareRange('h:1', benchKey(0, 8), false);
  const ser = prepareRange('h:1', benchKey(0, 8), true);
  assert.equal(lin.path, '/etcdserverpb.KV/Range');
  assert.equal(hex(grpcUnframe(lin.body)), '0a08' + hex(te.encode('00000000')));
  assert.equal(hex(grpcUnframe(ser.body)), '0a08' + hex(te.encode('00000000')) + '3801');
  assert.equal(lin.keyOffsetInBody, -1);
});

test('bench keys are zero-padded decimal, keeping the low digits of wider numbers', () => {
  assert.equal(Buffer.from(benchKey(7, 8)).toString(), '00000007');
  assert.equal(Buffer.from(benchKey(123456789, 8)).toString(), '23456789');
  assert.equal(Buffer.from(benchKey(5, 16)).toString(), '0000000000000005');
});

test('StatusResponse: the answering member, the leader it names and the term, as etcd encodes them', () => {
  const b = StatusResponse.encode(
    StatusResponse.create({
      header: ResponseHeader.create({
        clusterId: 7n,
        memberId: 0x8e9e05c52164694dn,
        revision: 5n,
        raftTerm: 2n,
      }),
      version: '3.4.23',
      dbSize: 20480n,
      leader: 0xfedcba9876543210n,
      raftIndex: 9n,
      raftTerm: 3n,
      errors: ['x'],
    }),
  );
  assert.deepEqual(decodeStatusResponse(b), {
    memberId: 0x8e9e05c52164694dn,
    leader: 0xfedcba9876543210n,
    raftTerm: 3n,
  });
  assert.deepEqual(decodeStatusResponse(new Uint8Array(0)), { memberId: 0n, leader: 0n, raftTerm: 0n });
});

test('the Status request is an empty message to Maintenance/Status', () => {
  const req = prepareStatus('127.0.0.1:2379');
  assert.equal(req.path, '/etcdserverpb.Maintenance/Status');
  assert.equal(hex(req.body), '0000000000');
});
