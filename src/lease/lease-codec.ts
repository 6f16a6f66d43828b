// The bytes leases are stored and forwarded as, in etcd 3.4's formats so a data dir and a peer read
// the same: the `lease` bucket maps the lease ID (8 bytes, big-endian, two's complement) to a
// leasepb.Lease {ID = 1, TTL = 2, RemainingTTL = 3}; a follower forwards LeaseTimeToLive to the
// leader as leasepb.LeaseInternalRequest {LeaseTimeToLiveRequest = 1} and reads back a
// leasepb.LeaseInternalResponse {LeaseTimeToLiveResponse = 1}. leasepb is not among the generated
// packages (it is etcd-internal), so its three small messages are coded here.
import { assert } from '../base/assert.js';
import {
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  type LeaseTimeToLiveRequest as TtlRequest,
  type LeaseTimeToLiveResponse as TtlResponse,
} from '../generated/etcdserverpb.js';
import { ProtoError, Reader } from '../generated/wire.js';

/** One row of the `lease` bucket (leasepb.Lease). RemainingTTL 0 means "the full TTL". */
export interface LeaseRecord {
  ID: bigint;
  TTL: bigint;
  RemainingTTL: bigint;
}

/** The bucket key of a lease: its ID as 8 bytes big-endian (negative IDs as their uint64 bits). */
export function leaseIdKey(id: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, id));
  return b;
}

/** The lease ID a bucket key holds; the key must be 8 bytes. */
export function leaseIdFromKey(key: Uint8Array): bigint {
  assert(key.length === 8, `lease bucket: key of ${key.length} bytes, want 8`);
  return new DataView(key.buffer, key.byteOffset, 8).getBigInt64(0);
}

function pushVarint(out: number[], v: bigint): void {
  let u = BigInt.asUintN(64, v);
  while (u > 0x7fn) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
}

function pushInt64Field(out: number[], field: number, v: bigint): void {
  if (v === 0n) return; // proto3 leaves default scalars out
  out.push(field << 3);
  pushVarint(out, v);
}

export function encodeLeaseRecord(r: LeaseRecord): Uint8Array {
  const out: number[] = [];
  pushInt64Field(out, 1, r.ID);
  pushInt64Field(out, 2, r.TTL);
  pushInt64Field(out, 3, r.RemainingTTL);
  return Uint8Array.from(out);
}

/** Decodes a leasepb.Lease; unknown fields are skipped, a malformed one throws ProtoError. */
export function decodeLeaseRecord(b: Uint8Array): LeaseRecord {
  const r = new Reader(b);
  const m: LeaseRecord = { ID: 0n, TTL: 0n, RemainingTTL: 0n };
  while (r.pos < b.length) {
    const t = r.uint32();
    if (t === 8) m.ID = r.int64();
    else if (t === 16) m.TTL = r.int64();
    else if (t === 24) m.RemainingTTL = r.int64();
    else if (t >>> 3 >= 1 && t >>> 3 <= 3) throw new ProtoError(`leasepb.Lease: wrong wire type in tag ${t}`);
    else r.skip(t);
  }
  return m;
}

/** A message with one embedded message in field 1 (the shape of both LeaseInternal* messages). */
function wrapField1(inner: Uint8Array): Uint8Array {
  const head: number[] = [0x0a];
  pushVarint(head, BigInt(inner.length));
  const out = new Uint8Array(head.length + inner.length);
  out.set(head, 0);
  out.set(inner, head.length);
  return out;
}

function unwrapField1<T>(b: Uint8Array, read: (r: Reader, end: number) => T, what: string): T | undefined {
  const r = new Reader(b);
  let out: T | undefined;
  while (r.pos < b.length) {
    const t = r.uint32();
    if (t === 0x0a) {
      const end = r.lenEnd();
      out = read(r, end);
    } else if (t >>> 3 === 1) throw new ProtoError(`${what}: wrong wire type in tag ${t}`);
    else r.skip(t);
  }
  return out;
}

export function encodeLeaseInternalRequest(req: TtlRequest): Uint8Array {
  return wrapField1(LeaseTimeToLiveRequest.encode(req));
}

export function decodeLeaseInternalRequest(b: Uint8Array): TtlRequest {
  return (
    unwrapField1(b, (r, end) => LeaseTimeToLiveRequest._read(r, end), 'leasepb.LeaseInternalRequest') ??
    LeaseTimeToLiveRequest.create()
  );
}

export function encodeLeaseInternalResponse(resp: TtlResponse): Uint8Array {
  return wrapField1(LeaseTimeToLiveResponse.encode(resp));
}

export function decodeLeaseInternalResponse(b: Uint8Array): TtlResponse {
  return (
    unwrapField1(b, (r, end) => LeaseTimeToLiveResponse._read(r, end), 'leasepb.LeaseInternalResponse') ??
    LeaseTimeToLiveResponse.create()
  );
}
