// The ConfChange codec against hand-derived golden bytes (from the field numbers and gogoproto's
// non-nullable encoding rules), against protobufjs as an independent implementation, and against
// truncated and random input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Prng } from '../../base/prng.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  type ConfChange,
  type ConfChangeV2,
} from '../types.js';
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from './codec.js';
import {
  asV1,
  asV2,
  confChangesFromString,
  confChangesToString,
  enterJoint,
  leaveJoint,
  marshalConfChange,
} from './conf-change.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const U64_MAX = 2n ** 64n - 1n;

test('ConfChange golden encodings', () => {
  const a: ConfChange = { id: 0n, type: ConfChangeType.AddNode, nodeId: 1n, context: new Uint8Array(0) };
  assert.equal(hex(encodeConfChange(a)), '080010001801');
  const b: ConfChange = { id: 300n, type: ConfChangeType.RemoveNode, nodeId: U64_MAX, context: bytes('ab') };
  const bHex = '08ac02' + '1001' + '18ffffffffffffffffff01' + '22026162';
  assert.equal(hex(encodeConfChange(b)), bHex);
  assert.deepEqual(decodeConfChange(unhex(bHex)), b);
  assert.deepEqual(decodeConfChange(new Uint8Array(0)), {
    id: 0n,
    type: ConfChangeType.AddNode,
    nodeId: 0n,
    context: new Uint8Array(0),
  });
});

test('ConfChangeV2 golden encodings', () => {
  const leave: ConfChangeV2 = {
    transition: ConfChangeTransition.Auto,
    changes: [],
    context: new Uint8Array(0),
  };
  assert.equal(hex(encodeConfChangeV2(leave)), '0800');
  const cc: ConfChangeV2 = {
    transition: ConfChangeTransition.JointExplicit,
    changes: [
      { type: ConfChangeType.AddLearnerNode, nodeId: 5n },
      { type: ConfChangeType.RemoveNode, nodeId: 130n },
    ],
    context: bytes('x'),
  };
  const ccHex = '0802' + '120408031005' + '1205080110 8201' + '1a0178';
  assert.equal(hex(encodeConfChangeV2(cc)), ccHex.replace(/\s/g, ''));
  assert.deepEqual(decodeConfChangeV2(unhex(ccHex)), cc);
});

test('decoding skips unknown fields of every wire type, groups included', () => {
  // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, field 13 group holding field 1
  const unknown = '4801' + '510102030405060708' + '5a03616263' + '6501020304' + '6b' + '0801' + '6c';
  assert.deepEqual(decodeConfChange(unhex('1803' + unknown)), {
    id: 0n,
    type: 0,
    nodeId: 3n,
    context: new Uint8Array(0),
  });
  assert.deepEqual(
    decodeConfChangeV2(unhex(unknown + '0801')).transition,
    ConfChangeTransition.JointImplicit,
  );
});

test('decoding rejects truncated and malformed input', () => {
  const bad: [string, RegExp][] = [
    ['08', /truncated varint/],
    ['08ac', /truncated varint/],
    ['2205616263', /past the end/],
    ['18ffffffffffffffffff02', /overflows uint64/],
    ['18ffffffffffffffffffff01', /overflows uint64|longer than 10 bytes/],
    ['0000', /invalid field number 0/],
    ['4f00', /illegal wire type 7 for field 9/],
    ['4e00', /illegal wire type 6 for field 9/],
    ['0f00', /wrong wire type 7 for field 1/],
    ['0a0100', /wrong wire type 2 for field 1/],
    ['1009', /unknown ConfChangeType 9/],
    ['51010203', /truncated fixed-width/],
    ['6b0801', /truncated varint/],
    ['6b7c', /end group 15 does not match start group 13/],
    ['6c', /illegal wire type 4/],
  ];
  for (const [h, re] of bad) assert.throws(() => decodeConfChange(unhex(h)), re, h);
  const badV2: [string, RegExp][] = [
    ['0803', /unknown ConfChangeTransition 3/],
    ['1203080310', /ConfChangeSingle: truncated varint/],
    ['120508031005', /past the end/],
    ['1002', /wrong wire type 0 for field 2/],
    ['1a0578', /past the end/],
  ];
  for (const [h, re] of badV2) assert.throws(() => decodeConfChangeV2(unhex(h)), re, h);
});

test('every strict prefix that cuts a field in half is rejected', () => {
  const cc: ConfChangeV2 = {
    transition: ConfChangeTransition.JointImplicit,
    changes: [{ type: ConfChangeType.AddNode, nodeId: 123456789n }],
    context: bytes('hello'),
  };
  const enc = encodeConfChangeV2(cc);
  // Field boundaries: after transition (2 bytes), after the change (2 + 2 + 6), at the end.
  const boundaries = new Set([0, 2, 2 + 2 + enc[3]!, enc.length]);
  for (let n = 0; n < enc.length; n++) {
    const prefix = enc.subarray(0, n);
    if (boundaries.has(n)) decodeConfChangeV2(prefix);
    else assert.throws(() => decodeConfChangeV2(prefix), Error, `prefix of ${n} bytes`);
  }
});

test('random bytes either decode to a change that re-encodes stably or throw an Error', () => {
  const prng = new Prng(99);
  let decoded = 0;
  for (let i = 0; i < 20000; i++) {
    const b = new Uint8Array(prng.intBelow(12));
    for (let j = 0; j < b.length; j++) b[j] = prng.intBelow(256);
    for (const codec of [
      { dec: decodeConfChange, enc: encodeConfChange },
      { dec: decodeConfChangeV2, enc: encodeConfChangeV2 },
    ] as { dec: (b: Uint8Array) => unknown; enc: (v: unknown) => Uint8Array }[]) {
      let v: unknown;
      try {
        v = codec.dec(b);
      } catch (e) {
        assert.ok(e instanceof Error);
        continue;
      }
      decoded++;
      assert.deepEqual(codec.dec(codec.enc(v)), v);
    }
  }
  assert.ok(decoded > 100, `only ${decoded} random inputs decoded`);
});

// protobufjs (a devDependency) as the independent reference, with the schema built by reflection.
interface PbType {
  fromObject(o: Record<string, unknown>): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: Record<string, unknown>): Record<string, unknown>;
  add(f: unknown): PbType;
}
interface Pb {
  Root: new () => { add(t: unknown): unknown };
  Type: new (name: string) => PbType;
  Field: new (name: string, id: number, type: string, rule?: string) => unknown;
}
const pb = createRequire(import.meta.url)('protobufjs') as Pb;
const PbSingle = new pb.Type('ConfChangeSingle')
  .add(new pb.Field('type', 1, 'uint32'))
  .add(new pb.Field('nodeId', 2, 'uint64'));
const PbV1 = new pb.Type('ConfChange')
  .add(new pb.Field('id', 1, 'uint64'))
  .add(new pb.Field('type', 2, 'uint32'))
  .add(new pb.Field('nodeId', 3, 'uint64'))
  .add(new pb.Field('context', 4, 'bytes'));
const PbV2 = new pb.Type('ConfChangeV2')
  .add(new pb.Field('transition', 1, 'uint32'))
  .add(new pb.Field('changes', 2, 'ConfChangeSingle', 'repeated'))
  .add(new pb.Field('context', 3, 'bytes'));
const pbRoot = new pb.Root();
pbRoot.add(PbSingle);
pbRoot.add(PbV1);
pbRoot.add(PbV2);
const toObj = { longs: String, bytes: Array, defaults: true, arrays: true };

function randomU64(prng: Prng): bigint {
  const shift = BigInt(prng.intBelow(64));
  return ((BigInt(prng.nextUint32()) << 32n) | BigInt(prng.nextUint32())) >> shift;
}

function randomBytes(prng: Prng): Uint8Array {
  const b = new Uint8Array(prng.chance(0.3) ? 0 : prng.intBelow(40));
  for (let i = 0; i < b.length; i++) b[i] = prng.intBelow(256);
  return b;
}

test('matches protobufjs byte for byte on random ConfChanges', () => {
  const prng = new Prng(7);
  for (let i = 0; i < 500; i++) {
    const cc: ConfChange = {
      id: randomU64(prng),
      type: prng.intBelow(4) as ConfChangeType,
      nodeId: randomU64(prng),
      context: randomBytes(prng),
    };
    const init: Record<string, unknown> = {
      id: cc.id.toString(),
      type: cc.type,
      nodeId: cc.nodeId.toString(),
    };
    if (cc.context.length > 0) init.context = cc.context;
    const theirs = PbV1.encode(PbV1.fromObject(init)).finish();
    const ours = encodeConfChange(cc);
    assert.equal(hex(ours), hex(theirs));
    const back = PbV1.toObject(PbV1.decode(ours), toObj);
    assert.deepEqual(back, {
      id: cc.id.toString(),
      type: cc.type,
      nodeId: cc.nodeId.toString(),
      context: [...cc.context],
    });
    assert.deepEqual(decodeConfChange(theirs), cc);
  }
});

test('matches protobufjs byte for byte on random ConfChangeV2s', () => {
  const prng = new Prng(8);
  for (let i = 0; i < 500; i++) {
    const cc: ConfChangeV2 = {
      transition: prng.intBelow(3) as ConfChangeTransition,
      changes: Array.from({ length: prng.intBelow(5) }, () => ({
        type: prng.intBelow(4) as ConfChangeType,
        nodeId: randomU64(prng),
      })),
      context: randomBytes(prng),
    };
    const init: Record<string, unknown> = {
      transition: cc.transition,
      changes: cc.changes.map((c) => ({ type: c.type, nodeId: c.nodeId.toString() })),
    };
    if (cc.context.length > 0) init.context = cc.context;
    const theirs = PbV2.encode(PbV2.fromObject(init)).finish();
    assert.equal(hex(encodeConfChangeV2(cc)), hex(theirs));
    assert.deepEqual(decodeConfChangeV2(theirs), cc);
  }
});

test('asV2, asV1, enterJoint, leaveJoint follow raftpb', () => {
  const v1: ConfChange = { id: 9n, type: ConfChangeType.AddLearnerNode, nodeId: 4n, context: bytes('c') };
  assert.deepEqual(asV2(v1), {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddLearnerNode, nodeId: 4n }],
    context: bytes('c'),
  });
  assert.equal(asV1(v1), v1);
  const v2 = (transition: ConfChangeTransition, changes: string, context = ''): ConfChangeV2 => ({
    transition,
    changes: confChangesFromString(changes),
    context: bytes(context),
  });
  assert.equal(asV1(v2(0, 'v1')), undefined);
  const T = ConfChangeTransition;
  assert.deepEqual(enterJoint(v2(T.Auto, '')), { autoLeave: false, ok: false });
  assert.deepEqual(enterJoint(v2(T.Auto, 'v1')), { autoLeave: false, ok: false });
  assert.deepEqual(enterJoint(v2(T.Auto, 'v1 v2')), { autoLeave: true, ok: true });
  assert.deepEqual(enterJoint(v2(T.JointImplicit, 'v1')), { autoLeave: true, ok: true });
  assert.deepEqual(enterJoint(v2(T.JointExplicit, 'v1')), { autoLeave: false, ok: true });
  assert.deepEqual(enterJoint(v2(T.JointExplicit, '')), { autoLeave: false, ok: true });
  assert.equal(leaveJoint(v2(T.Auto, '')), true);
  assert.equal(leaveJoint(v2(T.Auto, '', 'ignored context')), true);
  assert.equal(leaveJoint(v2(T.Auto, 'v1')), false);
  assert.equal(leaveJoint(v2(T.JointExplicit, '')), false);
});

test('marshalConfChange keeps V1 changes in the V1 encoding', () => {
  const v1: ConfChange = { id: 1n, type: ConfChangeType.AddNode, nodeId: 2n, context: new Uint8Array(0) };
  assert.deepEqual(marshalConfChange(v1), { type: EntryType.ConfChange, data: encodeConfChange(v1) });
  const v2 = asV2(v1);
  assert.deepEqual(marshalConfChange(v2), { type: EntryType.ConfChangeV2, data: encodeConfChangeV2(v2) });
});

test('the compact change notation round-trips and rejects bad tokens', () => {
  const s = 'v1 l2 r3 u18446744073709551615';
  assert.equal(confChangesToString(confChangesFromString(s)), s);
  assert.deepEqual(confChangesFromString('  '), []);
  assert.throws(() => confChangesFromString('x1'), /unknown input: x1/);
  assert.throws(() => confChangesFromString('v'), /unknown token v/);
  assert.throws(() => confChangesFromString('v1a'), /invalid node id/);
  assert.throws(() => confChangesFromString('v18446744073709551616'), /invalid node id/);
});
