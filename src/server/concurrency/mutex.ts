// The distributed lock of etcd's v3lock service (etcdserver/api/v3lock over
// clientv3/concurrency/mutex.go): contenders queue as keys `name/<lease hex>` attached to their
// lease, the lock belongs to the key with the lowest create revision, and a contender waits until
// every key created before its own is deleted.
//
// One change from etcd 3.4, the one etcd 3.5 made after Jepsen's etcd 3.4.3 analysis: a contender
// whose own key vanished while it waited (its lease expired, or someone deleted the key) must not be
// told it holds the lock. After the wait it reads its key again and answers "mutex: session is
// expired" (etcd ≥ 3.5's ErrSessionExpired) unless the key is still there with the create revision
// it queued with. (etcd 3.5 checks only that the key exists; a key re-created by another request
// with the same lease has lost its place in the queue, so it is refused here too.)
import { assert, EtcdError } from '../../base/index.js';
import { EMPTY_BYTES } from '../../generated/wire.js';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
  type ResponseHeader,
} from '../../generated/etcdserverpb.js';
import type { KvClient } from './kv-client.js';
import { byCreateRequest, waitDeletes } from './key-watch.js';
import { prefixOf, sessionKey, sessionLease } from './session.js';

/** etcd ≥ 3.5's concurrency.ErrSessionExpired. */
export const ERR_SESSION_EXPIRED = 'mutex: session is expired';

export interface LockResult {
  header: ResponseHeader;
  /** The key that holds the lock; Unlock deletes it. */
  key: Uint8Array;
}

/** A compare that holds while `key` does not exist (its create revision is 0). */
export function absent(key: Uint8Array): Compare {
  return Compare.create({
    key,
    target: Compare_CompareTarget.CREATE,
    result: Compare_CompareResult.EQUAL,
    createRevision: 0n,
  });
}

/**
 * Takes the lock `name` for `lease` (0: a fresh 60 s lease). Resolves once this key is the oldest
 * under the prefix; if the wait fails or the caller gives up, the key is deleted before rejecting.
 */
export async function lock(
  client: KvClient,
  name: Uint8Array,
  lease: bigint,
  signal: AbortSignal,
): Promise<LockResult> {
  const id = await sessionLease(client, lease, signal);
  const pfx = prefixOf(name);
  const myKey = sessionKey(pfx, id);
  const owner = byCreateRequest(pfx, 'first');
  // Queue up, or find the key this lease queued with before; read the current holder in the same txn.
  const resp = await client.txn(
    TxnRequest.create({
      compare: [absent(myKey)],
      success: [
        { requestPut: PutRequest.create({ key: myKey, value: EMPTY_BYTES, lease: id }) },
        { requestRange: owner },
      ],
      failure: [{ requestRange: RangeRequest.create({ key: myKey }) }, { requestRange: owner }],
    }),
    signal,
  );
  let myRev = resp.header!.revision;
  if (!resp.succeeded) {
    const mine = resp.responses[0]?.responseRange?.kvs[0];
    assert(mine !== undefined, 'the lock key existed for the compare but not for the read');
    myRev = mine.createRevision;
  }
  const holder = resp.responses[1]?.responseRange?.kvs[0];
  if (holder === undefined || holder.createRevision === myRev) return { header: resp.header!, key: myKey };
  try {
    await waitDeletes(client, pfx, myRev - 1n, signal);
    const check = await client.range(RangeRequest.create({ key: myKey }), signal);
    const kv = check.kvs[0];
    if (kv === undefined || kv.createRevision !== myRev) throw new SessionExpired();
    return { header: check.header!, key: myKey };
  } catch (err) {
    // Our key is gone already (or is another request's now): nothing of ours to delete.
    if (!(err instanceof SessionExpired)) await deleteQuietly(client, myKey);
    throw err;
  }
}

class SessionExpired extends EtcdError {
  constructor() {
    super(ERR_SESSION_EXPIRED);
  }
}

/** Unlock: deletes the lock key (an absent key is no error, as in etcd). */
export async function unlock(
  client: KvClient,
  key: Uint8Array,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  const resp = await client.deleteRange(DeleteRangeRequest.create({ key }), signal);
  return resp.header!;
}

/** Deletes a key whatever the caller does meanwhile; a failure leaves it to its lease, as etcd does. */
async function deleteQuietly(client: KvClient, key: Uint8Array): Promise<void> {
  try {
    await client.deleteRange(DeleteRangeRequest.create({ key }));
  } catch {
    // The lease still bounds the key's life.
  }
}
