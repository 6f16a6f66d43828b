// Drives the server under test with the `etcd3` npm client (grpc-js underneath), as a Node.js user
// would: typed get/put/delete builders, prefix listings, if/then/else transactions, STM retries,
// compaction, and the mapping of server errors to the client's error classes (which works by the
// gRPC code and by substrings of etcd's messages, so both must be exact).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  type IKeyValue,
} from 'etcd3';
import { startServer, target, type ServerHandle } from './harness.js';

async function rejects(
  p: PromiseLike<unknown>,
  cls: new (...a: never[]) => Error,
  message: string,
): Promise<void> {
  await assert.rejects(Promise.resolve(p), (e: unknown) => {
    assert.ok(
      e instanceof cls,
      `expected ${cls.name}, got ${(e as Error).constructor.name}: ${(e as Error).message}`,
    );
    assert.equal(e.message, message);
    return true;
  });
}

void describe(`etcd3 npm client against ${target()}`, () => {
  let server: ServerHandle;
  let client: Etcd3;
  const revision = async () => BigInt((await client.get('rev-probe').exec()).header.revision);

  before(async () => {
    server = await startServer(target());
    client = new Etcd3({ hosts: server.clientUrl });
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });

  void it('put and get: strings, buffers, numbers, JSON, missing keys', async () => {
    await client.put('c/str').value('hello');
    await client.put('c/buf').value(Buffer.from([0, 1, 2, 255]));
    await client.put('c/num').value(42);
    await client.put('c/json').value(JSON.stringify({ a: [1, 2] }));
    assert.equal(await client.get('c/str').string(), 'hello');
    assert.deepStrictEqual(await client.get('c/buf').buffer(), Buffer.from([0, 1, 2, 255]));
    assert.equal(await client.get('c/num').number(), 42);
    assert.deepStrictEqual(await client.get('c/json').json(), { a: [1, 2] });
    assert.equal(await client.get('c/missing').string(), null);
    assert.equal(await client.get('c/str').exists(), true);
    assert.equal(await client.get('c/missing').exists(), false);
  });

  void it('get exec returns exact revisions, versions, count and more', async () => {
    const r0 = await revision();
    const put1 = await client.put('x/k').value('v1');
    assert.equal(put1.header.revision, String(r0 + 1n));
    await client.put('x/k').value('v2');
    const res = await client.get('x/k').exec();
    assert.equal(res.header.revision, String(r0 + 2n));
    assert.equal(res.count, '1');
    assert.equal(res.more, false);
    const kv: IKeyValue = res.kvs[0]!;
    assert.deepStrictEqual(
      {
        key: kv.key.toString(),
        value: kv.value.toString(),
        create: kv.create_revision,
        mod: kv.mod_revision,
        version: kv.version,
        lease: kv.lease,
      },
      { key: 'x/k', value: 'v2', create: String(r0 + 1n), mod: String(r0 + 2n), version: '2', lease: '0' },
    );
  });

  void it('getAll: prefix, keys, count, limit, sort, revision', async () => {
    for (const [key, value] of [
      ['g/b', '2'],
      ['g/a', '3'],
      ['g/c', '1'],
      ['h/x', '0'],
    ] as const) {
      await client.put(key).value(value);
    }
    const r = await revision();
    assert.deepStrictEqual(await client.getAll().prefix('g/').strings(), {
      'g/a': '3',
      'g/b': '2',
      'g/c': '1',
    });
    assert.deepStrictEqual(await client.getAll().prefix('g/').keys(), ['g/a', 'g/b', 'g/c']);
    assert.equal(await client.getAll().prefix('g/').count(), 3);
    assert.deepStrictEqual(await client.getAll().prefix('g/').limit(2).keys(), ['g/a', 'g/b']);
    assert.deepStrictEqual(await client.getAll().prefix('g/').sort('Value', 'Ascend').keys(), [
      'g/c',
      'g/b',
      'g/a',
    ]);
    assert.deepStrictEqual(await client.getAll().prefix('g/').sort('Create', 'Descend').keys(), [
      'g/c',
      'g/a',
      'g/b',
    ]);
    await client.put('g/a').value('changed');
    assert.deepStrictEqual(await client.getAll().prefix('g/').revision(String(r)).strings(), {
      'g/a': '3',
      'g/b': '2',
      'g/c': '1',
    });
    const res = await client.getAll().prefix('g/').limit(1).exec();
    assert.equal(res.more, true);
    assert.equal(res.count, '3');
    assert.deepStrictEqual(await client.namespace('g/').getAll().keys(), ['a', 'b', 'c']);
  });

  void it('delete: a key, a prefix, with previous values', async () => {
    for (const key of ['d/a', 'd/b', 'd/c', 'e/a']) await client.put(key).value(`v-${key}`);
    assert.equal((await client.delete().key('d/a').exec()).deleted, '1');
    assert.equal((await client.delete().key('d/a').exec()).deleted, '0');
    const prev = await client.delete().prefix('d/').getPrevious();
    assert.deepStrictEqual(
      prev.map((kv) => [kv.key.toString(), kv.value.toString()]),
      [
        ['d/b', 'v-d/b'],
        ['d/c', 'v-d/c'],
      ],
    );
    assert.deepStrictEqual(await client.getAll().prefix('d/').keys(), []);
    assert.equal(await client.get('e/a').string(), 'v-e/a');
    await client.put('d/p').value('one');
    const p = await client.put('d/p').value('two').getPrevious();
    assert.equal(p?.value.toString(), 'one');
  });

  void it('if/then/else transactions take the right branch', async () => {
    await client.put('t/a').value('1');
    const ok = await client
      .if('t/a', 'Value', '==', '1')
      .and('t/a', 'Version', '>', 0)
      .then(client.put('t/a').value('2'), client.get('t/a'))
      .else(client.put('t/else').value('x'))
      .commit();
    assert.equal(ok.succeeded, true);
    assert.equal(ok.responses.length, 2);
    assert.equal(await client.get('t/a').string(), '2');
    const no = await client
      .if('t/a', 'Value', '==', '1')
      .then(client.put('t/a').value('3'))
      .else(client.put('t/else').value('x'), client.delete().key('t/nothing'))
      .commit();
    assert.equal(no.succeeded, false);
    assert.equal(await client.get('t/a').string(), '2');
    assert.equal(await client.get('t/else').string(), 'x');
    const created = await client
      .if('t/new', 'Create', '==', 0)
      .then(client.put('t/new').value('made'))
      .commit();
    assert.equal(created.succeeded, true);
    const again = await client
      .if('t/new', 'Create', '==', 0)
      .then(client.put('t/new').value('twice'))
      .commit();
    assert.equal(again.succeeded, false);
    assert.equal(await client.get('t/new').string(), 'made');
  });

  void it('STM transactions retry on conflict: concurrent increments are not lost', async () => {
    await client.put('stm/counter').value('0');
    const inc = () =>
      client.stm({ retries: 50 }).transact(async (tx) => {
        const v = Number(await tx.get('stm/counter').string());
        await tx.put('stm/counter').value(String(v + 1));
      });
    await Promise.all(Array.from({ length: 8 }, inc));
    assert.equal(await client.get('stm/counter').string(), '8');
  });

  void it('errors map to the client error classes with etcd messages', async () => {
    await rejects(
      client.put('').value('x').exec(),
      GRPCInvalidArgumentError,
      '3 INVALID_ARGUMENT: etcdserver: key is not provided',
    );
    await rejects(
      client.get('').string(),
      GRPCInvalidArgumentError,
      '3 INVALID_ARGUMENT: etcdserver: key is not provided',
    );
    await rejects(
      client.put('l/k').value('x').lease('12345').exec(),
      EtcdLeaseInvalidError,
      'Lease 5 NOT_FOUND: etcdserver: requested lease not found is expired or revoked',
    );
    const dup = client
      .if('t/a', 'Version', '>', 0)
      .then(client.put('dup').value('1'), client.put('dup').value('2'));
    await rejects(
      dup.commit(),
      GRPCInvalidArgumentError,
      '3 INVALID_ARGUMENT: etcdserver: duplicate key given in txn request',
    );
    const r = await revision();
    const future = '11 OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision';
    await rejects(
      client
        .get('c/str')
        .revision(String(r + 1n))
        .string(),
      GRPCOutOfRangeError,
      future,
    );
    await rejects(client.kv.compact({ revision: String(r + 1n) }), GRPCOutOfRangeError, future);
  });

  void it('compaction: old revisions answer OUT_OF_RANGE "required revision has been compacted"', async () => {
    await client.put('cp/k').value('old');
    const old = await revision();
    await client.put('cp/k').value('new');
    const now = await revision();
    const res = await client.kv.compact({ revision: String(now), physical: true });
    assert.equal(res.header.revision, String(now));
    const compacted = '11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted';
    await rejects(client.get('cp/k').revision(String(old)).string(), GRPCOutOfRangeError, compacted);
    await rejects(client.kv.compact({ revision: String(now) }), GRPCOutOfRangeError, compacted);
    assert.equal(await client.get('cp/k').revision(String(now)).string(), 'new');
    assert.equal(await client.get('cp/k').string(), 'new');
  });

  void it('leases: keys attached to a granted lease vanish on revoke', async () => {
    const lease = client.lease(600, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put('lease/a').value('1');
    const kv = (await client.get('lease/a').exec()).kvs[0]!;
    assert.equal(kv.lease, id);
    await lease.revoke();
    assert.equal(await client.get('lease/a').string(), null);
  });
});
