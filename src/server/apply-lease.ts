// Applying the lease entries (etcd's applierV3backend LeaseGrant / LeaseRevoke / LeaseCheckpoint):
// pure functions of (state, entry), inside the batch's backend transaction. A revoke deletes every
// key attached to the lease in ONE write transaction (one revision; its DELETE events reach the
// watchers with the batch's other events), then removes the lease, all in the same transaction.
import type { Clock } from '../base/index.js';
import type { WriteTx } from '../backend/index.js';
import type {
  InternalRaftRequest,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  ResponseHeader,
} from '../generated/etcdserverpb.js';
import type { Lessor } from '../lease/index.js';
import type { MvccAdapter } from './mvcc-adapter.js';

/** The lessor's clock in a real member: monotonic, so wall-clock steps do not expire leases. */
export const monotonicClock: Clock = { nowMs: () => performance.now() };

export interface LeaseApplied {
  leaseGrant?: LeaseGrantResponse;
  leaseRevoke?: LeaseRevokeResponse;
}

const EMPTY = new Uint8Array(0);

function header(revision: bigint): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0n };
}

/**
 * Applies `req` if it is a lease entry and returns its result; undefined for any other entry.
 * Throws EtcdError (lease not found, already exists, TTL too large) before changing anything.
 */
export function applyLeaseRequest(
  tx: WriteTx,
  req: InternalRaftRequest,
  lessor: Lessor,
  kv: MvccAdapter,
): LeaseApplied | undefined {
  if (req.leaseGrant !== undefined) {
    const l = lessor.grant(tx, req.leaseGrant.ID, req.leaseGrant.TTL);
    return { leaseGrant: { header: header(kv.currentRev), ID: l.id, TTL: l.ttl, error: '' } };
  }
  if (req.leaseRevoke !== undefined) {
    const id = req.leaseRevoke.ID;
    const keys = lessor.keysToRevoke(id);
    if (keys.length > 0) {
      kv.inWrite(tx, (w) => {
        for (const k of keys) w.deleteRange(k, EMPTY);
      });
    }
    lessor.revoke(tx, id);
    return { leaseRevoke: { header: header(kv.currentRev) } };
  }
  if (req.leaseCheckpoint !== undefined) {
    for (const c of req.leaseCheckpoint.checkpoints) lessor.checkpoint(tx, c.ID, c.remainingTTL);
    return {};
  }
  return undefined;
}
