// Multi-member clusters of real processes on loopback for the fault tests: N members of ketch (or,
// with KETCH_E2E_TARGET=etcd, of Debian's etcd 3.4) started with etcd's clustering flags; each
// member's peer listener sits behind a TCP proxy the test can cut, so a member can be cut off from
// its peers while its clients still reach it. Control goes through Debian's etcdctl (endpoint
// status, member add/remove/promote, move-leader); load goes through a small gRPC writer that
// retries on the next member and remembers every acknowledged write.
import assert from 'node:assert/strict';
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import {
  childEnv,
  etcdctl,
  freePort,
  newTempDir,
  Server,
  ETCD_BIN,
  KETCH_BIN,
  type ServerKind,
  type CmdResult,
} from './harness.js';
import { GrpcConn } from './grpc-wire.js';
import { call, Rpc } from './etcd-pb.js';

/** A TCP proxy in front of a member's peer listener; cut() drops every connection and refuses new ones. */
export class PeerProxy {
  private readonly sockets = new Set<Socket>();
  private isCut = false;
  private constructor(
    private readonly server: NetServer,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<PeerProxy> {
    const port = await freePort();
    const holder: { proxy?: PeerProxy } = {};
    const server = createServer((client) => holder.proxy!.accept(client, targetPort));
    const proxy = new PeerProxy(server, port);
    holder.proxy = proxy;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(port, '127.0.0.1', () => res());
    });
    return proxy;
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  cut(): void {
    this.isCut = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.isCut = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((res) => this.server.close(() => res()));
  }
}

export interface Member {
  name: string;
  clientUrl: string;
  /** The URL peers use (the proxy's). */
  peerUrl: string;
  server: Server;
  proxy: PeerProxy;
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  leader: string;
  raftIndex: bigint;
  raftTerm: bigint;
  revision: bigint;
  isLearner: boolean;
}

/** etcdctl's JSON, with every integer of 15+ digits kept as a string (member IDs exceed 2^53). */
export function parseJsonKeepingIds(text: string): unknown {
  return JSON.parse(text.replace(/([:[,]\s*)(\d{15,})/g, '$1"$2"'));
}

const STATUS_TIMEOUT = '--command-timeout=3s';

/** A number or a kept-as-string ID from etcdctl's JSON; absent (zero, omitted) is '0'. */
function idText(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '0';
}

export class Cluster {
  readonly members: Member[] = [];
  private constructor(
    readonly kind: ServerKind,
    private readonly base: string,
    private readonly token: string,
    private readonly extraArgs: string[],
  ) {}

  static async start(kind: ServerKind, size: number, extraArgs: string[] = []): Promise<Cluster> {
    const bin = kind === 'etcd' ? ETCD_BIN : KETCH_BIN;
    if (!existsSync(bin)) throw new Error(`${bin} not found (build ketch first: npm run build)`);
    const c = new Cluster(
      kind,
      newTempDir(`e2e-cluster-${kind}-`),
      `tok-${process.pid}-${Date.now()}`,
      extraArgs,
    );
    const planned = [];
    for (let i = 1; i <= size; i++) planned.push(await c.plan(`m${i}`));
    const initial = planned.map((p) => `${p.name}=${p.peerUrl}`).join(',');
    for (const p of planned) c.members.push(c.create(p, initial, 'new'));
    for (const m of c.members) m.server.spawn();
    try {
      await Promise.all(c.members.map((m) => m.server.waitHealthy()));
    } catch (e) {
      await c.stopAll();
      throw e;
    }
    return c;
  }

  private async plan(
    name: string,
  ): Promise<{ name: string; clientUrl: string; peerUrl: string; listenPeerPort: number; proxy: PeerProxy }> {
    const clientPort = await freePort();
    const listenPeerPort = await freePort();
    const proxy = await PeerProxy.start(listenPeerPort);
    return {
      name,
      clientUrl: `http://127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${proxy.port}`,
      listenPeerPort,
      proxy,
    };
  }

  private create(
    p: { name: string; clientUrl: string; peerUrl: string; listenPeerPort: number; proxy: PeerProxy },
    initialCluster: string,
    state: 'new' | 'existing',
  ): Member {
    const dataDir = join(this.base, `${p.name}.etcd`);
    const args = [
      '--name',
      p.name,
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      p.clientUrl,
      '--advertise-client-urls',
      p.clientUrl,
      '--listen-peer-urls',
      `http://127.0.0.1:${p.listenPeerPort}`,
      '--initial-advertise-peer-urls',
      p.peerUrl,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      this.token,
      ...this.extraArgs,
    ];
    const bin = this.kind === 'etcd' ? ETCD_BIN : KETCH_BIN;
    const server = new Server(this.kind, p.clientUrl, p.peerUrl, dataDir, bin, args, childEnv(undefined));
    return { name: p.name, clientUrl: p.clientUrl, peerUrl: p.peerUrl, server, proxy: p.proxy };
  }

  /** `etcdctl member add` through a live member, then starts the new member with state existing. */
  async addMember(name: string, opts: { learner?: boolean } = {}, retryMs = 0): Promise<Member> {
    const p = await this.plan(name);
    const args = ['member', 'add', name, `--peer-urls=${p.peerUrl}`];
    if (opts.learner === true) args.push('--learner');
    const deadline = Date.now() + retryMs;
    let r = await this.ctl(this.live(), args);
    while (r.code !== 0 && Date.now() < deadline) {
      await sleep(500);
      r = await this.ctl(this.live(), args);
    }
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
    const out = r.stdout;
    const line = out.split('\n').find((l) => l.startsWith('ETCD_INITIAL_CLUSTER='));
    assert.ok(line !== undefined, `member add printed ETCD_INITIAL_CLUSTER: ${out}`);
    const initial = line.slice('ETCD_INITIAL_CLUSTER='.length).replace(/^"|"$/g, '');
    const m = this.create(p, initial, 'existing');
    this.members.push(m);
    m.server.spawn();
    return m;
  }

  live(): Member[] {
    return this.members.filter((m) => m.server.running());
  }

  endpoints(members: Member[] = this.live()): string {
    return members.map((m) => m.clientUrl).join(',');
  }

  ctl(members: Member[], args: string[], input?: string): Promise<CmdResult> {
    return etcdctl(this.endpoints(members), args, input === undefined ? {} : { input });
  }

  async ctlOk(members: Member[], args: string[], input?: string): Promise<string> {
    const r = await this.ctl(members, args, input);
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Status of each given member that answers (etcdctl endpoint status -w json). */
  async status(members: Member[] = this.live()): Promise<EndpointStatus[]> {
    const out: EndpointStatus[] = [];
    for (const m of members) {
      const r = await etcdctl(m.clientUrl, ['endpoint', 'status', '-w', 'json', STATUS_TIMEOUT]);
      if (r.code !== 0) continue;
      const arr = parseJsonKeepingIds(r.stdout) as { Endpoint: string; Status: Record<string, unknown> }[];
      for (const e of arr) {
        const s = e.Status;
        const h = s['header'] as Record<string, unknown>;
        out.push({
          endpoint: e.Endpoint,
          memberId: String(h['member_id']),
          leader: idText(s['leader']),
          raftIndex: BigInt(idText(s['raftIndex'])),
          raftTerm: BigInt(idText(s['raftTerm'])),
          revision: BigInt(idText(h['revision'])),
          isLearner: s['isLearner'] === true,
        });
      }
    }
    return out;
  }

  /** Waits until every given member names the same leader, and returns the leader's Member. */
  async waitLeader(members: Member[] = this.live(), timeoutMs = 30_000): Promise<Member> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const st = await this.status(members);
      const leaders = new Set(st.map((s) => s.leader));
      if (st.length === members.length && leaders.size === 1 && !leaders.has('0')) {
        const lead = st.find((s) => s.memberId === [...leaders][0]);
        const m = lead === undefined ? undefined : members.find((x) => x.clientUrl === lead.endpoint);
        if (m !== undefined) return m;
      }
      last = JSON.stringify(st, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
      await sleep(200);
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms: ${last}`);
  }

  /** Waits until the given members report the same revision and raft index. */
  async waitConverged(members: Member[] = this.live(), timeoutMs = 30_000): Promise<EndpointStatus[]> {
    const deadline = Date.now() + timeoutMs;
    let st: EndpointStatus[] = [];
    while (Date.now() < deadline) {
      st = await this.status(members);
      if (
        st.length === members.length &&
        new Set(st.map((s) => s.revision)).size === 1 &&
        new Set(st.map((s) => s.raftIndex)).size === 1
      )
        return st;
      await sleep(200);
    }
    throw new Error(
      `members did not converge: ${JSON.stringify(st, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  }

  async stopAll(): Promise<void> {
    for (const m of this.members) {
      if (m.server.running()) {
        m.server.resume();
        await m.server.kill9();
      }
      await m.proxy.close();
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Puts `w/<n>` keys in a loop through whichever member answers, moving to the next member on any
 * error, and remembers what was acknowledged. Bounded by `maxWrites`.
 */
export class Writer {
  readonly acked = new Map<string, string>();
  failures = 0;
  private stopping = false;
  private done: Promise<void> = Promise.resolve();
  private n = 0;

  constructor(
    private readonly endpoints: () => string[],
    private readonly prefix = 'w/',
    private readonly maxWrites = 20_000,
  ) {}

  start(concurrency = 4): void {
    this.done = Promise.all(Array.from({ length: concurrency }, (_, i) => this.loop(i))).then(
      () => undefined,
    );
  }

  private async loop(worker: number): Promise<void> {
    let at = worker;
    let conn: GrpcConn | undefined;
    let url = '';
    while (!this.stopping && this.n < this.maxWrites) {
      const eps = this.endpoints();
      if (eps.length === 0) {
        await sleep(50);
        continue;
      }
      const want = eps[at % eps.length]!;
      if (conn === undefined || url !== want) {
        conn?.close();
        conn = new GrpcConn(want);
        url = want;
      }
      const key = `${this.prefix}${String(this.n++).padStart(6, '0')}`;
      const value = `v-${key}`;
      try {
        const r = await call(conn, Rpc.Put, { key: Buffer.from(key), value: Buffer.from(value) }, 3000);
        if (r.code === 0) this.acked.set(key, value);
        else throw new Error(r.message);
      } catch {
        this.failures++;
        conn.close();
        conn = undefined;
        at++;
        await sleep(20);
      }
    }
    conn?.close();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

/** Reads every key under `prefix` from one member (serializable: what that member itself holds). */
export async function readAll(endpoint: string, prefix: string): Promise<Map<string, string>> {
  const conn = new GrpcConn(endpoint);
  try {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1]!++;
    const r = await call(conn, Rpc.Range, { key, rangeEnd: end, serializable: true }, 10_000);
    assert.equal(r.code, 0, r.message);
    return new Map(
      (r.res?.kvs ?? []).map((kv) => [Buffer.from(kv.key).toString(), Buffer.from(kv.value).toString()]),
    );
  } finally {
    conn.close();
  }
}

/** Every acknowledged write is present, with its value, on every given member. */
export async function assertAckedEverywhere(
  c: Cluster,
  w: Writer,
  members: Member[] = c.live(),
): Promise<void> {
  await c.waitConverged(members);
  for (const m of members) {
    const got = await readAll(m.clientUrl, 'w/');
    let missing = 0;
    for (const [k, v] of w.acked) if (got.get(k) !== v) missing++;
    assert.equal(missing, 0, `${m.name} lacks ${missing} of ${w.acked.size} acknowledged writes`);
  }
}
