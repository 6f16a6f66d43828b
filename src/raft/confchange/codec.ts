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
  Reader,
  WireBytes,
  WireVarint,
  encodeSized,
  lenFieldSize,
  u64FieldSize,
  type Writer,
} from '../proto-wire.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../types.js';

// Encoders size each message exactly, then write it into one buffer (changes in place after their
// length). Enums go through bigint so that an invalid (negative) value throws a RangeError.
// Decode errors read `ConfChange: <problem> at byte <offset>` (no `raftpb.` prefix).

function checkedType(r: Reader, v: bigint): ConfChangeType {
  if (v > 3n) r.fail(`unknown ConfChangeType ${v}`);
  return Number(v) as ConfChangeType;
}

function checkedTransition(r: Reader, v: bigint): ConfChangeTransition {
  if (v > 2n) r.fail(`unknown ConfChangeTransition ${v}`);
  return Number(v) as ConfChangeTransition;
}

function confChangeSize(cc: ConfChange): number {
  const ctx = cc.context.length > 0 ? lenFieldSize(cc.context.length) : 0;
  return u64FieldSize(cc.id) + u64FieldSize(BigInt(cc.type)) + u64FieldSize(cc.nodeId) + ctx;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encodeSized(confChangeSize(cc), 'ConfChange', (w) => {
    w.uint64(1, cc.id);
    w.uint64(2, BigInt(cc.type));
    w.uint64(3, cc.nodeId);
    if (cc.context.length > 0) w.bytes(4, cc.context);
  });
}

/** Decodes a raftpb.ConfChange; throws an Error on truncated or malformed input. */
export function decodeConfChange(b: Uint8Array): ConfChange {
  const r = new Reader(b, 'ConfChange', '');
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

function singleSize(cc: ConfChangeSingle): number {
  return u64FieldSize(BigInt(cc.type)) + u64FieldSize(cc.nodeId);
}

function writeSingle(w: Writer, cc: ConfChangeSingle): void {
  w.uint64(1, BigInt(cc.type));
  w.uint64(2, cc.nodeId);
}

function decodeSingle(b: Uint8Array): ConfChangeSingle {
  const r = new Reader(b, 'ConfChangeSingle', '');
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

function confChangeV2Size(cc: ConfChangeV2): number {
  let n = u64FieldSize(BigInt(cc.transition));
  for (const c of cc.changes) n += lenFieldSize(singleSize(c));
  if (cc.context.length > 0) n += lenFieldSize(cc.context.length);
  return n;
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  return encodeSized(confChangeV2Size(cc), 'ConfChangeV2', (w) => {
    w.uint64(1, BigInt(cc.transition));
    for (const c of cc.changes) {
      w.lenPrefix(2, singleSize(c));
      writeSingle(w, c);
    }
    if (cc.context.length > 0) w.bytes(3, cc.context);
  });
}

/** Decodes a raftpb.ConfChangeV2; throws an Error on truncated or malformed input. */
export function decodeConfChangeV2(b: Uint8Array): ConfChangeV2 {
  const r = new Reader(b, 'ConfChangeV2', '');
  const cc: ConfChangeV2 = { transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0) };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireVarint);
      cc.transition = checkedTransition(r, r.varint());
    } else if (field === 2) {
      r.expectWire(field, wire, WireBytes);
      cc.changes.push(decodeSingle(r.view()));
    } else if (field === 3) {
      r.expectWire(field, wire, WireBytes);
      cc.context = r.bytes();
    } else r.skipValue(field, wire);
  }
  return cc;
}
