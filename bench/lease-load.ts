// The lease benchmark's two loads on one worker's connections, closed loop, each client with one
// request in flight:
// - keepalive: each client owns one lease and renews it on its own LeaseKeepAlive stream (a
//   long-lived bidi stream, as clientv3 keeps one): send, wait for the answer, send again. An
//   answer must name the lease and carry its full TTL (a TTL ≤ 0 means the lease was lost);
// - grant-revoke: each client grants a lease (server-chosen ID, TTL 60) and revokes it, again and
//   again; one operation is the pair, both through raft.
// Messages are encoded by hand (etcd's field numbers: LeaseGrantRequest{TTL=1, ID=2},
// LeaseGrantResponse{header=1, ID=2, TTL=3}, LeaseRevokeRequest{ID=1},
// LeaseKeepAliveRequest{ID=1}, LeaseKeepAliveResponse{header=1, ID=2, TTL=3}).
import http2 from 'node:http2';
import { GrpcCall } from './grpc-call.js';
import { grpcFrame, readFields } from './grpc-codec.js';
import { H2Connection } from './h2-connection.js';
import { buildRequestTemplate } from './h2-frames.js';
import type { PreparedRequest } from './request.js';
import { H2StreamConnection, type StreamHandler } from './watch-h2.js';

export const GRANT_PATH = '/etcdserverpb.Lease/LeaseGrant';
export const REVOKE_PATH = '/etcdserverpb.Lease/LeaseRevoke';
export const KEEPALIVE_PATH = '/etcdserverpb.Lease/LeaseKeepAlive';
export const LEASES_PATH = '/etcdserverpb.Lease/LeaseLeases';

export type LeaseMode = 'keepalive' | 'grant-revoke';

export interface LeaseLoadSpec {
  mode: LeaseMode;
  host: string;
  port: number;
  /** Clients per connection, one entry per connection. */
  conns: number[];
  durationMs: number;
  /** grant-revoke: the TTL granted. */
  ttl: number;
  /** keepalive: the lease of each client, in connection order. */
  leaseIds: bigint[];
}

export interface LeaseLoadResult {
  ok: number;
  errors: number;
  errorSamples: string[];
  latenciesMs: number[];
  elapsedSec: number;
}

/** A message of int64 fields (zero fields left out), as protobuf encodes it. */
export function encodeInt64Fields(fields: [number, bigint][]): Uint8Array {
  const out: number[] = [];
  for (const [no, v] of fields) {
    if (v === 0n) continue;
    out.push(no << 3);
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      out.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    out.push(Number(u));
  }
  return Uint8Array.from(out);
}

/** A unary request with a fixed body, for H2Connection. */
export function unaryRequest(authority: string, path: string, message: Uint8Array): PreparedRequest {
  const body = grpcFrame(message);
  const nodeHeaders: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  return {
    path,
    body,
    keyOffsetInBody: -1,
    keyLength: 0,
    template: buildRequestTemplate(authority, path, body),
    nodeHeaders,
  };
}

/** Field `no` of a message as an int64 (0 when absent). */
export function int64Field(msg: Uint8Array, no: number): bigint {
  let v = 0n;
  for (const f of readFields(msg)) if (f.field === no) v = BigInt.asIntN(64, f.varint);
  return v;
}

class Tally {
  ok = 0;
  errors = 0;
  readonly samples = new Map<string, number>();
  readonly latenciesMs: number[] = [];
  error(what: string): void {
    this.errors++;
    this.samples.set(what, (this.samples.get(what) ?? 0) + 1);
  }
  result(elapsedSec: number): LeaseLoadResult {
    return {
      ok: this.ok,
      errors: this.errors,
      errorSamples: [...this.samples].slice(0, 5).map(([m, n]) => `${m} (×${n})`),
      latenciesMs: this.latenciesMs,
      elapsedSec,
    };
  }
}

function grantRevokeClient(
  conn: H2Connection,
  authority: string,
  ttl: number,
  end: number,
  t: Tally,
): Promise<void> {
  const grant = unaryRequest(authority, GRANT_PATH, encodeInt64Fields([[1, BigInt(ttl)]]));
  return new Promise((resolve) => {
    let phase: 'grant' | 'revoke' = 'grant';
    let startMs = 0;
    const next = (): void => {
      if (performance.now() >= end) return resolve();
      phase = 'grant';
      startMs = performance.now();
      conn.request(call, grant);
    };
    const call = new GrpcCall((status, message, body) => {
      if (status !== 0 || body === null) {
        t.error(`${phase}: grpc-status ${status}: ${message}`);
        return next();
      }
      if (phase === 'grant') {
        const id = int64Field(body, 2);
        if (id <= 0n) {
          t.error('grant: no lease ID in the reply');
          return next();
        }
        phase = 'revoke';
        conn.request(call, unaryRequest(authority, REVOKE_PATH, encodeInt64Fields([[1, id]])));
        return;
      }
      t.ok++;
      t.latenciesMs.push(performance.now() - startMs);
      next();
    }, true);
    next();
  });
}

class KeepAliveStream implements StreamHandler {
  private readonly id: number;
  private readonly msg: Uint8Array;
  private sentMs = 0;
  private done = false;
  readonly finished: Promise<void>;
  private finish: () => void = () => undefined;

  constructor(
    private readonly conn: H2StreamConnection,
    private readonly lease: bigint,
    private readonly end: number,
    private readonly t: Tally,
  ) {
    this.msg = grpcFrame(encodeInt64Fields([[1, lease]]));
    this.finished = new Promise((r) => (this.finish = r));
    this.id = conn.openStream(KEEPALIVE_PATH, this);
  }

  send(): void {
    if (performance.now() >= this.end) {
      this.done = true;
      return this.finish();
    }
    this.sentMs = performance.now();
    this.conn.send(this.id, this.msg);
  }

  onMessage(msg: Uint8Array, recvMs: number): void {
    if (this.done) return;
    const id = int64Field(msg, 2);
    const ttl = int64Field(msg, 3);
    if (id !== this.lease || ttl <= 0n) this.t.error(`keepalive answered ID ${id} TTL ${ttl}`);
    else {
      this.t.ok++;
      this.t.latenciesMs.push(recvMs - this.sentMs);
    }
    this.send();
  }

  onClose(reason: string): void {
    if (this.done) return;
    this.t.error(`keepalive stream ended: ${reason}`);
    this.done = true;
    this.finish();
  }
}

/** Runs one worker's share of a load; resolves when every client has stopped after the deadline. */
export async function runLeaseLoad(spec: LeaseLoadSpec): Promise<LeaseLoadResult> {
  const t = new Tally();
  const authority = `${spec.host}:${spec.port}`;
  const start = performance.now();
  const end = start + spec.durationMs;
  const clients: Promise<void>[] = [];
  const closers: (() => void)[] = [];
  let lease = 0;
  for (const n of spec.conns) {
    if (spec.mode === 'grant-revoke') {
      const conn = await H2Connection.connect(spec.host, spec.port);
      closers.push(() => conn.close('the load is over'));
      for (let i = 0; i < n; i++) clients.push(grantRevokeClient(conn, authority, spec.ttl, end, t));
    } else {
      const conn = await H2StreamConnection.connect(spec.host, spec.port);
      closers.push(() => conn.close('the load is over'));
      for (let i = 0; i < n; i++) {
        const s = new KeepAliveStream(conn, spec.leaseIds[lease++]!, end, t);
        s.send();
        clients.push(s.finished);
      }
    }
  }
  await Promise.all(clients);
  const elapsedSec = (performance.now() - start) / 1000;
  for (const c of closers) c();
  return t.result(elapsedSec);
}
