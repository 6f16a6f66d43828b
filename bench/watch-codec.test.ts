import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchRequest, WatchResponse, ResponseHeader } from '../src/generated/etcdserverpb.js';
import { Event, KeyValue } from '../src/generated/mvccpb.js';
import { grpcUnframe } from './grpc-codec.js';
import {
  decodeWatchResponse,
  encodeWatchCancel,
  encodeWatchCreate,
  encodeWatchProgress,
  EventType,
  frameMessages,
  WatchFilter,
} from './watch-codec.js';

const te = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('a create request with every field set decodes, field for field, with the generated codec', () => {
  const bytes = encodeWatchCreate({
    key: te.encode('foo'),
    rangeEnd: te.encode('fop'),
    startRevision: 300,
    progressNotify: true,
    filters: [WatchFilter.NOPUT, WatchFilter.NODELETE],
    prevKv: true,
    watchId: 7,
    fragment: true,
  });
  assert.deepEqual(WatchRequest.decode(bytes), {
    createRequest: {
      key: te.encode('foo'),
      rangeEnd: te.encode('fop'),
      startRevision: 300n,
      progressNotify: true,
      filters: [0, 1],
      prevKv: true,
      watchId: 7n,
      fragment: true,
    },
    cancelRequest: undefined,
    progressRequest: undefined,
  });
});

test('a create request with only a key is the generated codec bytes exactly (defaults left out)', () => {
  const expected = WatchRequest.encode(
    WatchRequest.create({ createRequest: { ...emptyCreate(), key: te.encode('k') } }),
  );
  assert.equal(hex(encodeWatchCreate({ key: te.encode('k') })), hex(expected));
  assert.equal(hex(encodeWatchCreate({ key: te.encode('k') })), '0a030a016b');
});

function emptyCreate(): NonNullable<WatchRequest['createRequest']> {
  return {
    key: new Uint8Array(0),
    rangeEnd: new Uint8Array(0),
    startRevision: 0n,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0n,
    fragment: false,
  };
}

test('cancel and progress requests are the oneof members 2 and 3', () => {
  assert.deepEqual(WatchRequest.decode(encodeWatchCancel(12)).cancelRequest, { watchId: 12n });
  assert.equal(hex(encodeWatchCancel(0)), '1200');
  assert.deepEqual(WatchRequest.decode(encodeWatchProgress()).progressRequest, {});
  assert.equal(hex(encodeWatchProgress()), '1a00');
});

test('negative or fractional ids are refused rather than encoded wrong', () => {
  assert.throws(() => encodeWatchCancel(-1), /watchId must be a non-negative integer/);
  assert.throws(() => encodeWatchCreate({ key: te.encode('k'), startRevision: 1.5 }), /startRevision/);
});

test('several requests framed back to back are separate gRPC messages', () => {
  const a = encodeWatchCreate({ key: te.encode('a') });
  const b = encodeWatchCancel(3);
  const framed = frameMessages([a, b]);
  assert.equal(framed.length, 5 + a.length + 5 + b.length);
  assert.equal(hex(grpcUnframe(framed.subarray(0, 5 + a.length))), hex(a));
  assert.equal(hex(grpcUnframe(framed.subarray(5 + a.length))), hex(b));
});

test('an event response decodes: revision, watch id, events with type, key, mod revision, value, prev_kv', () => {
  const bytes = WatchResponse.encode(
    WatchResponse.create({
      header: ResponseHeader.create({
        clusterId: 0xcdf818194e3a8c32n,
        memberId: 0x8e9e05c52164694dn,
        revision: 1234n,
        raftTerm: 3n,
      }),
      watchId: 42n,
      events: [
        Event.create({
          type: 0,
          kv: KeyValue.create({
            key: te.encode('k1'),
            modRevision: 1233n,
            createRevision: 2n,
            version: 9n,
            value: te.encode('v1'),
          }),
        }),
        Event.create({
          type: 1,
          kv: KeyValue.create({ key: te.encode('k2'), modRevision: 1234n }),
          prevKv: KeyValue.create({ key: te.encode('k2'), value: te.encode('old') }),
        }),
      ],
    }),
  );
  const m = decodeWatchResponse(bytes);
  assert.equal(m.revision, 1234);
  assert.equal(m.watchId, 42);
  assert.deepEqual(
    [m.created, m.canceled, m.fragment, m.compactRevision, m.cancelReason],
    [false, false, false, 0, ''],
  );
  assert.deepEqual(
    m.events.map((e) => [
      e.type,
      Buffer.from(e.key).toString(),
      e.modRevision,
      Buffer.from(e.value).toString(),
      e.hasPrevKv,
    ]),
    [
      [EventType.PUT, 'k1', 1233, 'v1', false],
      [EventType.DELETE, 'k2', 1234, '', true],
    ],
  );
});

test('created, canceled with compact revision and reason, and watch id -1 of a progress response', () => {
  const created = decodeWatchResponse(
    WatchResponse.encode(
      WatchResponse.create({ header: ResponseHeader.create({ revision: 1n }), watchId: 0n, created: true }),
    ),
  );
  assert.deepEqual(
    [created.created, created.watchId, created.revision, created.events.length],
    [true, 0, 1, 0],
  );
  const canceled = decodeWatchResponse(
    WatchResponse.encode(
      WatchResponse.create({
        watchId: 3n,
        canceled: true,
        compactRevision: 77n,
        cancelReason: 'mvcc: required revision has been compacted',
        fragment: true,
      }),
    ),
  );
  assert.deepEqual(
    [canceled.canceled, canceled.compactRevision, canceled.cancelReason, canceled.fragment],
    [true, 77, 'mvcc: required revision has been compacted', true],
  );
  const progress = decodeWatchResponse(WatchResponse.encode(WatchResponse.create({ watchId: -1n })));
  assert.equal(progress.watchId, -1);
});

test('malformed or out-of-range responses are errors, never misread', () => {
  assert.throws(() => decodeWatchResponse(Uint8Array.of(0x5a, 0x05, 0x01)), /runs past the message/);
  assert.throws(() => decodeWatchResponse(Uint8Array.of(0x10, 0x80)), /truncated varint/);
  const huge = WatchResponse.encode(WatchResponse.create({ watchId: 1n << 60n }));
  assert.throws(() => decodeWatchResponse(huge), /beyond 2\^53/);
  // Unknown fields of every wire type are skipped.
  assert.equal(decodeWatchResponse(Uint8Array.of(0x79, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x05)).watchId, 5);
});
