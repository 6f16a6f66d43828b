// Test helpers for the lock and election recipes: one member (a one-voter raft group over the
// in-memory transport, WAL in memory, LMDB backend in a temp dir) with a fake lease clock, so a
// lease expires exactly when a test moves the clock, and an in-process KvClient over it.
import { utf8 } from '../../base/index.js';
import { LeaseGrantRequest, PutRequest, RangeRequest } from '../../generated/etcdserverpb.js';
import type { KeyValue } from '../../generated/mvccpb.js';
import { TestCluster, sleep } from '../cluster-test-helpers.js';
import type { EtcdServer } from '../etcd-server.js';
import { KvClient } from './kv-client.js';

export class FakeClock {
  t = 0;
  nowMs(): number {
    return this.t;
  }
}

export interface Member {
  server: EtcdServer;
  client: KvClient;
  clock: FakeClock;
}

/** Runs `fn` against a fresh single-member cluster, closed afterwards. */
export function withMember(fn: (m: Member) => Promise<void>): () => Promise<void> {
  return async () => {
    const clock = new FakeClock();
    const c = new TestCluster({ leaseClock: clock });
    try {
      await c.startAll([1n]);
      const server = await c.leader();
      await fn({ server, client: new KvClient(server), clock });
    } finally {
      await c.close();
    }
  };
}

export async function grant(s: EtcdServer, ttl: bigint): Promise<bigint> {
  return (await s.leases.grant(LeaseGrantRequest.create({ ID: 0n, TTL: ttl }))).ID;
}

export async function put(s: EtcdServer, key: string, value: string, lease = 0n): Promise<bigint> {
  return (await s.put(PutRequest.create({ key: utf8(key), value: utf8(value), lease }))).header!.revision;
}

/** The keys under `pfx`, in key order. */
export async function keysUnder(s: EtcdServer, pfx: string): Promise<KeyValue[]> {
  const key = utf8(pfx);
  const end = key.slice();
  end[end.length - 1]!++;
  return (await s.range(RangeRequest.create({ key, rangeEnd: end }))).kvs;
}

/** Polls until `f` resolves true (no deadline: the test runner's timeout is the limit). */
export async function eventually(f: () => Promise<boolean>): Promise<void> {
  while (!(await f())) await sleep(5);
}

/** Tracks whether a promise has settled, without handling its outcome for the caller. */
export function track<T>(p: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  return { promise: p, settled: () => done };
}

/** One more round through raft and the event loop: whatever was going to settle meanwhile has. */
export async function roundTrip(s: EtcdServer): Promise<void> {
  await put(s, 'round-trip', 'x');
  await sleep(20);
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
