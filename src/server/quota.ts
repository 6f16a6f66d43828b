// The backend quota (etcd's quota.go): a write whose estimated cost would take the backend past
// --quota-backend-bytes raises the cluster-wide NOSPACE alarm and is refused; while the alarm is
// active, writes are refused at apply time on every member. ketch measures the bytes LMDB has in
// use rather than the file size: LMDB reuses the pages compaction frees, so compacting is enough
// to make room again (etcd needs a defrag too), but the alarm is still disarmed by hand, as in etcd.
import type { PutRequest, RequestOp, TxnRequest } from '../generated/etcdserverpb.js';
import { DEFAULT_QUOTA_BYTES } from './limits.js';

/** Estimated bytes a key's metadata costs beside its key and value. */
const KV_OVERHEAD_BYTES = 256;
/** Estimated bytes one lease costs. */
export const LEASE_OVERHEAD_BYTES = 64;

export function costPut(r: PutRequest): number {
  return KV_OVERHEAD_BYTES + r.key.length + r.value.length;
}

function costOps(ops: RequestOp[]): number {
  let n = 0;
  for (const op of ops) if (op.requestPut !== undefined) n += costPut(op.requestPut);
  return n;
}

/** The costlier branch's puts (nested txns are not counted, as in etcd). */
export function costTxn(r: TxnRequest): number {
  return Math.max(costOps(r.success), costOps(r.failure));
}

/** The quota in bytes: 0 means etcd's default, a negative value turns the quota off. */
export function effectiveQuotaBytes(configured: number): number {
  if (configured < 0) return Number.POSITIVE_INFINITY;
  return configured === 0 ? DEFAULT_QUOTA_BYTES : configured;
}
