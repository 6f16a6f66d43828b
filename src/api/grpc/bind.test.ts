// bindService against a recording GrpcServerPort: what each registered raw handler does with bytes
// in and out, how failures become statuses, and what unimplemented methods answer. (The same binder
// driven over the network by grpc-js and etcdctl is in test/wire/grpc-bind.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssertionError } from '../../base/assert.js';
import { Err, EtcdError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import { etcdserverpb, v3electionpb } from '../../generated/index.js';
import { bindService, type CallContext, type GrpcServerPort, type RawMethod } from './bind.js';
import { Code, GrpcError } from './errors.js';

const te = new TextEncoder();

function record(): { port: GrpcServerPort; methods: Map<string, RawMethod> } {
  const methods = new Map<string, RawMethod>();
  return { port: { addMethod: (p, m) => void methods.set(p, m) }, methods };
}

function fakeCall(over: Partial<CallContext> = {}): CallContext {
  return {
    path: '/x',
    metadata: {},
    binaryMetadata: {},
    timeoutMs: undefined,
    deadline: undefined,
    signal: new AbortController().signal,
    peer: '127.0.0.1:1',
    done: false,
    ...over,
  };
}

function unary(
  methods: Map<string, RawMethod>,
  path: string,
): (b: Uint8Array, c: CallContext) => Uint8Array | Promise<Uint8Array> {
  const m = methods.get(path);
  assert.ok(m !== undefined && m.kind === 'unary', path);
  return m.handler;
}

async function rejection(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (err) {
    return err;
  }
  assert.fail('expected a failure');
}

const header = etcdserverpb.ResponseHeader.create({
  clusterId: 1n,
  memberId: 2n,
  revision: 3n,
  raftTerm: 4n,
});

void test('every method of the service is registered under its path, with its streaming kind', () => {
  const { port, methods } = record();
  bindService(port, etcdserverpb.LeaseService, {});
  assert.deepEqual(
    [...methods].map(([p, m]) => [p, m.kind]),
    [
      ['/etcdserverpb.Lease/LeaseGrant', 'unary'],
      ['/etcdserverpb.Lease/LeaseRevoke', 'unary'],
      ['/etcdserverpb.Lease/LeaseKeepAlive', 'bidi'],
      ['/etcdserverpb.Lease/LeaseTimeToLive', 'unary'],
      ['/etcdserverpb.Lease/LeaseLeases', 'unary'],
    ],
  );
});

void test('unary: the request is decoded, the implementation called, the response framed', async () => {
  const { port, methods } = record();
  let seen: { req: etcdserverpb.RangeRequest; token: string | undefined } | undefined;
  bindService(port, etcdserverpb.KVService, {
    Range: async (req, ctx) => {
      seen = { req, token: ctx.metadata.token };
      return etcdserverpb.RangeResponse.create({ header, count: 7n });
    },
    Put: (req) => etcdserverpb.PutResponse.create({ header: { ...header, revision: req.lease } }),
  });
  const range = unary(methods, '/etcdserverpb.KV/Range');
  const req = etcdserverpb.RangeRequest.create({ key: te.encode('a'), limit: 5n });
  const out = await range(etcdserverpb.RangeRequest.encode(req), fakeCall({ metadata: { token: 't1' } }));
  assert.deepEqual(seen, { req, token: 't1' });
  assert.deepEqual(
    etcdserverpb.RangeResponse.decode(out.subarray(5)),
    etcdserverpb.RangeResponse.create({ header, count: 7n }),
  );
  // A synchronous implementation answers synchronously.
  const put = unary(methods, '/etcdserverpb.KV/Put')(
    etcdserverpb.PutRequest.encode({ ...etcdserverpb.PutRequest.create(), lease: 9n }),
    fakeCall(),
  );
  assert.ok(put instanceof Uint8Array);
  assert.equal(etcdserverpb.PutResponse.decode(put.subarray(5)).header?.revision, 9n);
});

void test('methods left out answer Unimplemented "method X not implemented", for every kind', async () => {
  const { port, methods } = record();
  bindService(port, etcdserverpb.KVService, {});
  bindService(port, etcdserverpb.WatchService, {});
  bindService(port, etcdserverpb.MaintenanceService, {});
  const calls: [string, () => unknown][] = [];
  for (const [path, m] of methods) {
    if (m.kind === 'unary') calls.push([path, () => m.handler(new Uint8Array(0), fakeCall())]);
    else if (m.kind === 'serverStream') calls.push([path, () => m.handler(new Uint8Array(0), null as never)]);
    else if (m.kind === 'bidi') calls.push([path, () => m.handler(null as never)]);
  }
  assert.equal(calls.length, 5 + 1 + 7);
  for (const [path, f] of calls) {
    const err = (await rejection(f)) as GrpcError;
    assert.ok(err instanceof GrpcError, path);
    assert.equal(err.code, Code.UNIMPLEMENTED);
    assert.equal(err.message, `method ${path.slice(path.lastIndexOf('/') + 1)} not implemented`);
  }
});

void test('failures: EtcdError by the table, GrpcError unchanged, anything else Unknown and logged', async () => {
  const logged: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (msg, f) => void logged.push(`${msg}: ${String(f?.error)}`),
  };
  const assertions: AssertionError[] = [];
  const { port, methods } = record();
  bindService(
    port,
    etcdserverpb.KVService,
    {
      Range: async () => {
        throw new EtcdError(Err.compacted);
      },
      Put: () => {
        throw new GrpcError(Code.ABORTED, 'custom');
      },
      DeleteRange: async () => {
        throw new TypeError('bug in handler');
      },
      Txn: () => {
        throw new AssertionError('broken invariant');
      },
      Compact: async () => {
        throw new EtcdError('lease not found');
      },
    },
    { logger, onAssertionFailure: (e) => void assertions.push(e) },
  );
  const results: [string, number, string][] = [];
  for (const name of ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact']) {
    const err = (await rejection(() =>
      unary(methods, `/etcdserverpb.KV/${name}`)(new Uint8Array(0), fakeCall()),
    )) as GrpcError;
    results.push([name, err.code, err.message]);
  }
  assert.deepEqual(results, [
    ['Range', Code.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
    ['Put', Code.ABORTED, 'custom'],
    ['DeleteRange', Code.UNKNOWN, 'bug in handler'],
    ['Txn', Code.UNKNOWN, 'broken invariant'],
    ['Compact', Code.NOT_FOUND, 'etcdserver: requested lease not found'],
  ]);
  assert.deepEqual(logged, [
    'unexpected error in gRPC handler: bug in handler',
    'unexpected error in gRPC handler: broken invariant',
  ]);
  assert.equal(assertions.length, 1);
});

void test('a request that does not decode is Internal with grpc-go words', async () => {
  const { port, methods } = record();
  bindService(port, etcdserverpb.KVService, { Range: () => etcdserverpb.RangeResponse.create() });
  const err = (await rejection(() =>
    unary(methods, '/etcdserverpb.KV/Range')(new Uint8Array([0x0a, 0x05, 1]), fakeCall()),
  )) as GrpcError;
  assert.equal(err.code, Code.INTERNAL);
  assert.equal(err.message, 'grpc: error unmarshalling request: proto: unexpected end of input');
});

void test('server streaming: send() encodes and frames each response', async () => {
  const { port, methods } = record();
  bindService(port, v3electionpb.ElectionService, {
    Observe: async (req, stream) => {
      for (let i = 1n; i <= 3n; i++) {
        stream.send(
          v3electionpb.LeaderResponse.create({
            header: { ...header, revision: i },
            kv: {
              key: req.name,
              createRevision: i,
              modRevision: i,
              version: 1n,
              value: te.encode('v'),
              lease: 0n,
            },
          }),
        );
      }
    },
  });
  const m = methods.get('/v3electionpb.Election/Observe');
  assert.ok(m?.kind === 'serverStream');
  const sent: Uint8Array[] = [];
  const call = {
    ...fakeCall(),
    send: (f: Uint8Array) => sent.push(f) > 0,
    drain: () => Promise.resolve(),
    sendHeaders() {},
  };
  await m.handler(v3electionpb.LeaderRequest.encode({ name: te.encode('e') }), call);
  assert.deepEqual(
    sent.map((f) => v3electionpb.LeaderResponse.decode(f.subarray(5)).kv?.createRevision),
    [1n, 2n, 3n],
  );
});

void test('bidi streaming: requests are decoded as they arrive; responses are framed', async () => {
  const { port, methods } = record();
  bindService(port, etcdserverpb.LeaseService, {
    LeaseKeepAlive: async (stream) => {
      for await (const req of stream) stream.send({ header, ID: req.ID, TTL: 60n });
    },
  });
  const m = methods.get('/etcdserverpb.Lease/LeaseKeepAlive');
  assert.ok(m?.kind === 'bidi');
  const inputs = [5n, -1n, 7587862072907432463n].map((ID) =>
    etcdserverpb.LeaseKeepAliveRequest.encode({ ID }),
  );
  const sent: Uint8Array[] = [];
  const call = {
    ...fakeCall(),
    send: (f: Uint8Array) => sent.push(f) > 0,
    drain: () => Promise.resolve(),
    sendHeaders() {},
    async *[Symbol.asyncIterator]() {
      yield* inputs;
    },
  };
  await m.handler(call);
  assert.deepEqual(
    sent.map((f) => etcdserverpb.LeaseKeepAliveResponse.decode(f.subarray(5)).ID),
    [5n, -1n, 7587862072907432463n],
  );
  const bad = {
    ...call,
    async *[Symbol.asyncIterator]() {
      yield new Uint8Array([0x08]);
    },
  };
  const err = (await rejection(() => m.handler(bad))) as GrpcError;
  assert.equal(err.code, Code.INTERNAL);
  assert.equal(err.message, 'grpc: failed to unmarshal the received message proto: unexpected end of input');
});
