import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeGrpcServer } from './fake-grpc-server.js';
import { grpcUnframe, readFields } from './grpc-codec.js';
import { LoadGenerator, planConnections, type LoadSpec } from './load-runner.js';

const base = (...ports: number[]): Omit<LoadSpec, 'op' | 'conns' | 'clients' | 'maxRequests'> => ({
  host: '127.0.0.1',
  ports,
  serializable: false,
  durationMs: 60_000,
  keySize: 8,
  valueSize: 256,
  keySpace: 1_000_000,
  keyBase: 100,
  rangeKey: 0,
});

test('plan: connections go round-robin to workers and clients evenly to connections', async () => {
  const gen = new LoadGenerator(2, 'raw');
  const one = (clients: number[]) => clients.map((n) => ({ endpoint: 0, clients: n }));
  try {
    assert.deepEqual(gen.plan(10, 100), [one([10, 10, 10, 10, 10]), one([10, 10, 10, 10, 10])]);
    assert.deepEqual(gen.plan(1, 1), [one([1])]);
    assert.deepEqual(gen.plan(3, 7), [one([3, 2]), one([2])]);
    assert.throws(() => gen.plan(10, 5), /at least 1 connection and 1 client per connection/);
  } finally {
    await gen.close();
  }
});

test('planConnections: connection j goes to endpoint j % endpoints, as etcd benchmark --endpoints does', () => {
  // 10 connections over 3 members and 2 workers: worker 0 opens connections 0,2,4,6,8, worker 1 the odd ones.
  const plan = planConnections(2, 10, 100, 3);
  assert.deepEqual(
    plan.map((w) => w.map((c) => c.endpoint)),
    [
      [0, 2, 1, 0, 2],
      [1, 0, 2, 1, 0],
    ],
  );
  const perEndpoint = [0, 0, 0];
  for (const w of plan) for (const c of w) perEndpoint[c.endpoint]! += c.clients;
  assert.deepEqual(perEndpoint, [40, 30, 30]);
  // One client, one connection: the first member only.
  assert.deepEqual(planConnections(2, 1, 1, 3), [[{ endpoint: 0, clients: 1 }]]);
  assert.deepEqual(
    planConnections(1, 5, 5, 5)
      .flat()
      .map((c) => c.endpoint),
    [0, 1, 2, 3, 4],
  );
  assert.throws(() => planConnections(2, 3, 3, 0), /at least 1 worker and 1 endpoint/);
});

test('a load against three servers opens connection j on server j % 3, with that server as :authority', async () => {
  const srvs = await Promise.all(
    [0, 1, 2].map(() => FakeGrpcServer.start(() => ({ kind: 'ok', message: new Uint8Array(0) }))),
  );
  const gen = new LoadGenerator(2, 'raw');
  try {
    const ports = srvs.map((s) => s.port);
    const r = await gen.run({ ...base(...ports), op: 'range', conns: 7, clients: 14, maxRequests: 1400 });
    assert.deepEqual([r.ok, r.errors], [1400, 0]);
    const sessions = srvs.map((s) => new Set(s.calls.map((c) => c.session)).size);
    assert.deepEqual(sessions, [3, 2, 2]);
    assert.equal(
      srvs.reduce((n, s) => n + s.calls.length, 0),
      1400,
    );
    for (const s of srvs) {
      assert.ok(s.calls.length > 0);
      assert.deepEqual(
        new Set(s.calls.map((c) => c.headers[':authority'])),
        new Set([`127.0.0.1:${s.port}`]),
      );
    }
    const before = srvs.map((s) => s.calls.length);
    const single = await gen.run({ ...base(...ports), op: 'put', conns: 1, clients: 1, maxRequests: 10 });
    assert.equal(single.ok, 10);
    assert.deepEqual(
      srvs.map((s, i) => s.calls.length - before[i]!),
      [10, 0, 0],
    );
  } finally {
    await gen.close();
    await Promise.all(srvs.map((s) => s.close()));
  }
});

for (const client of ['raw', 'http2'] as const) {
  test(`${client}: a put load stops at exactly the request budget, each key once, all latencies recorded`, async () => {
    const srv = await FakeGrpcServer.start(() => ({ kind: 'ok', message: new Uint8Array(0) }));
    const gen = new LoadGenerator(2, client);
    try {
      const r = await gen.run({ ...base(srv.port), op: 'put', conns: 4, clients: 20, maxRequests: 3000 });
      assert.equal(r.ok, 3000);
      assert.equal(r.errors, 0);
      assert.equal(r.latenciesMs.length, 3000);
      assert.ok(r.latenciesMs.every((x) => x >= 0));
      assert.equal(srv.calls.length, 3000);
      const keys = srv.calls.map((c) =>
        Number(Buffer.from(readFields(grpcUnframe(c.body))[0]!.bytes).toString()),
      );
      assert.deepEqual(
        keys.sort((a, b) => a - b),
        Array.from({ length: 3000 }, (_, i) => 100 + i),
      );
      assert.equal(new Set(srv.sessions).size <= 4, true);
    } finally {
      await gen.close();
      await srv.close();
    }
  });
}

test('errors are counted per status and message, with samples, and do not stop the load', async () => {
  let n = 0;
  const srv = await FakeGrpcServer.start(() =>
    n++ % 4 === 0
      ? { kind: 'error', status: 14, message: 'etcdserver: leader changed' }
      : { kind: 'ok', message: new Uint8Array(0) },
  );
  const gen = new LoadGenerator(2, 'raw');
  try {
    const r = await gen.run({ ...base(srv.port), op: 'range', conns: 2, clients: 4, maxRequests: 400 });
    assert.equal(r.ok + r.errors, 400);
    assert.equal(r.errors, 100);
    assert.deepEqual(r.errorSamples, [{ status: 14, message: 'etcdserver: leader changed', count: 100 }]);
  } finally {
    await gen.close();
    await srv.close();
  }
});

test('a server that never replies is reported, not waited on forever', async () => {
  const srv = await FakeGrpcServer.start(() => ({ kind: 'ignore' }));
  const gen = new LoadGenerator(1, 'raw', 200);
  try {
    const r = await gen.run({
      ...base(srv.port),
      op: 'range',
      conns: 1,
      clients: 3,
      maxRequests: 100,
      durationMs: 100,
    });
    assert.equal(r.ok, 0);
    assert.equal(r.errors, 3);
    assert.deepEqual(r.errorSamples, [
      { status: -1, message: "no reply within 200 ms after the load's deadline", count: 3 },
    ]);
  } finally {
    await gen.close();
    await srv.close();
  }
});

test('connecting to a closed port fails the load with the address in the message', async () => {
  const srv = await FakeGrpcServer.start(() => ({ kind: 'ignore' }));
  const port = srv.port;
  await srv.close();
  const gen = new LoadGenerator(1, 'raw');
  try {
    await assert.rejects(
      gen.run({ ...base(port), op: 'put', conns: 1, clients: 1, maxRequests: 1 }),
      new RegExp(`connect to 127.0.0.1:${port}`),
    );
  } finally {
    await gen.close();
  }
});
