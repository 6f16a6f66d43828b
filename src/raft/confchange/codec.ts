// raftpb.ConfChange / ConfChangeV2 protobuf encoding, written by hand: these bytes are the data of
// EntryConfChange[V2] log entries, so they must match etcd's (gogoproto) encoding byte for byte and
// decoding must refuse anything malformed rather than apply a half-read membership change.
//
// Field numbers (raftpb/raft.proto): ConfChange{id=1, type=2, node_id=3, context=4};
// ConfChangeSingle{type=1, node_id=2}; ConfChangeV2{transition=1, changes=2, context=3}.
// Like gogoproto with non-nullable fields, the scalar fields are always written, in field order
// (ConfChange writes id first). Context is written when non-empty; Go also writes an empty but
// non-nil context, which decodes here to the same (empty) value.

import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../types.js';

const WireVarint = 0;
const WireFixed64 = 1;
const WireBytes = 2;
const WireStartGroup = 3;
const WireEndGroup = 4;
const WireFixed32 = 5;

class Writer {
  private buf = new Uint8Array(32);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(v: bigint): void {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`varint out of uint64 range: ${v}`);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  bytes(b: Uint8Array): void {
    this.varint(BigInt(b.length));
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

class Reader {
  pos = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.b.length;
  }

  fail(msg: string): never {
    throw new Error(`${this.what}: ${msg} at byte ${this.pos}`);
  }

  varint(): bigint {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.b.length) this.fail('truncated varint');
      const byte = this.b[this.pos++]!;
      if (i === 9 && byte > 1) this.fail('varint overflows uint64');
      v |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return v;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Returns [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = t >> 3n;
    if (field === 0n || field > 0x1fffffffn) this.fail(`invalid field number ${field}`);
    return [Number(field), Number(t & 7n)];
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.b.length - this.pos)) this.fail(`length ${n} past the end of the buffer`);
    // A plain copy: never alias (or inherit the Buffer class of) the entry's bytes.
    const out = new Uint8Array(this.b.subarray(this.pos, this.pos + Number(n)));
    this.pos += Number(n);
    return out;
  }

  skip(n: number): void {
    if (n > this.b.length - this.pos) this.fail('truncated fixed-width field');
    this.pos += n;
  }

  /** Skips an unknown field's value (groups included), as protobuf requires. */
  skipValue(field: number, wire: number): void {
    switch (wire) {
      case WireVarint:
        this.varint();
        return;
      case WireFixed64:
        this.skip(8);
        return;
      case WireBytes:
        this.bytes();
        return;
      case WireFixed32:
        this.skip(4);
        return;
      case WireStartGroup:
        for (;;) {
          const [f, w] = this.tag();
          if (w === WireEndGroup) {
            if (f !== field) this.fail(`end group ${f} does not match start group ${field}`);
            return;
          }
          this.skipValue(f, w);
        }
      default:
        this.fail(`illegal wire type ${wire} for field ${field}`);
    }
  }

  expectWire(field: number, wire: number, want: number): void {
    if (wire !== want) this.fail(`wrong wire type ${wire} for field ${field}`);
  }
}

function checkedType(r: Reader, v: bigint): ConfChangeType {
  if (v > 3n) r.fail(`unknown ConfChangeType ${v}`);
  return Number(v) as ConfChangeType;
}

function checkedTransition(r: Reader, v: bigint): ConfChangeTransition {
  if (v > 2n) r.fail(`unknown ConfChangeTransition ${v}`);
  return Number(v) as ConfChangeTransition;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer();
  w.tag(1, WireVarint);
  w.varint(cc.id);
  w.tag(2, WireVarint);
  w.varint(BigInt(cc.type));
  w.tag(3, WireVarint);
  w.varint(cc.nodeId);
  if (cc.context.length > 0) {
    w.tag(4, WireBytes);
    w.bytes(cc.context);
  }
  return w.finish();
}

/** Decodes a raftpb.ConfChange; throws an Error on truncated or malformed input. */
export function decodeConfChange(b: Uint8Array): ConfChange {
  const r = new Reader(b, 'ConfChange');
  const cc: ConfChange = { type: ConfChangeType.AddNode, nodeId: 0n, context: new Uint8Array(0), id: 0n };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireVarint);
      cc.id = r.varint();
    } else if (field === 2) {
      r.expectWire(field, wire, WireVarint);
      cc.type = checkedType(r, r.varint());
    } else if (field === 3) {
      r.expectWire(field, wire, WireVarint);
      cc.nodeId = r.varint();
    } else if (field === 4) {
      r.expectWire(field, wire, WireBytes);
      cc.context = r.bytes();
    } else r.skipValue(field, wire);
  }
  return cc;
}

function encodeSingle(cc: ConfChangeSingle): Uint8Array {
  const w = new Writer();
  w.tag(1, WireVarint);
  w.varint(BigInt(cc.type));
  w.tag(2, WireVarint);
  w.varint(cc.nodeId);
  return w.finish();
}

function decodeSingle(b: Uint8Array): ConfChangeSingle {
  const r = new Reader(b, 'ConfChangeSingle');
  const cc: ConfChangeSingle = { type: ConfChangeType.AddNode, nodeId: 0n };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireVarint);
      cc.type = checkedType(r, r.varint());
    } else if (field === 2) {
      r.expectWire(field, wire, WireVarint);
      cc.nodeId = r.varint();
    } else r.skipValue(field, wire);
  }
  return cc;
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new Writer();
  w.tag(1, WireVarint);
  w.varint(BigInt(cc.transition));
  for (const c of cc.changes) {
    w.tag(2, WireBytes);
    w.bytes(encodeSingle(c));
  }
  if (cc.context.length > 0) {
    w.tag(3, WireBytes);
    w.bytes(cc.context);
  }
  return w.finish();
}

/** Decodes a raftpb.ConfChangeV2; throws an Error on truncated or malformed input. */
export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  const r = new Reader(b, 'ConfChangeV2');
  const cc: ConfChangeV2 = { transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0) };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireVarint);
      cc.transition = checkedTransition(r, r.varint());
    } else if (field === 2) {
      r.expectWire(field, wire, WireBytes);
      cc.changes.push(decodeSingle(r.bytes()));
    } else if (field === 3) {
      r.expectWire(field, wire, WireBytes);
      cc.context = r.bytes();
    } else r.skipValue(field, wire);
  }
  return cc;
}
