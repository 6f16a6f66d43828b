// Lease forwarding over the peer listener (etcd's leasehttp routes): bodies both ways, statuses
// mapped to the errors a follower acts on, and the method check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { EtcdError, Err } from '../base/errors.js';
import type { LeasePath } from '../server/peer-transport.js';
import { startMember, type Member } from './test-support.js';

function serveWith(m: Member, fn: (path: LeasePath, body: Uint8Array) => Promise<Uint8Array>): void {
  (m.h as { serveLease?: typeof fn }).serveLease = fn;
}

async function pair(): Promise<[Member, Member]> {
  const a = await startMember(1n);
  const b = await startMember(2n);
  a.t.addPeer(2n, [b.url]);
  return [a, b];
}

test('a forwarded lease request reaches the leader’s handler and its answer comes back', async () => {
  const [a, b] = await pair();
  try {
    const seen: [string, number[]][] = [];
    serveWith(b, async (path, body) => {
      seen.push([path, [...body]]);
      return Uint8Array.from([8, 7, 16, 9]);
    });
    const out = await a.t.postLease(2n, '/leases', Uint8Array.from([8, 7]), 5000);
    assert.deepEqual([...out], [8, 7, 16, 9]);
    const out2 = await a.t.postLease(2n, '/leases/internal', Uint8Array.from([10, 2, 8, 7]), 5000);
    assert.deepEqual([...out2], [8, 7, 16, 9]);
    assert.deepEqual(seen, [
      ['/leases', [8, 7]],
      ['/leases/internal', [10, 2, 8, 7]],
    ]);
  } finally {
    await a.t.stop();
    await b.t.stop();
  }
});

test('lease not found comes back as etcd’s error; other failures as plain errors', async () => {
  const [a, b] = await pair();
  try {
    serveWith(b, async (_p, body) => {
      if (body[0] === 1) throw new EtcdError(Err.leaseNotFound);
      if (body[0] === 2) throw new EtcdError(Err.timeoutWaitAppliedIndex);
      throw new Error('not a primary lessor');
    });
    await assert.rejects(
      a.t.postLease(2n, '/leases', Uint8Array.from([1]), 5000),
      (e: unknown) => e instanceof EtcdError && e.message === Err.leaseNotFound,
    );
    await assert.rejects(
      a.t.postLease(2n, '/leases', Uint8Array.from([2]), 5000),
      (e: unknown) => !(e instanceof EtcdError) && /applied index has timed out/.test((e as Error).message),
    );
    await assert.rejects(
      a.t.postLease(2n, '/leases', Uint8Array.from([3]), 5000),
      /lease: unknown error\(not a primary lessor\)/,
    );
    await assert.rejects(a.t.postLease(9n, '/leases', Uint8Array.from([3]), 5000), /unknown member 9/);
  } finally {
    await a.t.stop();
    await b.t.stop();
  }
});

test('the lease routes take POST only', async () => {
  const b = await startMember(2n);
  const s = http2.connect(b.url);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = s.request({ ':method': 'GET', ':path': '/leases' });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
      req.end();
    });
    assert.equal(status, 405);
  } finally {
    s.close();
    await b.t.stop();
  }
});
