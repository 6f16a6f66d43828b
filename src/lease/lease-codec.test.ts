import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeLeaseInternalRequest,
  decodeLeaseInternalResponse,
  decodeLeaseRecord,
  encodeLeaseInternalRequest,
  encodeLeaseInternalResponse,
  encodeLeaseRecord,
  leaseIdFromKey,
  leaseIdKey,
} from './lease-codec.js';

test('a lease record encodes as etcd writes leasepb.Lease (zero fields left out)', () => {
  assert.deepEqual([...encodeLeaseRecord({ ID: 1n, TTL: 10n, RemainingTTL: 0n })], [0x08, 0x01, 0x10, 0x0a]);
  assert.deepEqual(
    [...encodeLeaseRecord({ ID: 0x7fn, TTL: 300n, RemainingTTL: 7n })],
    [0x08, 0x7f, 0x10, 0xac, 0x02, 0x18, 0x07],
  );
});

test('lease records round-trip, including negative and maximal IDs', () => {
  for (const r of [
    { ID: 1n, TTL: 2n, RemainingTTL: 0n },
    { ID: -5n, TTL: 9_000_000_000n, RemainingTTL: 8_999_999_999n },
    { ID: (1n << 63n) - 1n, TTL: 60n, RemainingTTL: 1n },
    { ID: -(1n << 63n), TTL: 0n, RemainingTTL: 0n },
  ]) {
    assert.deepEqual(decodeLeaseRecord(encodeLeaseRecord(r)), r);
  }
  // A negative int64 takes the full ten varint bytes.
  assert.equal(encodeLeaseRecord({ ID: -1n, TTL: 0n, RemainingTTL: 0n }).length, 11);
});

test('a lease record skips unknown fields and refuses a wrong wire type', () => {
  assert.deepEqual(decodeLeaseRecord(Uint8Array.from([0x08, 0x03, 0x22, 0x01, 0x00, 0x10, 0x05])), {
    ID: 3n,
    TTL: 5n,
    RemainingTTL: 0n,
  });
  assert.throws(() => decodeLeaseRecord(Uint8Array.from([0x0a, 0x00])), /wrong wire type/);
});

test('the bucket key is the ID in 8 bytes big-endian', () => {
  assert.deepEqual([...leaseIdKey(0x0102030405060708n)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...leaseIdKey(-1n)], [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.equal(leaseIdFromKey(leaseIdKey(-2n)), -2n);
  assert.equal(leaseIdFromKey(leaseIdKey(0x694d71ddacfda227n)), 0x694d71ddacfda227n);
});

test('LeaseInternalRequest wraps a LeaseTimeToLiveRequest in field 1', () => {
  const b = encodeLeaseInternalRequest({ ID: 5n, keys: true });
  assert.deepEqual([...b], [0x0a, 0x04, 0x08, 0x05, 0x10, 0x01]);
  assert.deepEqual(decodeLeaseInternalRequest(b), { ID: 5n, keys: true });
});

test('LeaseInternalResponse round-trips a LeaseTimeToLiveResponse with keys', () => {
  const resp = {
    header: { clusterId: 1n, memberId: 2n, revision: 3n, raftTerm: 4n },
    ID: 9n,
    TTL: 4n,
    grantedTTL: 10n,
    keys: [Uint8Array.from([0x61]), Uint8Array.from([0x62, 0x00])],
  };
  assert.deepEqual(decodeLeaseInternalResponse(encodeLeaseInternalResponse(resp)), resp);
});
