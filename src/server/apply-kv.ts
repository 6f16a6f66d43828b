// Applying KV requests to a view of the MVCC store, with etcd 3.4's semantics (etcdserver/apply.go):
// Range's filters, sort and limit; Put's prev_kv, ignore_value and ignore_lease; DeleteRange's
// prev_kv; Txn's compares, branch choice, pre-flight checks and nested txns. Pure functions of
// (view, request): no clock, no I/O.
import { compareBytes, EtcdError, Err } from '../base/index.js';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../generated/etcdserverpb.js';
import type { KeyValue } from '../generated/mvccpb.js';
import type { LeaseLookup, ReadView, WriteView } from './kv-view.js';

const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;
const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

function header(revision: bigint): {
  clusterId: bigint;
  memberId: bigint;
  revision: bigint;
  raftTerm: bigint;
} {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0n };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sorter(target: number): ((a: KeyValue, b: KeyValue) => number) | undefined {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareBytes(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => cmpBig(a.version, b.version);
    case SortTarget.CREATE:
      return (a, b) => cmpBig(a.createRevision, b.createRevision);
    case SortTarget.MOD:
      return (a, b) => cmpBig(a.modRevision, b.modRevision);
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return undefined;
  }
}

export function applyRange(view: ReadView, r: RangeRequest): RangeResponse {
  const filtered =
    r.minModRevision !== 0n ||
    r.maxModRevision !== 0n ||
    r.minCreateRevision !== 0n ||
    r.maxCreateRevision !== 0n;
  const requestLimit = Number(r.limit);
  // Sorting or filtering needs every kv first; otherwise fetch one extra to learn whether there is more.
  let limit = r.sortOrder !== SortOrder.NONE || filtered ? 0 : requestLimit;
  if (limit > 0) limit += 1;
  const rr = view.range(r.key, r.rangeEnd, { rev: r.revision, limit, countOnly: r.countOnly });
  let kvs = rr.kvs;
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        (r.maxModRevision === 0n || kv.modRevision <= r.maxModRevision) &&
        (r.minModRevision === 0n || kv.modRevision >= r.minModRevision) &&
        (r.maxCreateRevision === 0n || kv.createRevision <= r.maxCreateRevision) &&
        (r.minCreateRevision === 0n || kv.createRevision >= r.minCreateRevision),
    );
  }
  let order = r.sortOrder;
  // The store returns kvs in key order already, so a KEY sort needs asking for; other targets
  // sort ascending unless told otherwise.
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  const cmp = sorter(r.sortTarget);
  if (cmp !== undefined && order === SortOrder.ASCEND) kvs = kvs.slice().sort(cmp);
  else if (cmp !== undefined && order === SortOrder.DESCEND) kvs = kvs.slice().sort((a, b) => cmp(b, a));
  let more = false;
  if (requestLimit > 0 && kvs.length > requestLimit) {
    kvs = kvs.slice(0, requestLimit);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
  return { header: header(rr.rev), kvs, more, count: BigInt(rr.count) };
}

function getOne(view: ReadView, key: Uint8Array): KeyValue | undefined {
  return view.range(key, new Uint8Array(0), { rev: 0n, limit: 0, countOnly: false }).kvs[0];
}

export function applyPut(view: WriteView, p: PutRequest): PutResponse {
  let value = p.value;
  let lease = p.lease;
  const prev = p.ignoreValue || p.ignoreLease || p.prevKv ? getOne(view, p.key) : undefined;
  if ((p.ignoreValue || p.ignoreLease) && prev === undefined) throw new EtcdError(Err.keyNotFound);
  if (p.ignoreValue) value = prev!.value;
  if (p.ignoreLease) lease = prev!.lease;
  const rev = view.put(p.key, value, lease);
  const resp: PutResponse = { header: header(rev) };
  if (p.prevKv && prev !== undefined) resp.prevKv = prev;
  return resp;
}

export function applyDeleteRange(view: WriteView, d: DeleteRangeRequest): DeleteRangeResponse {
  const prevKvs = d.prevKv ? view.range(d.key, d.rangeEnd, { rev: 0n, limit: 0, countOnly: false }).kvs : [];
  const { deleted, rev } = view.deleteRange(d.key, d.rangeEnd);
  return { header: header(rev), deleted: BigInt(deleted), prevKvs };
}

/** Checks a Put outside a txn, before it touches the store (etcd checks the lease first). */
export function checkPutLease(p: PutRequest, leases: LeaseLookup): void {
  if (p.lease !== 0n && !leases.exists(p.lease)) throw new EtcdError(Err.leaseNotFound);
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let result: number;
  switch (c.target) {
    case CompareTarget.VALUE:
      result = compareBytes(kv.value, c.value ?? new Uint8Array(0));
      break;
    case CompareTarget.CREATE:
      result = cmpBig(kv.createRevision, c.createRevision ?? 0n);
      break;
    case CompareTarget.MOD:
      result = cmpBig(kv.modRevision, c.modRevision ?? 0n);
      break;
    case CompareTarget.VERSION:
      result = cmpBig(kv.version, c.version ?? 0n);
      break;
    case CompareTarget.LEASE:
      result = cmpBig(kv.lease, c.lease ?? 0n);
      break;
    default:
      result = 0;
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
    default:
      return true;
  }
}

const zeroKv: KeyValue = {
  key: new Uint8Array(0),
  createRevision: 0n,
  modRevision: 0n,
  version: 0n,
  value: new Uint8Array(0),
  lease: 0n,
};

function applyCompare(view: ReadView, c: Compare): boolean {
  let kvs: KeyValue[];
  try {
    kvs = view.range(c.key, c.rangeEnd, { rev: 0n, limit: 0, countOnly: false }).kvs;
  } catch {
    return false;
  }
  // A missing key compares as a zero KeyValue, except that a VALUE compare on it always fails.
  if (kvs.length === 0) return c.target === CompareTarget.VALUE ? false : compareKv(c, zeroKv);
  return kvs.every((kv) => compareKv(c, kv));
}

/** The branch each txn (outer first, then nested ones depth-first) takes: decided before any op runs. */
function compareToPath(view: ReadView, rt: TxnRequest): boolean[] {
  const ok = rt.compare.every((c) => applyCompare(view, c));
  const path = [ok];
  for (const op of ok ? rt.success : rt.failure) {
    if (op.requestTxn !== undefined) path.push(...compareToPath(view, op.requestTxn));
  }
  return path;
}

/** Visits the ops the path selects; returns how many nested txns were consumed. */
function walkOps(rt: TxnRequest, path: boolean[], at: number, visit: (op: RequestOp) => void): number {
  let next = at + 1;
  for (const op of path[at] ? rt.success : rt.failure) {
    if (op.requestTxn !== undefined) next = walkOps(op.requestTxn, path, next, visit);
    else visit(op);
  }
  return next;
}

export function isTxnReadonly(rt: TxnRequest): boolean {
  return [...rt.success, ...rt.failure].every((op) => op.requestRange !== undefined);
}

export function isTxnSerializable(rt: TxnRequest): boolean {
  return [...rt.success, ...rt.failure].every((op) => op.requestRange?.serializable === true);
}

function checkOps(
  view: ReadView,
  rt: TxnRequest,
  path: boolean[],
  isWrite: boolean,
  leases: LeaseLookup,
): void {
  walkOps(rt, path, 0, (op) => {
    const put = op.requestPut;
    if (isWrite && put !== undefined) {
      if ((put.ignoreValue || put.ignoreLease) && getOne(view, put.key) === undefined) {
        throw new EtcdError(Err.keyNotFound);
      }
      if (put.lease !== 0n && !leases.exists(put.lease)) throw new EtcdError(Err.leaseNotFound);
    }
    const range = op.requestRange;
    if (range !== undefined && range.revision !== 0n) {
      if (range.revision > view.rev) throw new EtcdError(Err.futureRev);
      if (range.revision < view.firstRev) throw new EtcdError(Err.compacted);
    }
  });
}

function runOps(
  view: WriteView | ReadView,
  rt: TxnRequest,
  path: boolean[],
  at: number,
): [TxnResponse, number] {
  const succeeded = path[at]!;
  let next = at + 1;
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? rt.success : rt.failure) {
    if (op.requestRange !== undefined) responses.push({ responseRange: applyRange(view, op.requestRange) });
    else if (op.requestPut !== undefined)
      responses.push({ responsePut: applyPut(view as WriteView, op.requestPut) });
    else if (op.requestDeleteRange !== undefined) {
      responses.push({ responseDeleteRange: applyDeleteRange(view as WriteView, op.requestDeleteRange) });
    } else if (op.requestTxn !== undefined) {
      const [resp, after] = runOps(view, op.requestTxn, path, next);
      next = after;
      responses.push({ responseTxn: resp });
    } else responses.push({});
  }
  return [{ header: header(0n), succeeded, responses }, next];
}

/**
 * Applies a txn. `read` is a view of the current state; `write` opens the write view, called only
 * when the chosen branches write. Errors from the pre-flight checks leave the store untouched.
 */
export function applyTxn(
  read: ReadView,
  write: () => WriteView,
  rt: TxnRequest,
  leases: LeaseLookup,
): { resp: TxnResponse; view: ReadView } {
  const isWrite = !isTxnReadonly(rt);
  const path = compareToPath(read, rt);
  checkOps(read, rt, path, isWrite, leases);
  const view = isWrite ? write() : read;
  const [resp] = runOps(view, rt, path, 0);
  // The txn's revision is the write revision once anything changed, else the revision it read at.
  resp.header = header(view.rev);
  return { resp, view };
}
