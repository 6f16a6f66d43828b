// Differential tests of the KV service (Range, Put, DeleteRange, Compact, leases on puts, limits and
// malformed input): real etcd 3.4 and the server under test get the same requests in the same order
// and must give equal answers, errors included, header IDs and raft term aside. Txn has its own file.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Code } from './grpc-wire.js';
import { Rpc } from './etcd-pb.js';
import { Differential, k } from './diff-helpers.js';

const { Range, Put, DeleteRange, Compact, LeaseGrant, LeaseRevoke } = Rpc;

void describe(`differential: etcd 3.4 vs ${target()} (KV)`, () => {
  let d: Differential;
  before(async () => {
    d = await Differential.start();
  });
  after(async () => {
    await d?.stop();
  });

  void it('fresh servers agree on the empty store', async () => {
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
    await d.same(Range, { key: k('a') });
    await d.same(Range, { key: k('a'), revision: 1n });
    await d.same(Range, { key: k('a'), revision: 2n });
    await d.ctl(['get', '', '--from-key', '-w', 'json']);
  });

  void it('puts: revisions, versions, prev_kv, empty values, binary keys', async () => {
    const puts: [string, string, boolean?][] = [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['a', '11', true],
      ['k/1', 'x'],
      ['k/2', 'y'],
      ['k/3', 'z'],
      ['\0', 'nul'],
      ['\xff', 'ff1'],
      ['\xff\xff', 'ff2'],
      ['b', '22', true],
      ['d', ''],
      ['z', 'new', true],
      ['k/2', 'y2'],
    ];
    for (const [key, value, prevKv] of puts)
      await d.same(Put, { key: k(key), value: k(value), prevKv: !!prevKv });
  });

  void it('range: single keys, ranges, prefixes, "\\0" ends, empty and inverted ranges', async () => {
    const ranges: [string, string][] = [
      ['a', ''],
      ['nope', ''],
      ['\0', ''],
      ['a', 'c'],
      ['k/', 'k0'],
      ['b', '\0'],
      ['\0', '\0'],
      ['\xff', '\0'],
      ['\xff\xff', '\0'],
      ['c', 'a'],
      ['a', 'a'],
      ['d', 'd\0'],
    ];
    for (const [key, end] of ranges) await d.same(Range, { key: k(key), rangeEnd: k(end) });
  });

  void it('range: limit and more, count unaffected by the limit', async () => {
    for (const limit of [-1n, 0n, 1n, 2n, 11n, 12n, 100n]) {
      await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), limit });
      await d.same(Range, { key: k('k/'), rangeEnd: k('k0'), limit });
    }
  });

  void it('range: every historic revision, and revisions ≤ 0 mean the latest', async () => {
    const head = (await d.same(Range, { key: k('a') })).res!.header!.revision;
    for (let rev = -1n; rev <= head + 1n; rev++) {
      await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: rev });
      await d.same(Range, { key: k('a'), revision: rev, keysOnly: true });
    }
  });

  void it('range: serializable, keys_only, count_only and their combinations with limit', async () => {
    const all = { key: k('\0'), rangeEnd: k('\0') };
    await d.same(Range, { ...all, serializable: true });
    await d.same(Range, { ...all, keysOnly: true });
    await d.same(Range, { ...all, countOnly: true });
    await d.same(Range, { ...all, countOnly: true, limit: 2n });
    await d.same(Range, { ...all, keysOnly: true, limit: 2n });
    await d.same(Range, { ...all, countOnly: true, keysOnly: true });
    await d.same(Range, { key: k('a'), countOnly: true });
    await d.same(Range, { key: k('missing'), countOnly: true });
  });

  void it('range: every sort order × target, with and without a limit (ties included)', async () => {
    for (let sortOrder = 0; sortOrder <= 2; sortOrder++) {
      for (let sortTarget = 0; sortTarget <= 4; sortTarget++) {
        for (const limit of [0n, 3n]) {
          await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), sortOrder, sortTarget, limit });
          await d.same(Range, {
            key: k('k/'),
            rangeEnd: k('k0'),
            sortOrder,
            sortTarget,
            limit,
            keysOnly: true,
          });
        }
      }
    }
  });

  void it('range: min/max mod and create revision filters; count ignores the filters', async () => {
    const all = { key: k('\0'), rangeEnd: k('\0') };
    for (const f of [
      { minModRevision: 5n },
      { maxModRevision: 5n },
      { minCreateRevision: 6n },
      { maxCreateRevision: 6n },
      { minModRevision: 3n, maxModRevision: 9n },
      { minCreateRevision: 3n, maxCreateRevision: 9n, minModRevision: 4n },
      { minModRevision: 1000n },
    ]) {
      await d.same(Range, { ...all, ...f });
      await d.same(Range, { ...all, ...f, limit: 2n });
      await d.same(Range, { ...all, ...f, limit: 2n, sortOrder: 2, sortTarget: 3 });
      await d.same(Range, { ...all, ...f, countOnly: true });
    }
  });

  void it('put: ignore_value and ignore_lease rules and their errors', async () => {
    await d.same(Put, { key: k('a'), ignoreValue: true, prevKv: true });
    await d.same(Range, { key: k('a') });
    await d.expect(
      Put,
      { key: k('nokey'), ignoreValue: true },
      Code.INVALID_ARGUMENT,
      'etcdserver: key not found',
    );
    await d.expect(
      Put,
      { key: k('nokey'), ignoreLease: true },
      Code.INVALID_ARGUMENT,
      'etcdserver: key not found',
    );
    const valueProvided = 'etcdserver: value is provided';
    await d.expect(
      Put,
      { key: k('a'), value: k('v'), ignoreValue: true },
      Code.INVALID_ARGUMENT,
      valueProvided,
    );
    await d.expect(
      Put,
      { key: k('nokey'), value: k('v'), ignoreValue: true },
      Code.INVALID_ARGUMENT,
      valueProvided,
    );
    const leaseProvided = 'etcdserver: lease is provided';
    await d.expect(Put, { key: k('a'), lease: 7n, ignoreLease: true }, Code.INVALID_ARGUMENT, leaseProvided);
    await d.expect(
      Put,
      { key: k(''), value: k('v') },
      Code.INVALID_ARGUMENT,
      'etcdserver: key is not provided',
    );
    await d.expect(
      Put,
      { key: k(''), ignoreValue: true },
      Code.INVALID_ARGUMENT,
      'etcdserver: key is not provided',
    );
    await d.same(Put, { key: k('a'), ignoreLease: true, value: k('12'), prevKv: true });
    await d.same(Put, { key: k('a'), ignoreLease: true, ignoreValue: true });
    await d.same(Range, { key: k('a') });
  });

  void it('put with an unknown lease is "requested lease not found", checked before ignore_value', async () => {
    const notFound = 'etcdserver: requested lease not found';
    await d.expect(Put, { key: k('l/1'), value: k('v'), lease: 0x1234n }, Code.NOT_FOUND, notFound);
    await d.expect(Put, { key: k('l/1'), value: k('v'), lease: -5n }, Code.NOT_FOUND, notFound);
    await d.expect(Put, { key: k('nokey'), ignoreValue: true, lease: 0x1234n }, Code.NOT_FOUND, notFound);
    await d.expect(Put, { key: k('a'), ignoreValue: true, lease: 0x1234n }, Code.NOT_FOUND, notFound);
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('put with leases: attach, keep with ignore_lease, revoke deletes the keys', async () => {
    const notFound = 'etcdserver: requested lease not found';
    await d.same(LeaseGrant, { TTL: 600n, ID: 0x1234n });
    await d.expect(
      LeaseGrant,
      { TTL: 600n, ID: 0x1234n },
      Code.FAILED_PRECONDITION,
      'etcdserver: lease already exists',
    );
    await d.same(Put, { key: k('l/1'), value: k('v1'), lease: 0x1234n });
    await d.same(Put, { key: k('l/2'), value: k('v2'), lease: 0x1234n });
    await d.same(Put, { key: k('l/1'), value: k('v1b'), ignoreLease: true, prevKv: true });
    await d.same(Put, { key: k('l/2'), value: k('v2b'), prevKv: true });
    await d.same(Range, { key: k('l/'), rangeEnd: k('l0') });
    await d.same(LeaseRevoke, { ID: 0x1234n });
    await d.same(Range, { key: k('l/'), rangeEnd: k('l0') });
    await d.expect(LeaseRevoke, { ID: 0x1234n }, Code.NOT_FOUND, notFound);
    await d.expect(Put, { key: k('l/1'), value: k('v'), lease: 0x1234n }, Code.NOT_FOUND, notFound);
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: -1n });
  });

  void it('delete: counts, prev_kv, ranges, prefixes, from-key, nothing to delete', async () => {
    for (const key of ['del/a', 'del/b', 'del/c', 'del/d', 'del0', 'dem'])
      await d.same(Put, { key: k(key), value: k(key) });
    await d.same(DeleteRange, { key: k('del/nope') });
    await d.same(DeleteRange, { key: k('del/nope'), prevKv: true });
    await d.same(DeleteRange, { key: k('del/a'), prevKv: true });
    await d.same(DeleteRange, { key: k('del/a'), prevKv: true });
    await d.same(DeleteRange, { key: k('del/b'), rangeEnd: k('del/d') });
    await d.same(DeleteRange, { key: k('del/'), rangeEnd: k('del0'), prevKv: true });
    await d.same(DeleteRange, { key: k('dem'), rangeEnd: k('del') });
    await d.same(DeleteRange, { key: k('dem'), rangeEnd: k('\0'), prevKv: true });
    await d.expect(DeleteRange, { key: k('') }, Code.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
    await d.same(Put, { key: k('dem'), value: k('again'), prevKv: true });
    await d.same(Range, { key: k('dem') });
  });

  void it('range errors: empty key, future revision', async () => {
    await d.expect(Range, { key: k('') }, Code.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    await d.expect(
      Range,
      { key: k(''), rangeEnd: k('\0') },
      Code.INVALID_ARGUMENT,
      'etcdserver: key is not provided',
    );
    const head = (await d.same(Range, { key: k('a') })).res!.header!.revision;
    const future = 'etcdserver: mvcc: required revision is a future revision';
    await d.expect(Range, { key: k('a'), revision: head + 1n }, Code.OUT_OF_RANGE, future);
    await d.expect(Range, { key: k('a'), revision: 1n << 62n }, Code.OUT_OF_RANGE, future);
  });

  void it('compaction: compacted and future revisions, the compact revision itself, physical', async () => {
    const compacted = 'etcdserver: mvcc: required revision has been compacted';
    const future = 'etcdserver: mvcc: required revision is a future revision';
    const head = (await d.same(Range, { key: k('a') })).res!.header!.revision;
    await d.expect(Compact, { revision: head + 1n }, Code.OUT_OF_RANGE, future);
    await d.same(Compact, { revision: 5n });
    await d.expect(Compact, { revision: 5n }, Code.OUT_OF_RANGE, compacted);
    await d.expect(Compact, { revision: 4n }, Code.OUT_OF_RANGE, compacted);
    await d.expect(Compact, { revision: 0n }, Code.OUT_OF_RANGE, compacted);
    await d.expect(Compact, { revision: -3n }, Code.OUT_OF_RANGE, compacted);
    for (let rev = 3n; rev <= 7n; rev++)
      await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: rev });
    await d.same(Compact, { revision: 9n, physical: true });
    for (let rev = 8n; rev <= 10n; rev++) {
      await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: rev });
      await d.same(Range, { key: k('b'), revision: rev, countOnly: true });
    }
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: 0n });
    await d.same(Compact, { revision: head, physical: true });
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0'), revision: head });
    await d.expect(Range, { key: k('a'), revision: head - 1n }, Code.OUT_OF_RANGE, compacted);
    await d.same(Put, { key: k('after-compaction'), value: k('v') });
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('request size: 1 MiB is accepted, over --max-request-bytes is rejected, over the gRPC limit too', async () => {
    await d.same(Put, { key: k('big'), value: Buffer.alloc(1 << 20, 0x61) });
    await d.same(Range, { key: k('big'), keysOnly: true });
    const tooLarge = 'etcdserver: request is too large';
    await d.expect(
      Put,
      { key: k('big'), value: Buffer.alloc(1_600_000, 0x62) },
      Code.INVALID_ARGUMENT,
      tooLarge,
    );
    // PutRequest{key "big", value n bytes} is n + 9 bytes: 2,097,152 is the largest message gRPC accepts.
    await d.expect(
      Put,
      { key: k('big'), value: Buffer.alloc(2_097_143, 0x63) },
      Code.INVALID_ARGUMENT,
      tooLarge,
    );
    const grpcMax = 'grpc: received message larger than max (2097153 vs. 2097152)';
    await d.expect(
      Put,
      { key: k('big'), value: Buffer.alloc(2_097_144, 0x64) },
      Code.RESOURCE_EXHAUSTED,
      grpcMax,
    );
    const grpcMax2 = 'grpc: received message larger than max (2500010 vs. 2097152)';
    await d.expect(
      Put,
      { key: k('big'), value: Buffer.alloc(2_500_000, 0x65) },
      Code.RESOURCE_EXHAUSTED,
      grpcMax2,
    );
    await d.same(Range, { key: k('big'), countOnly: true });
    await d.same(DeleteRange, { key: k('big') });
  });

  void it('malformed protobuf and unknown methods are answered, and the server keeps serving', async () => {
    const bad = [Buffer.from([0x0a, 0x05, 0x61]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x08, 0x01])];
    for (const path of ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/etcdserverpb.KV/Txn']) {
      for (const body of bad) {
        const [a, b] = await d.raw(path, body);
        assert.equal(a.code, Code.INTERNAL, `etcd: ${path}`);
        assert.equal(b.code, a.code, `${path} ${body.toString('hex')}: ${b.message}`);
        assert.ok(b.message.startsWith('grpc: error unmarshalling request: '), b.message);
      }
    }
    // An unknown field is skipped, as proto3 requires.
    const [a, b] = await d.raw('/etcdserverpb.KV/Range', Buffer.from([0x0a, 0x01, 0x61, 0x98, 0x01, 0x01]));
    assert.deepStrictEqual({ code: b.code, message: b.message }, { code: a.code, message: a.message });
    for (const path of ['/etcdserverpb.KV/Nope', '/etcdserverpb.Nope/Range']) {
      const [x, y] = await d.raw(path, Buffer.alloc(0));
      assert.equal(x.code, Code.UNIMPLEMENTED);
      assert.deepStrictEqual(
        { code: y.code, message: y.message },
        { code: x.code, message: x.message },
        path,
      );
    }
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  // etcd 3.4.23 has no check here: an unknown sort target makes it panic and exit (observed: the
  // Range never returns and the process is gone) and an unknown sort order is silently ignored.
  // etcd 3.5 added the check; ketch answers as 3.5 does, so this runs against ketch only.
  const skipOnEtcd = target() === 'etcd' ? 'etcd 3.4 crashes on an unknown sort target' : false;
  void it(
    'an unknown sort order or target is "etcdserver: invalid sort option"',
    { skip: skipOnEtcd },
    async () => {
      const invalid = { code: Code.INVALID_ARGUMENT, message: 'etcdserver: invalid sort option' };
      for (const [sortOrder, sortTarget] of [
        [3, 0],
        [-1, 0],
        [1, 5],
        [0, 99],
        [2, -1],
      ] as const) {
        const r = await d.sutCall(Range, { key: k('a'), rangeEnd: k('z'), sortOrder, sortTarget });
        assert.deepStrictEqual(r, invalid, `sort order ${sortOrder}, target ${sortTarget}`);
        const t = await d.sutCall(Rpc.Txn, {
          success: [{ requestRange: { key: k('a'), sortOrder, sortTarget } }],
        });
        assert.deepStrictEqual(t, invalid, `in a txn: sort order ${sortOrder}, target ${sortTarget}`);
      }
      await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
    },
  );

  void it('etcdctl -w json output agrees', async () => {
    await d.ctl(['get', '', '--from-key', '-w', 'json']);
    await d.ctl(['get', 'k/', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '-w', 'json']);
    await d.ctl(['get', '', '--from-key', '--keys-only', '--limit=3', '-w', 'json']);
    await d.ctl(['put', 'ctl/a', 'x', '--prev-kv', '-w', 'json']);
    await d.ctl(['put', 'ctl/a', 'y', '--prev-kv', '-w', 'json']);
    await d.ctl(['del', 'ctl/', '--prefix', '--prev-kv', '-w', 'json']);
    await d.ctl(['get', 'a', '--rev=2', '-w', 'json']);
    await d.ctl(['get', 'a', '--rev=100000', '-w', 'json']);
    await d.ctl(['put', '', 'v']);
    await d.ctl(['compaction', '3']);
  });
});
