// Helpers for tests that drive a server with Debian's etcdctl: run it, check exit codes, check an
// error's gRPC code and text as etcdctl reports them, and build etcdctl's `-w json` text exactly
// (header IDs and raft term are replaced by placeholders because they differ between runs).
import assert from 'node:assert/strict';
import { etcdctl, type CmdResult } from './harness.js';
import { GrpcConn } from './grpc-wire.js';
import { call, Rpc } from './etcd-pb.js';

export function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** Replaces the run-specific parts of a top-level etcdctl JSON header. */
export function normalizeHeader(json: string): string {
  return json.replace(
    /"cluster_id":\d+,"member_id":\d+,"revision":(\d+),"raft_term":\d+/,
    '"cluster_id":C,"member_id":M,"revision":$1,"raft_term":T',
  );
}

/** etcdctl's JSON for a top-level header at revision `rev` (after normalizeHeader). */
export function hdr(rev: bigint): string {
  return `"header":{"cluster_id":C,"member_id":M,"revision":${rev},"raft_term":T}`;
}

/** etcdctl's JSON for a KeyValue (zero-valued fields are omitted, as etcdctl prints them). */
export function kvJson(key: string, create: bigint, mod: bigint, version: bigint, value?: string): string {
  const parts = [`"key":"${b64(key)}"`, `"create_revision":${create}`, `"mod_revision":${mod}`];
  if (version !== 0n) parts.push(`"version":${version}`);
  if (value !== undefined && value !== '') parts.push(`"value":"${b64(value)}"`);
  return `{${parts.join(',')}}`;
}

export class Ctl {
  constructor(readonly endpoint: string) {}

  run(args: string[], input?: string): Promise<CmdResult> {
    return etcdctl(this.endpoint, args, input === undefined ? {} : { input });
  }

  /** Runs etcdctl, expects exit 0 and an empty stderr, returns stdout. */
  async ok(args: string[], input?: string): Promise<string> {
    const r = await this.run(args, input);
    assert.equal(r.stderr, '', `etcdctl ${args.join(' ')}: unexpected stderr`);
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: exit code`);
    return r.stdout;
  }

  /** Runs etcdctl with -w json and returns its stdout with the header IDs normalized. */
  async json(args: string[], input?: string): Promise<string> {
    return normalizeHeader(await this.ok([...args, '-w', 'json'], input));
  }

  /**
   * Expects the server to reject the request: etcdctl exits 1, names the gRPC code and message in
   * its retry warning, and prints `Error: <message>` as its last line.
   */
  async fails(args: string[], grpcCode: string, message: string, input?: string): Promise<CmdResult> {
    const r = await this.run(args, input);
    assert.equal(r.code, 1, `etcdctl ${args.join(' ')}: exit code (stderr: ${r.stderr})`);
    assert.ok(r.stderr.endsWith(`Error: ${message}\n`), `stderr ends with the error: ${r.stderr}`);
    assert.ok(
      r.stderr.includes(`"error":"rpc error: code = ${grpcCode} desc = ${message}"`),
      `stderr names code ${grpcCode}: ${r.stderr}`,
    );
    return r;
  }
}

/** The server's current revision, read with a gRPC Range. */
export async function currentRevision(endpoint: string): Promise<bigint> {
  const conn = new GrpcConn(endpoint);
  try {
    const r = await call(conn, Rpc.Range, { key: Buffer.from('revision-probe') });
    assert.equal(r.code, 0, r.message);
    const rev = r.res?.header?.revision;
    assert.ok(rev !== undefined, 'range response has a header revision');
    return rev;
  } finally {
    conn.close();
  }
}
