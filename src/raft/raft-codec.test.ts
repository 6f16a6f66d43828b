// The raftpb codec against golden bytes derived from the field numbers, against protobufjs parsing a
// raft.proto written here (an independent implementation), and against truncated and random input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Prng } from '../base/prng.js';
import {
  MessageType,
  newMessage,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Message,
  type Snapshot,
} from './types.js';
import {
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
} from './raft-codec.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Our own raft.proto text (proto2, as etcd's is), parsed by protobufjs.
const raftProto = `
syntax = "proto2";
package raftpb;
message Entry {
  optional uint64 Term = 2;
  optional uint64 Index = 3;
  optional uint32 Type = 1;
  optional bytes Data = 4;
}
message SnapshotMetadata {
  optional ConfState conf_state = 1;
  optional uint64 index = 2;
  optional uint64 term = 3;
}
message Snapshot {
  optional bytes data = 1;
  optional SnapshotMetadata metadata = 2;
}
message Message {
  optional uint32 type = 1;
  optional uint64 to = 2;
  optional uint64 from = 3;
  optional uint64 term = 4;
  optional uint64 logTerm = 5;
  optional uint64 index = 6;
  repeated Entry entries = 7;
  optional uint64 commit = 8;
  optional Snapshot snapshot = 9;
  optional bool reject = 10;
  optional uint64 rejectHint = 11;
  optional bytes context = 12;
}
message HardState {
  optional uint64 term = 1;
  optional uint64 vote = 2;
  optional uint64 commit = 3;
}
message ConfState {
  repeated uint64 voters = 1;
  repeated uint64 learners = 2;
  repeated uint64 voters_outgoing = 3;
  repeated uint64 learners_next = 4;
  optional bool auto_leave = 5;
}
`;

interface PbType {
  fromObject(o: Record<string, unknown>): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: Record<string, unknown>): Record<string, unknown>;
}
interface Pb {
  parse(text: string, opts: Record<string, unknown>): { root: { lookupType(name: string): PbType } };
}
const pb = createRequire(import.meta.url)('protobufjs') as Pb;
const root = pb.parse(raftProto, { keepCase: true }).root;
const PbMessage = root.lookupType('raftpb.Message');
const PbEntry = root.lookupType('raftpb.Entry');
const PbHardState = root.lookupType('raftpb.HardState');
const PbConfState = root.lookupType('raftpb.ConfState');
const toObj = { longs: String, bytes: Array, defaults: true, arrays: true };

function randomU64(prng: Prng): bigint {
  const shift = BigInt(prng.intBelow(64));
  return ((BigInt(prng.nextUint32()) << 32n) | BigInt(prng.nextUint32())) >> shift;
}

function randomBytes(prng: Prng, max = 40): Uint8Array {
  const b = new Uint8Array(prng.chance(0.3) ? 0 : prng.intBelow(max));
  for (let i = 0; i < b.length; i++) b[i] = prng.intBelow(256);
  return b;
}

const ids = (prng: Prng): bigint[] => Array.from({ length: prng.intBelow(4) }, () => randomU64(prng));

function randomConfState(prng: Prng): ConfState {
  return {
    voters: ids(prng),
    learners: ids(prng),
    votersOutgoing: ids(prng),
    learnersNext: ids(prng),
    autoLeave: prng.chance(0.5),
  };
}

function randomEntry(prng: Prng): Entry {
  return {
    term: randomU64(prng),
    index: randomU64(prng),
    type: prng.intBelow(3) as EntryType,
    data: randomBytes(prng),
  };
}

function randomSnapshot(prng: Prng): Snapshot {
  return {
    data: randomBytes(prng, 200),
    metadata: { index: randomU64(prng) + 1n, term: randomU64(prng), confState: randomConfState(prng) },
  };
}

function randomMessage(prng: Prng): Message {
  const m = newMessage({
    type: prng.intBelow(19) as MessageType,
    to: randomU64(prng),
    from: randomU64(prng),
    term: randomU64(prng),
    logTerm: randomU64(prng),
    index: randomU64(prng),
    entries: Array.from({ length: prng.intBelow(4) }, () => randomEntry(prng)),
    commit: randomU64(prng),
    reject: prng.chance(0.5),
    rejectHint: randomU64(prng),
    context: randomBytes(prng),
  });
  if (prng.chance(0.3)) m.snapshot = randomSnapshot(prng);
  return m;
}

// protobufjs object forms (longs as decimal strings, bytes as arrays) of our values.
const csObj = (cs: ConfState): Record<string, unknown> => ({
  voters: cs.voters.map(String),
  learners: cs.learners.map(String),
  voters_outgoing: cs.votersOutgoing.map(String),
  learners_next: cs.learnersNext.map(String),
  auto_leave: cs.autoLeave,
});
const entryObj = (e: Entry): Record<string, unknown> => ({
  Term: String(e.term),
  Index: String(e.index),
  Type: e.type,
  Data: [...e.data],
});
function snapObj(s: Snapshot | undefined): Record<string, unknown> {
  const md = s?.metadata ?? { index: 0n, term: 0n, confState: csEmpty() };
  return {
    data: [...(s?.data ?? [])],
    metadata: { conf_state: csObj(md.confState), index: String(md.index), term: String(md.term) },
  };
}
const csEmpty = (): ConfState => ({
  voters: [],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
});
function messageObj(m: Message): Record<string, unknown> {
  return {
    type: m.type,
    to: String(m.to),
    from: String(m.from),
    term: String(m.term),
    logTerm: String(m.logTerm),
    index: String(m.index),
    entries: m.entries.map(entryObj),
    commit: String(m.commit),
    snapshot: snapObj(m.snapshot),
    reject: m.reject,
    rejectHint: String(m.rejectHint),
    context: [...m.context],
  };
}

/** protobufjs's input form: like messageObj, but empty bytes fields left out (Go writes nil bytes so). */
function messageInit(m: Message): Record<string, unknown> {
  const o = messageObj(m);
  const s = snapObj(m.snapshot);
  if (m.snapshot === undefined || m.snapshot.data.length === 0) delete s.data;
  o.snapshot = s;
  o.entries = m.entries.map((e) => {
    const eo = entryObj(e);
    if (e.data.length === 0) delete eo.Data;
    return eo;
  });
  if (m.context.length === 0) delete o.context;
  return o;
}

test('golden encodings follow gogoproto: all scalars written, empty bytes left out', () => {
  const hb = newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 5n, commit: 300n });
  // type, to, from, term, logTerm, index, commit, empty snapshot {metadata{conf_state{auto_leave}}}, reject, rejectHint
  const hbHex = '0808 1002 1801 2005 2800 3000 40ac02 4a0a 1208 0a02 2800 1000 1800 5000 5800';
  assert.equal(hex(encodeMessage(hb)), hbHex.replace(/\s/g, ''));
  assert.deepEqual(decodeMessage(unhex(hbHex)), hb);
  const e: Entry = { term: 1n, index: 2n, type: 1, data: new Uint8Array([0xab]) };
  assert.equal(hex(encodeEntry(e)), '0801100118022201ab');
  assert.equal(hex(encodeHardState({ term: 1n, vote: 0n, commit: 2n })), '080110001802');
  const cs: ConfState = { ...csEmpty(), voters: [1n, 2n], learners: [3n], autoLeave: true };
  assert.equal(hex(encodeConfState(cs)), '08010802' + '1003' + '2801');
  assert.deepEqual(decodeConfState(unhex('0a020102 1003 2801')), cs, 'packed repeated fields accepted');
  assert.deepEqual(decodeMessage(new Uint8Array(0)), newMessage({ type: MessageType.MsgHup }));
  // Non-canonical (zero-padded) varints are valid protobuf, in tags and in values.
  assert.deepEqual(
    decodeMessage(unhex('88808080 00 88808080808000 1002')),
    newMessage({ type: MessageType.MsgHeartbeat, to: 2n }),
  );
});

test('matches protobufjs byte for byte on random messages, both ways', () => {
  const prng = new Prng(11);
  for (let i = 0; i < 1000; i++) {
    const m = randomMessage(prng);
    const ours = encodeMessage(m);
    const theirs = PbMessage.encode(PbMessage.fromObject(messageInit(m))).finish();
    assert.equal(hex(ours), hex(theirs));
    assert.deepEqual(PbMessage.toObject(PbMessage.decode(ours), toObj), messageObj(m));
    assert.deepEqual(decodeMessage(theirs), m);
  }
});

test('Entry, HardState, ConfState, Snapshot round-trip and match protobufjs', () => {
  const prng = new Prng(12);
  for (let i = 0; i < 500; i++) {
    const e = randomEntry(prng);
    const init = entryObj(e);
    if (e.data.length === 0) delete init.Data;
    assert.equal(hex(encodeEntry(e)), hex(PbEntry.encode(PbEntry.fromObject(init)).finish()));
    assert.deepEqual(decodeEntry(encodeEntry(e)), e);
    const hs: HardState = { term: randomU64(prng), vote: randomU64(prng), commit: randomU64(prng) };
    const hsInit = { term: String(hs.term), vote: String(hs.vote), commit: String(hs.commit) };
    assert.equal(hex(encodeHardState(hs)), hex(PbHardState.encode(PbHardState.fromObject(hsInit)).finish()));
    assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
    const cs = randomConfState(prng);
    const csBytes = encodeConfState(cs);
    assert.deepEqual(PbConfState.toObject(PbConfState.decode(csBytes), toObj), csObj(cs));
    assert.deepEqual(decodeConfState(csBytes), cs);
    const s = randomSnapshot(prng);
    assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
  }
});

test('decoded bytes are copies, never views of the input', () => {
  const m = newMessage({
    type: MessageType.MsgApp,
    entries: [{ term: 1n, index: 1n, type: 0, data: new Uint8Array([1, 2, 3]) }],
    context: new Uint8Array([9]),
  });
  const b = encodeMessage(m);
  const d = decodeMessage(b);
  b.fill(0);
  assert.deepEqual(d, m);
});

test('every truncation of a valid message throws an Error', () => {
  const prng = new Prng(13);
  for (let i = 0; i < 50; i++) {
    const m = randomMessage(prng);
    m.entries.push(randomEntry(prng));
    m.context = new Uint8Array([1, 2]); // the last field, so no cut can decode to the whole message
    const b = encodeMessage(m);
    for (let n = 1; n < b.length; n++) {
      let decoded: Message | undefined;
      try {
        decoded = decodeMessage(b.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof Error && err.message.startsWith('raftpb.'), String(err));
        continue;
      }
      // A cut exactly between two top-level fields is valid protobuf; it must decode to a prefix.
      assert.notDeepEqual(decoded, m);
    }
  }
});

test('garbage input either throws an Error or decodes; it never hangs or crashes differently', () => {
  const prng = new Prng(14);
  let decoded = 0;
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(prng, 60);
    try {
      decodeMessage(b);
      decoded++;
    } catch (err) {
      assert.ok(err instanceof Error && err.message.startsWith('raftpb.'), String(err));
      refused++;
    }
  }
  assert.ok(refused > 1000, `only ${refused} random inputs refused`);
  assert.ok(decoded > 0, 'no random input decoded');
  assert.throws(() => decodeMessage(unhex('08ff')), /truncated varint/);
  assert.throws(() => decodeMessage(unhex('0813')), /MessageType 19 out of range/);
  assert.throws(() => decodeMessage(unhex('3a05')), /past the end/);
  assert.throws(() => decodeMessage(unhex('7f')), /illegal wire type 7 for field 15/);
  assert.throws(() => decodeMessage(unhex('12 01 00')), /wrong wire type 2 for field 2/);
  assert.throws(() => decodeMessage(unhex('10 ffffffffffffffffff7f')), /overflows uint64/);
});

test('unknown fields of every wire type are skipped', () => {
  const unknown = '6801' + '710102030405060708' + '7a03616263' + '7d01020304' + '8301' + '0801' + '8401';
  const m = decodeMessage(unhex('0803' + unknown + '1007'));
  assert.deepEqual(m, newMessage({ type: MessageType.MsgApp, to: 7n }));
});
