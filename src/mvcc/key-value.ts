// KeyValue and Event, shaped exactly like the generated mvccpb.KeyValue / mvccpb.Event so either
// type can stand for the other, and the protobuf codec for KeyValue that the `key` bucket stores
// (etcd's on-disk value format: key=1 bytes, create_revision=2, mod_revision=3, version=4 int64,
// value=5 bytes, lease=6 int64; zero fields omitted, as gogoproto writes them). It is a
// hand-written codec because it is on every put's and every range's path.
import { assert, AssertionError } from '../base/assert.js';

export interface KeyValue {
  key: Uint8Array;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  value: Uint8Array;
  lease: bigint;
}

export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface Event {
  /** EventType.PUT or EventType.DELETE. */
  type: number;
  kv: KeyValue;
  prevKv?: KeyValue;
}

const EMPTY = new Uint8Array(0);

// A bigint moves into two 32-bit halves through one scratch word: storing into a BigUint64Array
// wraps it to 64 bits (negative int64 needs no special case), cheaper than bigint shifts.
const SCRATCH_U64 = new BigUint64Array(1);
const SCRATCH_I64 = new BigInt64Array(SCRATCH_U64.buffer);
const SCRATCH_U32 = new Uint32Array(SCRATCH_U64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = LITTLE_ENDIAN ? 1 : 0;

const allocBytes: (n: number) => Uint8Array =
  typeof Buffer === 'function' ? (n) => Buffer.allocUnsafe(n) : (n) => new Uint8Array(n);

function sizeVarint32(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

function sizeVarint64(v: bigint): number {
  SCRATCH_U64[0] = v;
  const hi = SCRATCH_U32[HI]!;
  const lo = SCRATCH_U32[LO]!;
  if (hi === 0) return sizeVarint32(lo);
  // Bits above 32: every 7 more bits cost a byte; 64 bits take 10.
  const bits = 32 - Math.clz32(hi);
  return Math.ceil((32 + bits) / 7);
}

function writeVarint64(out: Uint8Array, pos: number, v: bigint): number {
  SCRATCH_U64[0] = v;
  let lo = SCRATCH_U32[LO]!;
  let hi = SCRATCH_U32[HI]!;
  while (hi !== 0 || lo > 0x7f) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
  return pos;
}

function writeVarint32(out: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const { key, value } = kv;
  let n = 0;
  if (key.length !== 0) n += 1 + sizeVarint32(key.length) + key.length;
  if (kv.createRevision !== 0n) n += 1 + sizeVarint64(kv.createRevision);
  if (kv.modRevision !== 0n) n += 1 + sizeVarint64(kv.modRevision);
  if (kv.version !== 0n) n += 1 + sizeVarint64(kv.version);
  if (value.length !== 0) n += 1 + sizeVarint32(value.length) + value.length;
  if (kv.lease !== 0n) n += 1 + sizeVarint64(kv.lease);
  const out = allocBytes(n);
  let p = 0;
  if (key.length !== 0) {
    out[p++] = 0x0a;
    p = writeVarint32(out, p, key.length);
    out.set(key, p);
    p += key.length;
  }
  if (kv.createRevision !== 0n) {
    out[p++] = 0x10;
    p = writeVarint64(out, p, kv.createRevision);
  }
  if (kv.modRevision !== 0n) {
    out[p++] = 0x18;
    p = writeVarint64(out, p, kv.modRevision);
  }
  if (kv.version !== 0n) {
    out[p++] = 0x20;
    p = writeVarint64(out, p, kv.version);
  }
  if (value.length !== 0) {
    out[p++] = 0x2a;
    p = writeVarint32(out, p, value.length);
    out.set(value, p);
    p += value.length;
  }
  if (kv.lease !== 0n) {
    out[p++] = 0x30;
    p = writeVarint64(out, p, kv.lease);
  }
  assert(p === n, 'KeyValue encoder size mismatch');
  return out;
}

/** The tombstone a delete stores: a KeyValue holding only the key. */
export function encodeTombstone(key: Uint8Array): Uint8Array {
  return encodeKeyValue({ key, createRevision: 0n, modRevision: 0n, version: 0n, value: EMPTY, lease: 0n });
}

/** Reads a varint at pos into the scratch word; returns the position after it. */
function readVarint(b: Uint8Array, pos: number): number {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (;;) {
    assert(pos < b.length, 'truncated varint in stored KeyValue');
    const byte = b[pos++]!;
    if (shift < 28) lo |= (byte & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (byte & 0x0f) << 28;
      hi |= (byte & 0x7f) >>> 4;
    } else {
      assert(shift < 70, 'varint too long in stored KeyValue');
      hi |= (byte & 0x7f) << (shift - 32);
    }
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  SCRATCH_U32[LO] = lo >>> 0;
  SCRATCH_U32[HI] = hi >>> 0;
  return pos;
}

/** Decodes a stored KeyValue. key and value are views into b, which must not be mutated. */
export function decodeKeyValue(b: Uint8Array, keysOnly = false): KeyValue {
  const kv: KeyValue = {
    key: EMPTY,
    createRevision: 0n,
    modRevision: 0n,
    version: 0n,
    value: EMPTY,
    lease: 0n,
  };
  let p = 0;
  while (p < b.length) {
    const tag = b[p++]!;
    if (tag === 0x0a || tag === 0x2a) {
      p = readVarint(b, p);
      const len = SCRATCH_U32[LO]!;
      assert(SCRATCH_U32[HI] === 0 && p + len <= b.length, 'truncated bytes field in stored KeyValue');
      if (tag === 0x0a) kv.key = b.subarray(p, p + len);
      else if (!keysOnly) kv.value = b.subarray(p, p + len);
      p += len;
      continue;
    }
    if ((tag & 7) !== 0 || tag < 0x10 || tag > 0x30) {
      throw new AssertionError(`unexpected field tag ${tag} in stored KeyValue`);
    }
    p = readVarint(b, p);
    const v = SCRATCH_I64[0]!;
    if (tag === 0x10) kv.createRevision = v;
    else if (tag === 0x18) kv.modRevision = v;
    else if (tag === 0x20) kv.version = v;
    else if (tag === 0x30) kv.lease = v;
  }
  return kv;
}
