// Test helpers: a cluster of EtcdServers in one process over a MemNetwork, each member with its own
// WAL (on a MemFileSystem that outlives restarts) and LMDB backend in a temp dir. Short heartbeat
// and election timeouts keep the tests quick; nothing here measures time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, utf8 } from '../base/index.js';
import { MemFileSystem } from '../base/mem-fs.js';
import { PutRequest, RangeRequest } from '../generated/etcdserverpb.js';
import { EtcdServer, type ServerOptions } from './etcd-server.js';
import { MemNetwork } from './mem-transport.js';
import type { Member } from './members.js';
import { openMemberStorage } from './storage.js';

export const CLUSTER_ID = 0x9n;

export function peerUrl(id: bigint): string {
  return `http://127.0.0.${Number(id)}:2380`;
}

export function member(id: bigint, isLearner = false): Member {
  return { id, name: `m${id}`, peerURLs: [peerUrl(id)], clientURLs: [], isLearner };
}

export class TestCluster {
  readonly net = new MemNetwork();
  readonly servers = new Map<bigint, EtcdServer>();
  private readonly fs = new Map<bigint, MemFileSystem>();
  readonly root = mkdtempSync(join(tmpdir(), 'ketch-cluster-'));

  /** The servers' timers do not hold the process open (a real member has its listeners for that). */
  private readonly keepAlive = setInterval(() => undefined, 1000);

  constructor(readonly extra: Partial<ServerOptions> = {}) {}

  async start(id: bigint, initial: Member[], state: 'new' | 'existing' = 'new'): Promise<EtcdServer> {
    let fs = this.fs.get(id);
    if (fs === undefined) this.fs.set(id, (fs = new MemFileSystem()));
    const dir = join(this.root, `m${id}`);
    const storage = await openMemberStorage(fs, dir, { memberId: id, clusterId: CLUSTER_ID }, silentLogger);
    const s = await EtcdServer.create(
      {
        name: `m${id}`,
        memberId: id,
        clusterId: CLUSTER_ID,
        peerUrls: [peerUrl(id)],
        clientUrls: [`http://127.0.0.${Number(id)}:2379`],
        maxRequestBytes: 1.5 * 1024 * 1024,
        maxTxnOps: 128,
        quotaBackendBytes: 0,
        snapshotCount: 10000,
        nowMs: Number(id),
        heartbeatMs: 10,
        electionMs: 100,
        initialCluster: initial,
        initialClusterState: state,
        ...this.extra,
      },
      storage,
      silentLogger,
      this.net.transport(id),
    );
    this.servers.set(id, s);
    return s;
  }

  async startAll(ids: bigint[]): Promise<void> {
    const initial = ids.map((id) => member(id));
    for (const id of ids) await this.start(id, initial);
  }

  async stop(id: bigint): Promise<void> {
    await this.servers.get(id)?.stop();
    this.servers.delete(id);
  }

  /** The member every running member agrees leads, once there is one. */
  async leader(): Promise<EtcdServer> {
    for (;;) {
      const leads = [...this.servers.values()].map((s) => s.leaderId);
      const lead = leads[0]!;
      const s = this.servers.get(lead);
      if (lead !== 0n && leads.every((l) => l === lead) && s !== undefined && s.raft.isLeader) return s;
      await sleep(5);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.keepAlive);
    for (const id of [...this.servers.keys()]) await this.stop(id);
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `f` is true (the tests' only way of waiting; there is no deadline to assert on). */
export async function until(f: () => boolean): Promise<void> {
  while (!f()) await sleep(5);
}

export const put = (s: EtcdServer, k: string, v: string) =>
  s.put(PutRequest.create({ key: utf8(k), value: utf8(v) }));

export const get = (s: EtcdServer, k: string, serializable = false) =>
  s.range(RangeRequest.create({ key: utf8(k), serializable }));
