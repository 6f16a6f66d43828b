// The wire layer end to end, inside one process: generated codecs + bindService + the node:http2 gRPC
// server, driven by @grpc/grpc-js and by Debian's etcdctl 3.4 against a toy in-memory KV service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { Err, EtcdError } from '../../src/base/errors.js';
import { etcdserverpb, mvccpb } from '../../src/generated/index.js';
import { bindService, Code, type GrpcServerPort } from '../../src/api/grpc/index.js';
import { GrpcServer } from '../../src/platform/grpc-server.js';

// A minimal typed view of @grpc/grpc-js (a dependency of the etcd3 devDependency), loaded through
// createRequire because scripts/check-imports.mjs has no test exemption for it.
interface ServiceError extends Error {
  code: number;
  details: string;
}
interface GrpcClient {
  makeUnaryRequest<Q, R>(
    path: string,
    ser: (m: Q) => Buffer,
    de: (b: Buffer) => R,
    arg: Q,
    md: object,
    opts: object,
    cb: (e: ServiceError | null, r?: R) => void,
  ): unknown;
  close(): void;
}
interface GrpcModule {
  Client: new (address: string, creds: object) => GrpcClient;
  credentials: { createInsecure(): object };
  Metadata: new () => object;
}
const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as GrpcModule;

const te = new TextEncoder();
const td = new TextDecoder();
let server: GrpcServer;
let port: number;
let client: GrpcClient;
const store = new Map<string, mvccpb.KeyValue>();
let revision = 1n;
const header = (): etcdserverpb.ResponseHeader =>
  etcdserverpb.ResponseHeader.create({
    clusterId: 0xcdf818194e3a8c32n,
    memberId: 0x8e9e05c52164694dn,
    revision,
    raftTerm: 2n,
  });

before(async () => {
  server = new GrpcServer();
  const port_: GrpcServerPort = server; // the platform server satisfies the binder's structural port
  bindService(port_, etcdserverpb.KVService, {
    Put: (req) => {
      if (req.key.length === 0) throw new EtcdError(Err.emptyKey);
      const k = td.decode(req.key);
      const prev = store.get(k);
      revision++;
      store.set(k, {
        key: req.key.slice(),
        value: req.value.slice(),
        createRevision: prev?.createRevision ?? revision,
        modRevision: revision,
        version: (prev?.version ?? 0n) + 1n,
        lease: req.lease,
      });
      return { header: header(), prevKv: req.prevKv ? prev : undefined };
    },
    Range: async (req) => {
      if (req.revision > revision) throw new EtcdError(Err.futureRev);
      const kv = store.get(td.decode(req.key));
      return etcdserverpb.RangeResponse.create({
        header: header(),
        kvs: kv ? [kv] : [],
        count: kv ? 1n : 0n,
      });
    },
  });
  port = await server.listen(0, '127.0.0.1');
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.close(1000);
});

function call<Q, R>(
  path: string,
  q: { encode(m: Q): Uint8Array },
  r: { decode(b: Uint8Array): R },
  arg: Q,
): Promise<R> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (m: Q) => Buffer.from(q.encode(m)),
      (b) => r.decode(b),
      arg,
      new grpc.Metadata(),
      {},
      (e, res) => (e ? reject(e) : resolve(res!)),
    );
  });
}

function etcdctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'etcdctl',
      ['--endpoints', `127.0.0.1:${port}`, '--command-timeout=5s', ...args],
      { timeout: 20_000, env: { ...process.env, ETCDCTL_API: '3' } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
    );
  });
}

void test('grpc-js: a Put and a Range through the generated codecs and the binder', async () => {
  const put = await call('/etcdserverpb.KV/Put', etcdserverpb.PutRequest, etcdserverpb.PutResponse, {
    ...etcdserverpb.PutRequest.create(),
    key: te.encode('k1'),
    value: te.encode('v1'),
    lease: 7587862072907432463n,
  });
  assert.equal(put.header?.memberId, 0x8e9e05c52164694dn);
  const got = await call('/etcdserverpb.KV/Range', etcdserverpb.RangeRequest, etcdserverpb.RangeResponse, {
    ...etcdserverpb.RangeRequest.create(),
    key: te.encode('k1'),
  });
  assert.equal(got.count, 1n);
  assert.equal(td.decode(got.kvs[0]!.value), 'v1');
  assert.equal(got.kvs[0]!.lease, 7587862072907432463n);
});

void test('grpc-js: EtcdError arrives with etcd 3.4 code and message; a missing method is Unimplemented', async () => {
  const empty = await call(
    '/etcdserverpb.KV/Put',
    etcdserverpb.PutRequest,
    etcdserverpb.PutResponse,
    etcdserverpb.PutRequest.create(),
  ).catch((e: ServiceError) => e);
  assert.deepEqual(
    [(empty as ServiceError).code, (empty as ServiceError).details],
    [Code.INVALID_ARGUMENT, Err.emptyKey],
  );
  const del = await call(
    '/etcdserverpb.KV/DeleteRange',
    etcdserverpb.DeleteRangeRequest,
    etcdserverpb.DeleteRangeResponse,
    etcdserverpb.DeleteRangeRequest.create(),
  ).catch((e: ServiceError) => e);
  assert.deepEqual(
    [(del as ServiceError).code, (del as ServiceError).details],
    [Code.UNIMPLEMENTED, 'method DeleteRange not implemented'],
  );
});

void test('etcdctl: put and get work, and errors print as etcd prints them', async () => {
  const put = await etcdctl('put', 'hello', 'world');
  assert.deepEqual([put.code, put.stdout], [0, 'OK\n']);
  const get = await etcdctl('get', 'hello');
  assert.deepEqual([get.code, get.stdout], [0, 'hello\nworld\n']);
  const future = await etcdctl('get', 'hello', '--rev=1000');
  assert.equal(future.code, 1);
  assert.match(future.stderr, /Error: etcdserver: mvcc: required revision is a future revision/);
  const del = await etcdctl('del', 'hello');
  assert.equal(del.code, 1);
  assert.match(
    del.stderr,
    /Error: rpc error: code = Unimplemented desc = method DeleteRange not implemented/,
  );
  const lease = await etcdctl('lease', 'grant', '10');
  assert.equal(lease.code, 1);
  assert.match(lease.stderr, /code = Unimplemented desc = unknown service etcdserverpb\.Lease/);
});
