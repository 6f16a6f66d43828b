// The small in-process client the lock and election services run over, as etcd 3.4 runs them over
// an in-process clientv3 (etcdserver/api/v3client): each call takes the path a KV request from a
// real client takes — the v3rpc checks, the quota, the proposal through raft (or a linearizable
// read) — and gets the same response header. A call whose caller gives up (its AbortSignal fires)
// rejects at once while the request itself carries on, as a Go call does when its context ends.
import { EtcdError, Err } from '../../base/index.js';
import {
  LeaseGrantRequest,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type RangeRequest,
  type RangeResponse,
  type ResponseHeader,
  type TxnRequest,
  type TxnResponse,
} from '../../generated/etcdserverpb.js';
import type { EtcdServer } from '../etcd-server.js';
import { costTxn, LEASE_OVERHEAD_BYTES } from '../quota.js';
import { checkDeleteRequest, checkRangeRequest, validateTxn } from '../validate.js';
import type { WatchableStore } from '../watch.js';

/** What the client needs of its member; EtcdServer has all of it. */
export type ClientServer = Pick<
  EtcdServer,
  'txn' | 'range' | 'deleteRange' | 'checkQuota' | 'header' | 'revision' | 'watchable' | 'opts' | 'leases'
>;

export class KvClient {
  constructor(private readonly server: ClientServer) {}

  /** The member's watchable store (what clientv3's Watch reaches through the in-process adapter). */
  get watchable(): WatchableStore {
    return this.server.watchable;
  }

  /** A response header at `revision` as the KV service fills it (cluster, member, raft term). */
  header(revision: bigint): ResponseHeader {
    return this.server.header(revision);
  }

  async txn(r: TxnRequest, signal?: AbortSignal): Promise<TxnResponse> {
    validateTxn(r, this.server.opts.maxTxnOps);
    return this.fill(
      await abortable(
        this.quotaThen(costTxn(r), () => this.server.txn(r)),
        signal,
      ),
    );
  }

  /** A linearizable Range. */
  async range(r: RangeRequest, signal?: AbortSignal): Promise<RangeResponse> {
    checkRangeRequest(r);
    return this.fill(await abortable(this.server.range(r), signal));
  }

  async deleteRange(r: DeleteRangeRequest, signal?: AbortSignal): Promise<DeleteRangeResponse> {
    checkDeleteRequest(r);
    return this.fill(await abortable(this.server.deleteRange(r), signal));
  }

  /** Grants a lease with a server-chosen ID (clientv3's Grant through etcd's quota lease server). */
  async grant(ttlSeconds: bigint, signal?: AbortSignal): Promise<bigint> {
    const granted = this.quotaThen(LEASE_OVERHEAD_BYTES, () =>
      this.server.leases.grant(LeaseGrantRequest.create({ ID: 0n, TTL: ttlSeconds })),
    );
    return (await abortable(granted, signal)).ID;
  }

  private async quotaThen<T>(cost: number, f: () => Promise<T>): Promise<T> {
    await this.server.checkQuota(cost);
    return f();
  }

  private fill<T extends { header?: ResponseHeader }>(resp: T): T {
    resp.header = this.server.header(resp.header?.revision ?? this.server.revision);
    return resp;
  }
}

/** The error a call sees once its caller has gone: the signal's reason, or Go's "context canceled". */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof EtcdError ? reason : new EtcdError(Err.contextCanceled);
}

/** Settles as `p` does, or rejects as soon as `signal` fires (`p` carries on; its outcome is dropped). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
