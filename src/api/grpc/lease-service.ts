// The Lease service as etcd 3.4's v3rpc/lease.go serves it: LeaseGrant and LeaseRevoke through
// raft; LeaseKeepAlive as a bidi stream on which an unknown or expired lease is answered with TTL 0
// (not an error); LeaseTimeToLive answering TTL -1 for an unknown lease; LeaseLeases. Headers are
// filled as etcd's header filler does: cluster, member and raft term now, the revision kept when the
// server set one (grant and revoke carry the revision they were applied at).
import { EtcdError, Err } from '../../base/errors.js';
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  ResponseHeader,
} from '../../generated/etcdserverpb.js';
import type { LeaseServer } from '../../server/leases.js';
import type { BidiStream, CallContext } from './bind.js';

/** Keepalives of one stream being renewed at once; the stream is not read further meanwhile. */
export const MAX_KEEPALIVES_IN_FLIGHT_PER_STREAM = 256;

/** What the service needs of the server (EtcdServer has it). */
export interface LeaseServiceHost {
  readonly leases: LeaseServer;
  readonly revision: bigint;
  header(revision: bigint): ResponseHeader;
}

const isNotFound = (err: unknown): boolean => err instanceof EtcdError && err.message === Err.leaseNotFound;

export function leaseService(server: LeaseServiceHost) {
  const fill = <T extends { header?: ResponseHeader }>(resp: T): T => {
    const rev = resp.header?.revision ?? 0n;
    resp.header = server.header(rev !== 0n ? rev : server.revision);
    return resp;
  };
  return {
    async LeaseGrant(r: LeaseGrantRequest): Promise<LeaseGrantResponse> {
      return fill(await server.leases.grant(r));
    },
    async LeaseRevoke(r: LeaseRevokeRequest): Promise<LeaseRevokeResponse> {
      return fill(await server.leases.revoke(r));
    },
    async LeaseTimeToLive(r: LeaseTimeToLiveRequest, ctx: CallContext): Promise<LeaseTimeToLiveResponse> {
      try {
        return fill(await server.leases.timeToLive(r, ctx.signal));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return fill({ header: undefined, ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] });
      }
    },
    LeaseLeases(_r: LeaseLeasesRequest): LeaseLeasesResponse {
      return fill(server.leases.leases());
    },
    LeaseKeepAlive(stream: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>): Promise<void> {
      return keepAlive(server, stream);
    },
  };
}

/**
 * Reads keepalives and answers each with the renewed TTL (0 when the lease is gone). Renewals run
 * concurrently (clients match answers by ID); the first failure other than "not found" ends the
 * stream with that error, as etcd's leaseKeepAlive returns it.
 */
function keepAlive(
  server: LeaseServiceHost,
  stream: BidiStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>,
): Promise<void> {
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  const inflight = new Set<Promise<void>>();
  const one = async (req: LeaseKeepAliveRequest): Promise<void> => {
    // The header is taken before the renewal, so its revision is at most the one the renewal saw.
    const header = server.header(server.revision);
    let ttl: bigint;
    try {
      ttl = await server.leases.renew(req.ID, stream.signal);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      ttl = 0n;
    }
    if (stream.done) return;
    if (!stream.send({ header, ID: req.ID, TTL: ttl })) await stream.drain();
  };
  const loop = async (): Promise<void> => {
    for await (const req of stream) {
      const p: Promise<void> = one(req)
        .catch((err: unknown) => fail(err))
        .finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= MAX_KEEPALIVES_IN_FLIGHT_PER_STREAM) await Promise.race([...inflight]);
    }
    await Promise.all([...inflight]);
  };
  return Promise.race([loop(), failed]);
}
