// Differential testing: one real etcd 3.4 and one server under test, started side by side and
// driven in lockstep with the same requests. Every answer must be equal — gRPC status code, status
// message and the decoded response — except the top-level header's cluster_id, member_id and
// raft_term, which identify the run rather than the data (they must still be non-zero on both).
import assert from 'node:assert/strict';
import { startServer, target, etcdctl, type ServerHandle, type CmdResult } from './harness.js';
import { GrpcConn, type UnaryResult } from './grpc-wire.js';
import { call, type CallResult } from './etcd-pb.js';
import type { MsgDef } from './pb.js';
import { normalizeHeader } from './ctl-helpers.js';

/** Bytes from a string, byte per char (so '\xff' is the byte 0xff). */
export function k(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** A readable, comparable form: Buffers as b'..' (latin1) strings, bigints kept. */
export function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return `b'${v.toString('latin1')}'`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, x] of Object.entries(v)) out[key] = plain(x);
    return out;
  }
  return v;
}

interface Header {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
}

function normalize(side: string, r: CallResult<object>): unknown {
  const res = r.res as { header?: Header } | undefined;
  if (res?.header !== undefined) {
    const h = res.header;
    assert.ok(
      h.clusterId !== 0n && h.memberId !== 0n && h.raftTerm !== 0n,
      `${side}: header IDs and term set`,
    );
    return plain({ ...r, res: { ...res, header: { ...h, clusterId: 0n, memberId: 0n, raftTerm: 0n } } });
  }
  return plain(r);
}

/** The parts of an etcdctl run that must agree: exit code, stdout, and the error etcdctl reports. */
function ctlOutcome(r: CmdResult): unknown {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const rpc = /"error":"(rpc error: code = [^"]*)"/.exec(r.stderr)?.[1];
  return { code: r.code, stdout: normalizeHeader(r.stdout), rpc, last: lines[lines.length - 1] };
}

export class Differential {
  private constructor(
    readonly etcd: ServerHandle,
    readonly sut: ServerHandle,
    private readonly etcdConn: GrpcConn,
    private readonly sutConn: GrpcConn,
  ) {}

  static async start(): Promise<Differential> {
    const [etcd, sut] = await Promise.all([startServer('etcd'), startServer(target())]);
    return new Differential(etcd, sut, new GrpcConn(etcd.clientUrl), new GrpcConn(sut.clientUrl));
  }

  async stop(): Promise<void> {
    this.etcdConn.close();
    this.sutConn.close();
    await Promise.all([this.etcd.stop(), this.sut.stop()]);
  }

  /** Sends one request to both; asserts equal outcomes; returns etcd's answer. */
  async same<Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    request: Partial<Q>,
    note = '',
  ): Promise<CallResult<R>> {
    const [a, b] = await Promise.all([call(this.etcdConn, rpc, request), call(this.sutConn, rpc, request)]);
    const shown = JSON.stringify(plain(request), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    const what = `${rpc.path} ${note} ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`;
    assert.deepStrictEqual(normalize(this.sut.kind, b), normalize('etcd', a), what);
    return a;
  }

  /** Like same(), and also asserts the code etcd answered (so a scenario documents what it tests). */
  async expect<Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    request: Partial<Q>,
    code: number,
    message = '',
  ): Promise<CallResult<R>> {
    const a = await this.same(rpc, request);
    assert.deepStrictEqual(
      { code: a.code, message: a.message },
      { code, message },
      `etcd's answer to ${rpc.path}`,
    );
    return a;
  }

  /** Sends one request to the server under test only (for behaviour etcd 3.4 cannot be asked about). */
  sutCall<Q extends object, R extends object>(
    rpc: { path: string; req: MsgDef<Q>; res: MsgDef<R> },
    request: Partial<Q>,
  ): Promise<CallResult<R>> {
    return call(this.sutConn, rpc, request);
  }

  /** Sends raw request bytes to both; returns both raw answers for the caller to compare. */
  async raw(path: string, body: Uint8Array): Promise<[UnaryResult, UnaryResult]> {
    return Promise.all([this.etcdConn.unary(path, body), this.sutConn.unary(path, body)]);
  }

  /** Runs the same etcdctl command against both; exit code, stdout and reported error must agree. */
  async ctl(args: string[], input?: string): Promise<CmdResult> {
    const opts = input === undefined ? {} : { input };
    const [a, b] = await Promise.all([
      etcdctl(this.etcd.clientUrl, args, opts),
      etcdctl(this.sut.clientUrl, args, opts),
    ]);
    assert.deepStrictEqual(ctlOutcome(b), ctlOutcome(a), `etcdctl ${args.join(' ')}`);
    return a;
  }
}
