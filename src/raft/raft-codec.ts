// raftpb protobuf encoding of Message, Entry, HardState, Snapshot and ConfState, written by hand.
// The peer transport sends Messages in this form and the WAL may store Entries and HardStates in it,
// so the bytes follow etcd's raftpb field numbers and gogoproto's (non-nullable) encoding exactly:
// every scalar is written, in field-number order, even when zero; bytes fields (Entry.Data,
// Snapshot.data, Message.context) only when non-empty (Go writes them when non-nil; an empty non-nil
// value decodes to the same empty bytes); ConfState's repeated uint64s unpacked, as proto2 writes
// them (the decoder also accepts the packed form); Message.snapshot always, since it is non-nullable
// in Go. Decoding refuses truncated or malformed input with a thrown Error, skips unknown fields,
// and maps an all-zero snapshot back to `snapshot: undefined`.
//
// Field numbers (raftpb/raft.proto): Entry{Type=1, Term=2, Index=3, Data=4};
// SnapshotMetadata{conf_state=1, index=2, term=3}; Snapshot{data=1, metadata=2};
// Message{type=1, to=2, from=3, term=4, logTerm=5, index=6, entries=7, commit=8, snapshot=9,
// reject=10, rejectHint=11, context=12}; HardState{term=1, vote=2, commit=3};
// ConfState{voters=1, learners=2, voters_outgoing=3, learners_next=4, auto_leave=5}.

import {
  EntryType,
  MessageType,
  emptyConfState,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from './types.js';

const WireVarint = 0;
const WireFixed64 = 1;
const WireBytes = 2;
const WireStartGroup = 3;
const WireEndGroup = 4;
const WireFixed32 = 5;
const U64_MAX = 0xffffffffffffffffn;
const EMPTY = new Uint8Array(0);

/** Protobuf output buffer; nested messages are encoded into their own Writer and copied in. */
class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(v: bigint): void {
    if (v < 0n || v > U64_MAX) throw new RangeError(`varint out of uint64 range: ${v}`);
    this.ensure(10);
    if (v < 0x80n) {
      this.buf[this.len++] = Number(v);
      return;
    }
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  /** A small non-negative number (tags, lengths, enums, bools) without bigint arithmetic. */
  small(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff)) throw new RangeError(`small varint ${n}`);
    this.ensure(5);
    while (n >= 0x80) {
      this.buf[this.len++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.len++] = n;
  }

  tag(field: number, wire: number): void {
    this.small((field << 3) | wire);
  }

  uint64(field: number, v: bigint): void {
    this.tag(field, WireVarint);
    this.varint(v);
  }

  enumOrBool(field: number, v: number): void {
    this.tag(field, WireVarint);
    this.small(v);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WireBytes);
    this.small(b.length);
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
    throw new Error(`raftpb.${this.what}: ${msg} at byte ${this.pos}`);
  }

  varint(): bigint {
    // Fast path for values below 2^28, which covers tags, lengths, enums and most IDs in tests.
    let small = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.b.length) this.fail('truncated varint');
      const byte = this.b[this.pos++]!;
      small |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) return BigInt(small >>> 0);
    }
    let v = BigInt(small >>> 0);
    for (let i = 4; i < 10; i++) {
      if (this.pos >= this.b.length) this.fail('truncated varint');
      const byte = this.b[this.pos++]!;
      if (i === 9 && byte > 1) this.fail('varint overflows uint64');
      v |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return v;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint that must fit in a JS number (lengths, enums). */
  smallVarint(max: number, what: string): number {
    const v = this.varint();
    if (v > BigInt(max)) this.fail(`${what} ${v} out of range`);
    return Number(v);
  }

  /** Returns [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = t >> 3n;
    if (field === 0n || field > 0x1fffffffn) this.fail(`invalid field number ${field}`);
    return [Number(field), Number(t & 7n)];
  }

  /** A length-delimited value as a view into the input (callers copy what they keep). */
  view(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.b.length - this.pos)) this.fail(`length ${n} past the end of the buffer`);
    const out = this.b.subarray(this.pos, this.pos + Number(n));
    this.pos += Number(n);
    return out;
  }

  /** A length-delimited value as a fresh copy: decoded messages never alias the input buffer. */
  bytes(): Uint8Array {
    const v = this.view();
    return v.length === 0 ? new Uint8Array(0) : new Uint8Array(v);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  skip(n: number): void {
    if (n > this.b.length - this.pos) this.fail('truncated fixed-width field');
    this.pos += n;
  }

  /** Skips an unknown field's value (groups included), as protobuf requires. */
  skipValue(field: number, wire: number, depth = 0): void {
    if (depth > 64) this.fail('groups nested too deeply');
    switch (wire) {
      case WireVarint:
        this.varint();
        return;
      case WireFixed64:
        this.skip(8);
        return;
      case WireBytes:
        this.view();
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
          this.skipValue(f, w, depth + 1);
        }
      default:
        this.fail(`illegal wire type ${wire} for field ${field}`);
    }
  }

  expectWire(field: number, wire: number, want: number): void {
    if (wire !== want) this.fail(`wrong wire type ${wire} for field ${field}`);
  }
}

// ---- ConfState ----

function writeConfState(w: Writer, cs: ConfState): void {
  for (const id of cs.voters) w.uint64(1, id);
  for (const id of cs.learners) w.uint64(2, id);
  for (const id of cs.votersOutgoing) w.uint64(3, id);
  for (const id of cs.learnersNext) w.uint64(4, id);
  w.enumOrBool(5, cs.autoLeave ? 1 : 0);
}

export function encodeConfState(cs: ConfState): Uint8Array {
  const w = new Writer();
  writeConfState(w, cs);
  return w.finish();
}

/** Reads one repeated uint64 element, or all elements of its packed form. */
function readRepeatedU64(r: Reader, field: number, wire: number, into: bigint[]): void {
  if (wire === WireVarint) {
    into.push(r.varint());
    return;
  }
  r.expectWire(field, wire, WireBytes);
  const packed = new Reader(r.view(), 'ConfState(packed)');
  while (!packed.done) into.push(packed.varint());
}

export function decodeConfState(b: Uint8Array): ConfState {
  const r = new Reader(b, 'ConfState');
  const cs = emptyConfState();
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) readRepeatedU64(r, field, wire, cs.voters);
    else if (field === 2) readRepeatedU64(r, field, wire, cs.learners);
    else if (field === 3) readRepeatedU64(r, field, wire, cs.votersOutgoing);
    else if (field === 4) readRepeatedU64(r, field, wire, cs.learnersNext);
    else if (field === 5) {
      r.expectWire(field, wire, WireVarint);
      cs.autoLeave = r.bool();
    } else r.skipValue(field, wire);
  }
  return cs;
}

// ---- Snapshot ----

function encodeMetadata(md: SnapshotMetadata): Uint8Array {
  const w = new Writer();
  w.bytes(1, encodeConfState(md.confState));
  w.uint64(2, md.index);
  w.uint64(3, md.term);
  return w.finish();
}

function decodeMetadata(b: Uint8Array): SnapshotMetadata {
  const r = new Reader(b, 'SnapshotMetadata');
  const md: SnapshotMetadata = { index: 0n, term: 0n, confState: emptyConfState() };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireBytes);
      md.confState = decodeConfState(r.view());
    } else if (field === 2) {
      r.expectWire(field, wire, WireVarint);
      md.index = r.varint();
    } else if (field === 3) {
      r.expectWire(field, wire, WireVarint);
      md.term = r.varint();
    } else r.skipValue(field, wire);
  }
  return md;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new Writer(s.data.length + 64);
  if (s.data.length > 0) w.bytes(1, s.data);
  w.bytes(2, encodeMetadata(s.metadata));
  return w.finish();
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  const r = new Reader(b, 'Snapshot');
  const s: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 0n, term: 0n, confState: emptyConfState() },
  };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireBytes);
      s.data = r.bytes();
    } else if (field === 2) {
      r.expectWire(field, wire, WireBytes);
      s.metadata = decodeMetadata(r.view());
    } else r.skipValue(field, wire);
  }
  return s;
}

function isZeroSnapshot(s: Snapshot): boolean {
  const md = s.metadata;
  const cs = md.confState;
  return (
    s.data.length === 0 &&
    md.index === 0n &&
    md.term === 0n &&
    cs.voters.length === 0 &&
    cs.learners.length === 0 &&
    cs.votersOutgoing.length === 0 &&
    cs.learnersNext.length === 0 &&
    !cs.autoLeave
  );
}

// ---- Entry ----

function writeEntry(w: Writer, e: Entry): void {
  w.enumOrBool(1, e.type);
  w.uint64(2, e.term);
  w.uint64(3, e.index);
  if (e.data.length > 0) w.bytes(4, e.data);
}

export function encodeEntry(e: Entry): Uint8Array {
  const w = new Writer(e.data.length + 32);
  writeEntry(w, e);
  return w.finish();
}

export function decodeEntry(b: Uint8Array): Entry {
  const r = new Reader(b, 'Entry');
  const e: Entry = { term: 0n, index: 0n, type: EntryType.Normal, data: new Uint8Array(0) };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      r.expectWire(field, wire, WireVarint);
      e.type = r.smallVarint(2, 'EntryType') as EntryType;
    } else if (field === 2) {
      r.expectWire(field, wire, WireVarint);
      e.term = r.varint();
    } else if (field === 3) {
      r.expectWire(field, wire, WireVarint);
      e.index = r.varint();
    } else if (field === 4) {
      r.expectWire(field, wire, WireBytes);
      e.data = r.bytes();
    } else r.skipValue(field, wire);
  }
  return e;
}

// ---- HardState ----

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new Writer(32);
  w.uint64(1, hs.term);
  w.uint64(2, hs.vote);
  w.uint64(3, hs.commit);
  return w.finish();
}

export function decodeHardState(b: Uint8Array): HardState {
  const r = new Reader(b, 'HardState');
  const hs: HardState = { term: 0n, vote: 0n, commit: 0n };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field >= 1 && field <= 3) {
      r.expectWire(field, wire, WireVarint);
      const v = r.varint();
      if (field === 1) hs.term = v;
      else if (field === 2) hs.vote = v;
      else hs.commit = v;
    } else r.skipValue(field, wire);
  }
  return hs;
}

// ---- Message ----

const emptySnapshotBytes = encodeSnapshot({
  data: EMPTY,
  metadata: { index: 0n, term: 0n, confState: emptyConfState() },
});

/** Encoded size of a Message's payload, roughly: used by callers to size batches. */
export function approxMessageBytes(m: Message): number {
  let n = 64 + m.context.length;
  for (const e of m.entries) n += 32 + e.data.length;
  if (m.snapshot !== undefined) n += 64 + m.snapshot.data.length;
  return n;
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer(approxMessageBytes(m));
  w.enumOrBool(1, m.type);
  w.uint64(2, m.to);
  w.uint64(3, m.from);
  w.uint64(4, m.term);
  w.uint64(5, m.logTerm);
  w.uint64(6, m.index);
  for (const e of m.entries) w.bytes(7, encodeEntry(e));
  w.uint64(8, m.commit);
  w.bytes(9, m.snapshot === undefined ? emptySnapshotBytes : encodeSnapshot(m.snapshot));
  w.enumOrBool(10, m.reject ? 1 : 0);
  w.uint64(11, m.rejectHint);
  if (m.context.length > 0) w.bytes(12, m.context);
  return w.finish();
}

const maxMessageType = Math.max(...Object.values(MessageType));

/** Decodes a raftpb.Message; throws an Error on truncated or malformed input. */
export function decodeMessage(b: Uint8Array): Message {
  const r = new Reader(b, 'Message');
  const m: Message = {
    type: MessageType.MsgHup,
    to: 0n,
    from: 0n,
    term: 0n,
    logTerm: 0n,
    index: 0n,
    entries: [],
    commit: 0n,
    reject: false,
    rejectHint: 0n,
    context: new Uint8Array(0),
  };
  while (!r.done) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1:
        r.expectWire(field, wire, WireVarint);
        m.type = r.smallVarint(maxMessageType, 'MessageType') as MessageType;
        break;
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 8:
      case 11:
        r.expectWire(field, wire, WireVarint);
        setU64Field(m, field, r.varint());
        break;
      case 7:
        r.expectWire(field, wire, WireBytes);
        m.entries.push(decodeEntry(r.view()));
        break;
      case 9: {
        r.expectWire(field, wire, WireBytes);
        const s = decodeSnapshot(r.view());
        if (isZeroSnapshot(s)) delete m.snapshot;
        else m.snapshot = s;
        break;
      }
      case 10:
        r.expectWire(field, wire, WireVarint);
        m.reject = r.bool();
        break;
      case 12:
        r.expectWire(field, wire, WireBytes);
        m.context = r.bytes();
        break;
      default:
        r.skipValue(field, wire);
    }
  }
  return m;
}

function setU64Field(m: Message, field: number, v: bigint): void {
  if (field === 2) m.to = v;
  else if (field === 3) m.from = v;
  else if (field === 4) m.term = v;
  else if (field === 5) m.logTerm = v;
  else if (field === 6) m.index = v;
  else if (field === 8) m.commit = v;
  else m.rejectHint = v;
}
