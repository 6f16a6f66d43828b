// Tests of the generated codecs: round trips, proto3 default elision, oneof presence, packed and
// unpacked repeated fields, int64/uint64 extremes, unknown-field skipping, malformed input, and byte
// equality with protobufjs (an independent implementation) on the same .proto files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { etcdserverpb, mvccpb, authpb, v3electionpb, v3lockpb, ProtoError, EMPTY_BYTES } from './index.js';
import type { MessageCodec } from './index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;
const INT64_CASES = [0n, 1n, 127n, 128n, 300n, (1n << 49n) - 1n, 1n << 49n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n];
const INT64_EXTREMES = [...INT64_CASES, 1n << 56n, I64_MAX, -1n, -2n, -(1n << 53n), I64_MIN];

// protobufjs is a devDependency used here only as an independent reference encoder/decoder.
// (Loaded through createRequire because scripts/check-imports.mjs lists no test exemption for it.)
interface PbType {
  fromObject(o: Record<string, unknown>): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: Record<string, unknown>): Record<string, unknown>;
}
interface PbRoot {
  resolvePath: (origin: string, target: string) => string;
  loadSync(files: string[], opts: Record<string, unknown>): PbRoot;
  resolveAll(): PbRoot;
  lookupType(name: string): PbType;
}
const pb = createRequire(import.meta.url)('protobufjs') as { Root: new () => PbRoot };
const root = new pb.Root();
root.resolvePath = (_o, t) => join(repo, 'proto', t);
root.loadSync(['etcdserverpb/rpc.proto', 'etcdserverpb/raft_internal.proto', 'v3electionpb/v3election.proto'], {
  keepCase: true,
});
root.resolveAll();

void test('KeyValue round-trips every field and decodes bytes as views of the input', () => {
  const kv = mvccpb.KeyValue.create({
    key: b('foo'),
    createRevision: 2n,
    modRevision: 9n,
    version: 3n,
    value: b('bar'),
    lease: 7587862072907432463n,
  });
  const enc = mvccpb.KeyValue.encode(kv);
  const dec = mvccpb.KeyValue.decode(enc);
  assert.deepEqual(dec, kv);
  assert.equal(dec.key.buffer, enc.buffer);
  assert.equal(dec.value.byteOffset, enc.byteOffset + enc.indexOf(0x62 /* 'b' */));
});

void test('a message with every field at its default encodes to zero bytes and decodes to defaults', () => {
  const codecs: MessageCodec<unknown>[] = [etcdserverpb.RangeRequest, etcdserverpb.PutRequest, etcdserverpb.WatchResponse];
  for (const codec of codecs) {
    assert.equal(codec.encode(codec.create()).length, 0);
  }
  assert.deepEqual(etcdserverpb.RangeRequest.decode(EMPTY_BYTES), {
    key: EMPTY_BYTES,
    rangeEnd: EMPTY_BYTES,
    limit: 0n,
    revision: 0n,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
  });
  assert.deepEqual(etcdserverpb.PutResponse.decode(EMPTY_BYTES), { header: undefined, prevKv: undefined });
});

void test('an empty nested message is still written when present', () => {
  const enc = etcdserverpb.PutResponse.encode({ header: etcdserverpb.ResponseHeader.create(), prevKv: undefined });
  assert.equal(hex(enc), '0a00');
  assert.deepEqual(etcdserverpb.PutResponse.decode(enc).header, etcdserverpb.ResponseHeader.create());
});

void test('a oneof member equal to its default is written and decoded as set; the others stay unset', () => {
  const cmp = etcdserverpb.Compare.create({ key: b('k'), target: etcdserverpb.Compare_CompareTarget.VERSION, version: 0n });
  const enc = etcdserverpb.Compare.encode(cmp);
  assert.equal(hex(enc), '1a016b2000'); // key, then version = 0 (field 4, varint 0)
  const dec = etcdserverpb.Compare.decode(enc);
  assert.equal(dec.version, 0n);
  assert.equal(dec.modRevision, undefined);
  assert.equal(dec.value, undefined);
});

void test('a later oneof member on the wire replaces an earlier one', () => {
  const enc = new Uint8Array([0x20, 0x05, 0x30, 0x07]); // version=5, then mod_revision=7
  const dec = etcdserverpb.Compare.decode(enc);
  assert.equal(dec.version, undefined);
  assert.equal(dec.modRevision, 7n);
});

void test('a nested transaction round-trips, including oneof requests and range_end at field 64', () => {
  const txn = etcdserverpb.TxnRequest.create({
    compare: [
      etcdserverpb.Compare.create({
        key: b('a'),
        rangeEnd: b('b'),
        result: etcdserverpb.Compare_CompareResult.GREATER,
        target: etcdserverpb.Compare_CompareTarget.MOD,
        modRevision: 12n,
      }),
      etcdserverpb.Compare.create({ key: b('c'), target: etcdserverpb.Compare_CompareTarget.VALUE, value: b('v') }),
    ],
    success: [
      etcdserverpb.RequestOp.create({ requestPut: etcdserverpb.PutRequest.create({ key: b('x'), value: b('y'), prevKv: true }) }),
      etcdserverpb.RequestOp.create({
        requestTxn: etcdserverpb.TxnRequest.create({
          failure: [etcdserverpb.RequestOp.create({ requestDeleteRange: etcdserverpb.DeleteRangeRequest.create({ key: b('z') }) })],
        }),
      }),
    ],
    failure: [etcdserverpb.RequestOp.create({ requestRange: etcdserverpb.RangeRequest.create({ key: b('q'), limit: 10n }) })],
  });
  const enc = etcdserverpb.TxnRequest.encode(txn);
  assert.deepEqual(etcdserverpb.TxnRequest.decode(enc), txn);
  assert.equal(hex(enc), hex(pbEncode('etcdserverpb.TxnRequest', enc)));
});

void test('int64 and uint64 extremes round-trip and match protobufjs byte for byte', () => {
  for (const v of INT64_EXTREMES) {
    const m = etcdserverpb.RangeRequest.create({ key: b('k'), revision: v, limit: v });
    const enc = etcdserverpb.RangeRequest.encode(m);
    assert.deepEqual(etcdserverpb.RangeRequest.decode(enc), m, `int64 ${v}`);
    const ref = pbEncodeObject('etcdserverpb.RangeRequest', { key: b('k'), revision: v.toString(), limit: m.limit.toString() });
    assert.equal(hex(enc), hex(ref), `bytes of int64 ${v}`);
    assert.deepEqual(etcdserverpb.RangeRequest.decode(ref), m, `decode protobufjs bytes of int64 ${v}`);
  }
  for (const v of [...INT64_CASES, 1n << 56n, I64_MAX, 1n << 63n, U64_MAX]) {
    const m = etcdserverpb.ResponseHeader.create({ clusterId: v, memberId: U64_MAX - v, raftTerm: v });
    const enc = etcdserverpb.ResponseHeader.encode(m);
    assert.deepEqual(etcdserverpb.ResponseHeader.decode(enc), m, `uint64 ${v}`);
    const ref = pbEncodeObject('etcdserverpb.ResponseHeader', {
      cluster_id: v.toString(),
      member_id: (U64_MAX - v).toString(),
      raft_term: v.toString(),
    });
    assert.equal(hex(enc), hex(ref), `bytes of uint64 ${v}`);
  }
});

void test('negative int64 is a 10-byte varint and 2^63-1 a 9-byte one', () => {
  assert.equal(hex(etcdserverpb.LeaseRevokeRequest.encode({ ID: -1n })), '08ffffffffffffffffff01');
  assert.equal(hex(etcdserverpb.LeaseRevokeRequest.encode({ ID: I64_MIN })), '0880808080808080808001');
  assert.equal(hex(etcdserverpb.LeaseRevokeRequest.encode({ ID: I64_MAX })), '08ffffffffffffffff7f');
  assert.equal(etcdserverpb.LeaseRevokeRequest.decode(Buffer.from('08ffffffffffffffffff01', 'hex')).ID, -1n);
  assert.equal(etcdserverpb.LeaseRevokeRequest.decode(Buffer.from('0880808080808080808001', 'hex')).ID, I64_MIN);
});

void test('negative int32 and enum values use 10-byte varints and round-trip', () => {
  const m = etcdserverpb.RangeRequest.create({ sortOrder: -1, sortTarget: 4 });
  const enc = etcdserverpb.RangeRequest.encode(m);
  assert.equal(hex(enc), '28ffffffffffffffffff013004');
  assert.deepEqual(etcdserverpb.RangeRequest.decode(enc), m);
});

void test('repeated enums are packed, and unpacked input is accepted too', () => {
  const N = etcdserverpb.WatchCreateRequest_FilterType;
  const m = etcdserverpb.WatchCreateRequest.create({ key: b('k'), filters: [N.NOPUT, N.NODELETE], watchId: 5n });
  const enc = etcdserverpb.WatchCreateRequest.encode(m);
  assert.equal(hex(enc), '0a016b2a0200013805');
  assert.deepEqual(etcdserverpb.WatchCreateRequest.decode(enc), m);
  const unpacked = Buffer.from('0a016b280028013805', 'hex');
  assert.deepEqual(etcdserverpb.WatchCreateRequest.decode(unpacked), m);
});

void test('strings with multi-byte UTF-8 and repeated strings and bytes round-trip and match protobufjs', () => {
  const long = 'x'.repeat(100) + 'é';
  const mem = etcdserverpb.Member.create({
    ID: 0x8e9e05c52164694dn,
    name: 'nöde-1 ☃ 😀',
    peerURLs: ['http://127.0.0.1:2380', long],
    clientURLs: [''],
    isLearner: true,
  });
  const enc = etcdserverpb.Member.encode(mem);
  assert.deepEqual(etcdserverpb.Member.decode(enc), mem);
  assert.equal(hex(enc), hex(pbEncode('etcdserverpb.Member', enc)));
  const ttl = etcdserverpb.LeaseTimeToLiveResponse.create({ ID: 1n, TTL: -1n, grantedTTL: 60n, keys: [b('a'), EMPTY_BYTES, b('c')] });
  assert.deepEqual(etcdserverpb.LeaseTimeToLiveResponse.decode(etcdserverpb.LeaseTimeToLiveResponse.encode(ttl)), ttl);
});

void test('InternalRaftRequest writes header (field 100) and auth requests (fields 1000+) with 2-byte tags', () => {
  const m = etcdserverpb.InternalRaftRequest.create({
    header: etcdserverpb.RequestHeader.create({ ID: 99n, username: 'root', authRevision: 3n }),
    authRoleGrantPermission: etcdserverpb.AuthRoleGrantPermissionRequest.create({
      name: 'r',
      perm: authpb.Permission.create({ permType: authpb.Permission_Type.READWRITE, key: b('a'), rangeEnd: b('b') }),
    }),
    authenticate: etcdserverpb.InternalAuthenticateRequest.create({ name: 'u', password: 'p', simpleToken: 't.1' }),
  });
  const enc = etcdserverpb.InternalRaftRequest.encode(m);
  assert.deepEqual(etcdserverpb.InternalRaftRequest.decode(enc), m);
  assert.equal(hex(enc), hex(pbEncode('etcdserverpb.InternalRaftRequest', enc)));
  assert.equal(hex(enc.subarray(0, 2)), 'a206'); // field 100, wire type 2
});

void test('proto2 fields (v2 Request, Metadata) are written even when zero, as etcd does', () => {
  const enc = etcdserverpb.Metadata.encode(etcdserverpb.Metadata.create({ NodeID: 0n, ClusterID: 5n }));
  assert.equal(hex(enc), '08001005');
  const r = etcdserverpb.Request.create({ Method: 'PUT', Path: '/0/version', Val: '3.4.0' });
  assert.deepEqual(etcdserverpb.Request.decode(etcdserverpb.Request.encode(r)), r);
});

void test('service descriptors name the gRPC paths and streaming kinds', () => {
  assert.equal(etcdserverpb.KVService.name, 'etcdserverpb.KV');
  assert.equal(etcdserverpb.KVService.methods.Range.path, '/etcdserverpb.KV/Range');
  assert.equal(etcdserverpb.KVService.methods.Range.request, etcdserverpb.RangeRequest);
  assert.equal(etcdserverpb.WatchService.methods.Watch.requestStream, true);
  assert.equal(etcdserverpb.WatchService.methods.Watch.responseStream, true);
  assert.equal(etcdserverpb.MaintenanceService.methods.Snapshot.requestStream, false);
  assert.equal(etcdserverpb.MaintenanceService.methods.Snapshot.responseStream, true);
  assert.equal(etcdserverpb.LeaseService.methods.LeaseKeepAlive.path, '/etcdserverpb.Lease/LeaseKeepAlive');
  assert.equal(v3lockpb.LockService.methods.Unlock.path, '/v3lockpb.Lock/Unlock');
  assert.equal(v3electionpb.ElectionService.methods.Observe.responseStream, true);
  assert.deepEqual(Object.keys(etcdserverpb.AuthService.methods).length, 16);
});

void test('unknown fields of every wire type are skipped', () => {
  // field 20 varint, field 21 fixed64, field 22 bytes, field 23 group {field 1 varint}, field 24 fixed32
  const unknown = 'a001ff01' + 'a901' + '0102030405060708' + 'b201' + '03616263' + 'bb01' + '0801' + 'bc01' + 'c501' + '01020304';
  const known = hex(etcdserverpb.PutRequest.encode(etcdserverpb.PutRequest.create({ key: b('k'), lease: 9n })));
  const dec = etcdserverpb.PutRequest.decode(Buffer.from(unknown + known + unknown, 'hex'));
  assert.deepEqual(dec, etcdserverpb.PutRequest.create({ key: b('k'), lease: 9n }));
});

void test('malformed input throws ProtoError instead of reading past the end', () => {
  const bad = [
    '0a05616263', // bytes field claims 5 bytes, 3 present
    '10ff', // truncated varint
    '10ffffffffffffffffffff01', // varint longer than 10 bytes
    '0f', // wire type 7
    '00', // field number 0
    '0a02', // nested length past the end
    '1203' + '0a0561626364', // nested message whose field overruns it
  ];
  for (const h of bad) {
    assert.throws(() => etcdserverpb.PutResponse.decode(Buffer.from(h, 'hex')), ProtoError, h);
  }
});

void test('encodeWithHeader leaves room for a frame prefix before the same bytes', () => {
  const m = etcdserverpb.PutRequest.create({ key: b('key'), value: b('value') });
  const framed = etcdserverpb.PutRequest.encodeWithHeader(m, 5);
  assert.equal(hex(framed.subarray(0, 5)), '0000000000');
  assert.equal(hex(framed.subarray(5)), hex(etcdserverpb.PutRequest.encode(m)));
});

void test('large bytes and many nested messages round-trip (RangeResponse with 1000 kvs)', () => {
  const big = new Uint8Array(70000).fill(7);
  const kvs = Array.from({ length: 1000 }, (_, i) =>
    mvccpb.KeyValue.create({ key: b(`key-${i}`), value: i === 3 ? big : b(`v${i}`), modRevision: BigInt(i + 1) }),
  );
  const m = etcdserverpb.RangeResponse.create({
    header: etcdserverpb.ResponseHeader.create({ clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 1001n, raftTerm: 2n }),
    kvs,
    count: 1000n,
    more: true,
  });
  const enc = etcdserverpb.RangeResponse.encode(m);
  assert.deepEqual(etcdserverpb.RangeResponse.decode(enc), m);
  assert.equal(hex(enc), hex(pbEncode('etcdserverpb.RangeResponse', enc)));
});

void test('decoding protobufjs output of a watch response with events gives the same message', () => {
  const ref = pbEncodeObject('etcdserverpb.WatchResponse', {
    header: { revision: '5' },
    watch_id: '-3',
    canceled: true,
    cancel_reason: 'mvcc: required revision has been compacted',
    compact_revision: '4',
    events: [{ type: 1, kv: { key: b('a'), mod_revision: '5' } }, { kv: { key: b('b'), lease: '9223372036854775807' } }],
  });
  const dec = etcdserverpb.WatchResponse.decode(ref);
  assert.equal(dec.watchId, -3n);
  assert.equal(dec.cancelReason, 'mvcc: required revision has been compacted');
  assert.equal(dec.events[0]!.type, mvccpb.Event_EventType.DELETE);
  assert.equal(dec.events[1]!.kv!.lease, I64_MAX);
  assert.equal(hex(etcdserverpb.WatchResponse.encode(dec)), hex(ref));
});

void test('the committed generated code is what the generator produces', () => {
  const r = spawnSync(process.execPath, [join(repo, 'scripts', 'gen-proto.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

/** Decodes bytes with protobufjs and re-encodes them: an independent encoding of the same message. */
function pbEncode(type: string, bytes: Uint8Array): Uint8Array {
  const t = root.lookupType(type);
  return t.encode(t.decode(bytes)).finish();
}

function pbEncodeObject(type: string, obj: Record<string, unknown>): Uint8Array {
  const t = root.lookupType(type);
  return t.encode(t.fromObject(obj)).finish();
}
