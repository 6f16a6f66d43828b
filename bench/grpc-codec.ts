// The few etcd protobuf messages the benchmark sends, encoded by hand so a request costs a memcpy,
// plus gRPC's 5-byte message framing and a small reader for the replies the benchmark checks.
// Field numbers are etcd's: PutRequest{key=1 bytes, value=2 bytes},
// RangeRequest{key=1 bytes, serializable=7 bool}, RangeResponse{header=1, kvs=2, more=3, count=4},
// KeyValue{key=1, create_revision=2, mod_revision=3, version=4, value=5, lease=6},
// ResponseHeader{cluster_id=1, member_id=2, revision=3, raft_term=4},
// StatusResponse{header=1, ..., leader=4, raftIndex=5, raftTerm=6}.

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Length in bytes of `n` as a protobuf varint (n a non-negative safe integer). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Writes `n` as a varint at out[p]; returns the offset after it. */
export function writeVarint(out: Uint8Array, p: number, n: number): number {
  while (n >= 0x80) {
    out[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[p++] = n;
  return p;
}

function bytesFieldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function writeBytesField(out: Uint8Array, p: number, tag: number, b: Uint8Array): number {
  out[p++] = tag;
  p = writeVarint(out, p, b.length);
  out.set(b, p);
  return p + b.length;
}

/** etcdserverpb.PutRequest with only key and value set. */
export function encodePutRequest(key: Uint8Array, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytesFieldSize(key.length) + bytesFieldSize(value.length));
  let p = writeBytesField(out, 0, (1 << 3) | WIRE_LEN, key);
  p = writeBytesField(out, p, (2 << 3) | WIRE_LEN, value);
  return out.subarray(0, p);
}

/** etcdserverpb.RangeRequest for one key; `serializable` sets field 7 (omitted when false). */
export function encodeRangeRequest(key: Uint8Array, serializable: boolean): Uint8Array {
  const out = new Uint8Array(bytesFieldSize(key.length) + 2);
  let p = writeBytesField(out, 0, (1 << 3) | WIRE_LEN, key);
  if (serializable) {
    out[p++] = (7 << 3) | WIRE_VARINT;
    out[p++] = 1;
  }
  return out.subarray(0, p);
}

/** gRPC length-prefixed message: 1 byte "compressed" flag (0), 4 bytes big-endian length, bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/**
 * Checks that `body` is exactly one uncompressed gRPC message and returns its payload; throws with
 * a reason otherwise.
 */
export function grpcUnframe(body: Uint8Array): Uint8Array {
  if (body.length < 5) throw new Error(`grpc: reply body of ${body.length} bytes is shorter than a frame`);
  if (body[0] !== 0) throw new Error(`grpc: reply compressed flag is ${body[0]}`);
  const len = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(1);
  if (5 + len !== body.length)
    throw new Error(`grpc: reply frame says ${len} bytes, body has ${body.length - 5}`);
  return body.subarray(5);
}

/** One field of a protobuf message: number, wire type, and the varint value or the bytes. */
export interface ProtoField {
  field: number;
  wire: number;
  varint: bigint;
  bytes: Uint8Array;
}

function readVarint(b: Uint8Array, p: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (p >= b.length) throw new Error('protobuf: truncated varint');
    const x = b[p++] ?? 0;
    v |= BigInt(x & 0x7f) << shift;
    if ((x & 0x80) === 0) return [v, p];
    shift += 7n;
    if (shift > 63n) throw new Error('protobuf: varint longer than 10 bytes');
  }
}

/** Splits a protobuf message into its fields, in wire order. */
export function readFields(b: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let p = 0;
  const empty = new Uint8Array(0);
  while (p < b.length) {
    const [tag, q] = readVarint(b, p);
    p = q;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === WIRE_VARINT) {
      const [v, q2] = readVarint(b, p);
      out.push({ field, wire, varint: v, bytes: empty });
      p = q2;
    } else if (wire === WIRE_LEN) {
      const [len, q2] = readVarint(b, p);
      const end = q2 + Number(len);
      if (end > b.length) throw new Error('protobuf: length-delimited field runs past the message');
      out.push({ field, wire, varint: 0n, bytes: b.subarray(q2, end) });
      p = end;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (p + n > b.length) throw new Error('protobuf: truncated fixed field');
      out.push({ field, wire, varint: 0n, bytes: b.subarray(p, p + n) });
      p += n;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** What the benchmark checks in a RangeResponse: the count and each kv's key and value. */
export interface RangeSummary {
  count: bigint;
  kvs: { key: Uint8Array; value: Uint8Array }[];
}

export function decodeRangeResponse(b: Uint8Array): RangeSummary {
  const summary: RangeSummary = { count: 0n, kvs: [] };
  for (const f of readFields(b)) {
    if (f.field === 4 && f.wire === WIRE_VARINT) summary.count = f.varint;
    if (f.field === 2 && f.wire === WIRE_LEN) {
      const kv: { key: Uint8Array; value: Uint8Array } = { key: new Uint8Array(0), value: new Uint8Array(0) };
      for (const g of readFields(f.bytes)) {
        if (g.field === 1 && g.wire === WIRE_LEN) kv.key = g.bytes;
        if (g.field === 5 && g.wire === WIRE_LEN) kv.value = g.bytes;
      }
      summary.kvs.push(kv);
    }
  }
  return summary;
}

/** The revision in a response's header (field 1 of every etcd response; revision is its field 3). */
export function responseRevision(b: Uint8Array): bigint {
  for (const f of readFields(b)) {
    if (f.field === 1 && f.wire === WIRE_LEN) {
      for (const g of readFields(f.bytes)) if (g.field === 3 && g.wire === WIRE_VARINT) return g.varint;
    }
  }
  return 0n;
}

/** What the benchmark reads from a Maintenance StatusResponse: who answered and whom it follows. */
export interface StatusSummary {
  memberId: bigint;
  leader: bigint;
  raftTerm: bigint;
}

export function decodeStatusResponse(b: Uint8Array): StatusSummary {
  const summary: StatusSummary = { memberId: 0n, leader: 0n, raftTerm: 0n };
  for (const f of readFields(b)) {
    if (f.field === 1 && f.wire === WIRE_LEN) {
      for (const g of readFields(f.bytes))
        if (g.field === 2 && g.wire === WIRE_VARINT) summary.memberId = g.varint;
    }
    if (f.field === 4 && f.wire === WIRE_VARINT) summary.leader = f.varint;
    if (f.field === 6 && f.wire === WIRE_VARINT) summary.raftTerm = f.varint;
  }
  return summary;
}
