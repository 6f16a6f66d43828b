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
  Reader,
  WireBytes,
  WireVarint,
  Writer,
  encodeSized,
  lenFieldSize,
  smallSize,
  u64FieldSize,
} from './proto-wire.js';
import {
  EntryType,
  MessageType,
  emptyConfState,
  newMessage,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from './types.js';

// Encoding sizes every message exactly first, then writes it into one buffer: nested messages are
// written in place after their length, never encoded separately and copied.

// ---- ConfState ----

function confStateSize(cs: ConfState): number {
  let n = 2; // auto_leave, always written
  for (const list of [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext]) {
    for (const id of list) n += u64FieldSize(id);
  }
  return n;
}

function writeConfState(w: Writer, cs: ConfState): void {
  for (const id of cs.voters) w.uint64(1, id);
  for (const id of cs.learners) w.uint64(2, id);
  for (const id of cs.votersOutgoing) w.uint64(3, id);
  for (const id of cs.learnersNext) w.uint64(4, id);
  w.enumOrBool(5, cs.autoLeave ? 1 : 0);
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return encodeSized(confStateSize(cs), 'ConfState', (w) => writeConfState(w, cs));
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

function metadataSize(md: SnapshotMetadata): number {
  return lenFieldSize(confStateSize(md.confState)) + u64FieldSize(md.index) + u64FieldSize(md.term);
}

function writeMetadata(w: Writer, md: SnapshotMetadata): void {
  w.lenPrefix(1, confStateSize(md.confState));
  writeConfState(w, md.confState);
  w.uint64(2, md.index);
  w.uint64(3, md.term);
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

function snapshotSize(s: Snapshot): number {
  return (s.data.length > 0 ? lenFieldSize(s.data.length) : 0) + lenFieldSize(metadataSize(s.metadata));
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  if (s.data.length > 0) w.bytes(1, s.data);
  w.lenPrefix(2, metadataSize(s.metadata));
  writeMetadata(w, s.metadata);
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encodeSized(snapshotSize(s), 'Snapshot', (w) => writeSnapshot(w, s));
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

function entrySize(e: Entry): number {
  return (
    1 +
    smallSize(e.type) +
    u64FieldSize(e.term) +
    u64FieldSize(e.index) +
    (e.data.length > 0 ? lenFieldSize(e.data.length) : 0)
  );
}

function writeEntry(w: Writer, e: Entry): void {
  w.enumOrBool(1, e.type);
  w.uint64(2, e.term);
  w.uint64(3, e.index);
  if (e.data.length > 0) w.bytes(4, e.data);
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeSized(entrySize(e), 'Entry', (w) => writeEntry(w, e));
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
  const size = u64FieldSize(hs.term) + u64FieldSize(hs.vote) + u64FieldSize(hs.commit);
  return encodeSized(size, 'HardState', (w) => {
    w.uint64(1, hs.term);
    w.uint64(2, hs.vote);
    w.uint64(3, hs.commit);
  });
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

const zeroSnapshot: Snapshot = {
  data: new Uint8Array(0),
  metadata: { index: 0n, term: 0n, confState: emptyConfState() },
};

/** Exact size of the encoded message. */
export function encodedMessageSize(m: Message): number {
  let n = 1 + smallSize(m.type);
  n += u64FieldSize(m.to) + u64FieldSize(m.from) + u64FieldSize(m.term) + u64FieldSize(m.logTerm);
  n += u64FieldSize(m.index) + u64FieldSize(m.commit) + u64FieldSize(m.rejectHint);
  for (const e of m.entries) n += lenFieldSize(entrySize(e));
  n += lenFieldSize(snapshotSize(m.snapshot ?? zeroSnapshot));
  n += 2; // reject
  if (m.context.length > 0) n += lenFieldSize(m.context.length);
  return n;
}

/** Writes the message into `buf` at `offset` (room for encodedMessageSize(m) bytes); returns the end offset. */
export function encodeMessageInto(m: Message, buf: Uint8Array, offset: number): number {
  const w = new Writer(buf, offset);
  w.enumOrBool(1, m.type);
  w.uint64(2, m.to);
  w.uint64(3, m.from);
  w.uint64(4, m.term);
  w.uint64(5, m.logTerm);
  w.uint64(6, m.index);
  for (const e of m.entries) {
    w.lenPrefix(7, entrySize(e));
    writeEntry(w, e);
  }
  w.uint64(8, m.commit);
  const snap = m.snapshot ?? zeroSnapshot;
  w.lenPrefix(9, snapshotSize(snap));
  writeSnapshot(w, snap);
  w.enumOrBool(10, m.reject ? 1 : 0);
  w.uint64(11, m.rejectHint);
  if (m.context.length > 0) w.bytes(12, m.context);
  return w.pos;
}

export function encodeMessage(m: Message): Uint8Array {
  const size = encodedMessageSize(m);
  const buf = new Uint8Array(size);
  const end = encodeMessageInto(m, buf, 0);
  if (end !== size) throw new Error(`raftpb.Message: encoded ${end} bytes, sized ${size}`);
  return buf;
}

/** Rough size of a message, without encoding it: for queue and batch accounting. */
export function approxMessageBytes(m: Message): number {
  let n = 64 + m.context.length;
  for (const e of m.entries) n += 32 + e.data.length;
  if (m.snapshot !== undefined) n += 64 + m.snapshot.data.length;
  return n;
}

const maxMessageType = Math.max(...Object.values(MessageType));

/** Decodes a raftpb.Message; throws an Error on truncated or malformed input. */
export function decodeMessage(b: Uint8Array): Message {
  const r = new Reader(b, 'Message');
  const m = newMessage({ type: MessageType.MsgHup });
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
