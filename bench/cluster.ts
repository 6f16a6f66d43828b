// The thing each measurement runs against: a fresh cluster of N processes of one binary on
// loopback (N = 1 is the single server of servers.ts, started with exactly the flags it always
// had). Members of a larger cluster get etcd's clustering flags (--name mI, --initial-cluster
// listing every member's peer URL, --initial-cluster-state new, an --initial-cluster-token unique
// to this cluster), their own temp data dir and free ports. The cluster is ready once every member
// answers a linearizable Range and every member's Maintenance Status names the same leader, one
// of the members. On a failed start every member that started is stopped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeStatusResponse, type StatusSummary } from './grpc-codec.js';
import { TRANSPORT_ERROR } from './grpc-call.js';
import { unaryCall } from './probe.js';
import { prepareStatus } from './request.js';
import { freePorts, HOST, ServerProcess } from './servers.js';

export interface MemberAddress {
  name: string;
  clientPort: number;
  peerPort: number;
}

/** Member names and ports of an n-member cluster: m1, m2, ... on the given 2n ports. */
export function memberAddresses(ports: readonly number[]): MemberAddress[] {
  if (ports.length % 2 !== 0) throw new Error('a member needs a client and a peer port');
  return Array.from({ length: ports.length / 2 }, (_, i) => ({
    name: `m${i + 1}`,
    clientPort: ports[2 * i] as number,
    peerPort: ports[2 * i + 1] as number,
  }));
}

/** etcd's flags for member `i` of a new cluster of `members` (shared by etcd and ketch). */
export function clusterFlags(
  members: readonly MemberAddress[],
  i: number,
  dataDir: string,
  token: string,
): string[] {
  const me = members[i];
  if (me === undefined) throw new Error(`no member ${i} in a cluster of ${members.length}`);
  const peerUrl = (m: MemberAddress): string => `http://${HOST}:${m.peerPort}`;
  const client = `http://${HOST}:${me.clientPort}`;
  return [
    `--name=${me.name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peerUrl(me)}`,
    `--initial-advertise-peer-urls=${peerUrl(me)}`,
    `--initial-cluster=${members.map((m) => `${m.name}=${peerUrl(m)}`).join(',')}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${token}`,
  ];
}

/**
 * The leader every member names, as an index into `statuses` (in member order), or why there is
 * none yet: a member without an answer, without a leader, or members that disagree.
 */
export function agreedLeader(statuses: readonly (StatusSummary | string)[]): number | string {
  const leaders = new Set<bigint>();
  for (const [i, s] of statuses.entries()) {
    if (typeof s === 'string') return `m${i + 1}: ${s}`;
    if (s.leader === 0n) return `m${i + 1} has no leader`;
    leaders.add(s.leader);
  }
  if (leaders.size !== 1) return `members name different leaders (${[...leaders].join(', ')})`;
  const [leader] = leaders;
  const at = statuses.findIndex((s) => typeof s !== 'string' && s.memberId === leader);
  return at >= 0 ? at : `the leader ${leader} is not one of the members`;
}

async function status(port: number): Promise<StatusSummary | string> {
  const r = await unaryCall(HOST, port, prepareStatus(`${HOST}:${port}`), 0, 1000);
  if (r.status !== 0 || r.body === null)
    return r.status === TRANSPORT_ERROR ? r.message : `grpc-status ${r.status}: ${r.message}`;
  try {
    return decodeStatusResponse(r.body);
  } catch (err) {
    return `unreadable StatusResponse: ${(err as Error).message}`;
  }
}

let clustersStarted = 0;

export class ServerCluster {
  private constructor(
    readonly members: readonly ServerProcess[],
    /** Index of the member that led when the cluster became ready (0 for a single member). */
    readonly leader: number,
  ) {}

  static async start(
    label: string,
    bin: string,
    size: number,
    readyTimeoutMs: number,
  ): Promise<ServerCluster> {
    if (size === 1) return new ServerCluster([await ServerProcess.start(label, bin, readyTimeoutMs)], 0);
    const addrs = memberAddresses(await freePorts(2 * size));
    const token = `ketch-bench-${process.pid}-${++clustersStarted}-${randomBytes(4).toString('hex')}`;
    const members: ServerProcess[] = [];
    try {
      for (const [i, m] of addrs.entries()) {
        const tmpDir = mkdtempSync(path.join(os.tmpdir(), `ketch-bench-${label}-${m.name}-`));
        const argv = [bin, ...clusterFlags(addrs, i, path.join(tmpDir, 'data'), token)];
        members.push(ServerProcess.spawn(`${label} ${m.name}`, argv, m.clientPort, tmpDir));
      }
      const until = Date.now() + readyTimeoutMs;
      await Promise.all(members.map((m) => m.waitReady(readyTimeoutMs)));
      return new ServerCluster(members, await ServerCluster.waitLeader(label, members, until));
    } catch (err) {
      await Promise.all(members.map((m) => m.stop()));
      throw err;
    }
  }

  private static async waitLeader(label: string, members: ServerProcess[], until: number): Promise<number> {
    let last = '';
    for (;;) {
      for (const m of members) m.checkRunning();
      const agreed = agreedLeader(await Promise.all(members.map((m) => status(m.port))));
      if (typeof agreed === 'number') return agreed;
      last = agreed;
      if (Date.now() >= until) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${label}: the members did not agree on a leader in time (last: ${last})`);
  }

  get size(): number {
    return this.members.length;
  }

  /** Client ports in member order; a load's connection j goes to port j % size. */
  get ports(): number[] {
    return this.members.map((m) => m.port);
  }

  get pids(): number[] {
    return this.members.map((m) => m.pid);
  }

  /** Name of the member that led when the cluster became ready ('m2'), or null for one member. */
  get leaderName(): string | null {
    return this.size === 1 ? null : `m${this.leader + 1}`;
  }

  /** Member 1's command line (the others differ only in name, ports and data dir). */
  get commandLine(): string {
    return (this.members[0] as ServerProcess).commandLine;
  }

  get alive(): boolean {
    return this.members.every((m) => m.alive);
  }

  /** How the first member that exited did so, or null while all run. */
  get exitReason(): string | null {
    const dead = this.members.find((m) => !m.alive);
    return dead === undefined ? null : `${this.size > 1 ? `${dead.label}: ` : ''}${dead.exitReason}`;
  }

  /** Log tails of the members that exited (of all members if none did). */
  logTail(): string {
    const dead = this.members.filter((m) => !m.alive);
    const shown = dead.length > 0 ? dead : this.members;
    if (this.size === 1) return shown.map((m) => m.logTail()).join('\n');
    return shown.map((m) => `  ${m.label}:\n${m.logTail(8)}`).join('\n');
  }

  get tmpDirs(): string[] {
    return this.members.map((m) => m.tmpDir);
  }

  async stop(graceMs = 10_000, keep = false): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop(graceMs, keep)));
  }
}
