// Checks a request must pass before it is proposed, with etcd 3.4's exact errors
// (etcdserver/api/v3rpc/key.go): empty keys, ignore_value/ignore_lease misuse, the txn op limit,
// empty ops, and puts that collide with other puts or deletes in the same txn branch.
import { compareBytes, EtcdError, Err } from '../base/index.js';
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../generated/etcdserverpb.js';

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw new EtcdError(Err.emptyKey);
  // etcd 3.4 dies on an unknown sort target and ignores an unknown order; we answer as 3.5 does.
  if (!Number.isInteger(r.sortOrder) || r.sortOrder < 0 || r.sortOrder > 2)
    throw new EtcdError(Err.invalidSortOption);
  if (!Number.isInteger(r.sortTarget) || r.sortTarget < 0 || r.sortTarget > 4)
    throw new EtcdError(Err.invalidSortOption);
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw new EtcdError(Err.emptyKey);
  if (r.ignoreValue && r.value.length !== 0) throw new EtcdError(Err.valueProvided);
  if (r.ignoreLease && r.lease !== 0n) throw new EtcdError(Err.leaseProvided);
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new EtcdError(Err.emptyKey);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (op.requestRange !== undefined) checkRangeRequest(op.requestRange);
  else if (op.requestPut !== undefined) checkPutRequest(op.requestPut);
  else if (op.requestDeleteRange !== undefined) checkDeleteRequest(op.requestDeleteRange);
  else if (op.requestTxn !== undefined) checkTxnRequest(op.requestTxn, maxTxnOps);
  else throw new EtcdError(Err.keyNotFound);
}

export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new EtcdError(Err.tooManyOps);
  for (const c of r.compare) if (c.key.length === 0) throw new EtcdError(Err.emptyKey);
  // Nested txns share the budget that the outer one leaves, as etcd does.
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

/** Everything etcd checks on a Txn before proposing it: ops first, then put/delete overlaps. */
export function validateTxn(r: TxnRequest, maxTxnOps: number): void {
  checkTxnRequest(r, maxTxnOps);
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

/** A delete's interval: [key, end), or the single key when end is empty. Ends compare literally. */
interface Interval {
  key: Uint8Array;
  end: Uint8Array | undefined;
}

function hits(dels: Interval[], k: Uint8Array): boolean {
  return dels.some((d) =>
    d.end === undefined
      ? compareBytes(d.key, k) === 0
      : compareBytes(d.key, k) <= 0 && compareBytes(k, d.end) < 0,
  );
}

function keyString(k: Uint8Array): string {
  return Buffer.from(k).toString('latin1');
}

/**
 * Puts in one branch must not repeat a key nor fall in a range the same branch deletes; nested
 * txns' then/else branches may put the same key (only one of them runs).
 */
function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of reqs) {
    const d = op.requestDeleteRange;
    if (d !== undefined) dels.push({ key: d.key, end: d.rangeEnd.length > 0 ? d.rangeEnd : undefined });
  }
  const puts = new Set<string>();
  const dup = (): never => {
    throw new EtcdError(Err.duplicateKey);
  };
  for (const op of reqs) {
    if (op.requestTxn === undefined) continue;
    const then = checkIntervals(op.requestTxn.success);
    const els = checkIntervals(op.requestTxn.failure);
    for (const k of then.puts) {
      if (puts.has(k) || hits(dels, Buffer.from(k, 'latin1'))) dup();
      puts.add(k);
    }
    for (const k of els.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || hits(dels, Buffer.from(k, 'latin1'))) dup();
      puts.add(k);
    }
    dels.push(...then.dels, ...els.dels);
  }
  for (const op of reqs) {
    const p = op.requestPut;
    if (p === undefined) continue;
    const k = keyString(p.key);
    if (puts.has(k) || hits(dels, p.key)) dup();
    puts.add(k);
  }
  return { puts, dels };
}
