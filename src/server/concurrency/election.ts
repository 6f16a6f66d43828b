// Leader election as etcd's v3election service runs it (etcdserver/api/v3election over
// clientv3/concurrency/election.go): candidates put `name/<lease hex>` with their value, attached
// to their lease; the leader is the key with the lowest create revision; Campaign returns once every
// key created before the candidate's own is gone. Proclaim and Resign act on a LeaderKey only while
// the key still has the create revision it was elected with. Errors carry etcd's messages.
import { assert, EtcdError, equalBytes } from '../../base/index.js';
import type { ResponseHeader } from '../../generated/etcdserverpb.js';
import {
  Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  TxnRequest,
} from '../../generated/etcdserverpb.js';
import type { KeyValue } from '../../generated/mvccpb.js';
import type { KvClient } from './kv-client.js';
import { byCreateRequest, waitDeletes } from './key-watch.js';
import { absent } from './mutex.js';
import { prefixOf, sessionKey, sessionLease } from './session.js';

/** concurrency.ErrElectionNotLeader. */
export const ERR_ELECTION_NOT_LEADER = 'election: not leader';
/** concurrency.ErrElectionNoLeader. */
export const ERR_ELECTION_NO_LEADER = 'election: no leader';
/** v3election.ErrMissingLeaderKey. */
export const ERR_MISSING_LEADER_KEY = '"leader" field must be provided';

/** v3electionpb.LeaderKey: what a won campaign hands back, and what Proclaim and Resign act on. */
export interface LeaderKey {
  name: Uint8Array;
  key: Uint8Array;
  rev: bigint;
  lease: bigint;
}

export interface CampaignResult {
  header: ResponseHeader;
  leader: LeaderKey;
}

/** A compare that holds while `key` has create revision `rev` (the leader has not changed). */
function createdAt(key: Uint8Array, rev: bigint): Compare {
  return Compare.create({
    key,
    target: Compare_CompareTarget.CREATE,
    result: Compare_CompareResult.EQUAL,
    createRevision: rev,
  });
}

/**
 * Campaigns in election `name` with `value` for `lease` (0: a fresh 60 s lease). A lease already
 * campaigning keeps its place and proclaims the new value. Resolves once elected; if the caller
 * gives up while waiting, the candidacy is withdrawn first. The header is the candidacy txn's.
 */
export async function campaign(
  client: KvClient,
  name: Uint8Array,
  lease: bigint,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<CampaignResult> {
  const id = await sessionLease(client, lease, signal);
  const pfx = prefixOf(name);
  const key = sessionKey(pfx, id);
  const resp = await client.txn(
    TxnRequest.create({
      compare: [absent(key)],
      success: [{ requestPut: PutRequest.create({ key, value, lease: id }) }],
      failure: [{ requestRange: RangeRequest.create({ key }) }],
    }),
    signal,
  );
  let rev = resp.header!.revision;
  if (!resp.succeeded) {
    const kv = resp.responses[0]?.responseRange?.kvs[0];
    assert(kv !== undefined, 'the candidacy key existed for the compare but not for the read');
    rev = kv.createRevision;
    if (!equalBytes(kv.value, value)) {
      try {
        await proclaimAt(client, key, rev, id, value, signal);
      } catch (err) {
        // etcd forgets the key when the proclaim found it replaced, so only other failures resign.
        if (!(err instanceof EtcdError && err.message === ERR_ELECTION_NOT_LEADER)) {
          await resignQuietly(client, key, rev, signal);
        }
        throw err;
      }
    }
  }
  try {
    await waitDeletes(client, pfx, rev - 1n, signal);
  } catch (err) {
    if (signal.aborted) await resignQuietly(client, key, rev);
    throw err;
  }
  return { header: resp.header!, leader: { name, key, rev, lease: id } };
}

/** Publishes a new value as the leader `leader` describes; "election: not leader" if it is not. */
export async function proclaim(
  client: KvClient,
  leader: LeaderKey | undefined,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  if (leader === undefined) throw new EtcdError(ERR_MISSING_LEADER_KEY);
  const id = await sessionLease(client, leader.lease, signal);
  return proclaimAt(client, leader.key, leader.rev, id, value, signal);
}

async function proclaimAt(
  client: KvClient,
  key: Uint8Array,
  rev: bigint,
  lease: bigint,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  const resp = await client.txn(
    TxnRequest.create({
      compare: [createdAt(key, rev)],
      success: [{ requestPut: PutRequest.create({ key, value, lease }) }],
    }),
    signal,
  );
  if (!resp.succeeded) throw new EtcdError(ERR_ELECTION_NOT_LEADER);
  return resp.header!;
}

/**
 * Gives up leadership: deletes the leader key if it still has the elected create revision (a key
 * that changed hands is left alone, and that is no error). Like etcd, a LeaderKey naming lease 0
 * has a session lease granted first, which nothing uses.
 */
export async function resign(
  client: KvClient,
  leader: LeaderKey | undefined,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  if (leader === undefined) throw new EtcdError(ERR_MISSING_LEADER_KEY);
  await sessionLease(client, leader.lease, signal);
  return resignAt(client, leader.key, leader.rev, signal);
}

async function resignAt(
  client: KvClient,
  key: Uint8Array,
  rev: bigint,
  signal?: AbortSignal,
): Promise<ResponseHeader> {
  const resp = await client.txn(
    TxnRequest.create({
      compare: [createdAt(key, rev)],
      success: [{ requestDeleteRange: DeleteRangeRequest.create({ key }) }],
    }),
    signal,
  );
  return resp.header!;
}

async function resignQuietly(
  client: KvClient,
  key: Uint8Array,
  rev: bigint,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await resignAt(client, key, rev, signal);
  } catch {
    // The candidacy key still goes with its lease.
  }
}

/** The current leader's key and value; "election: no leader" when nobody campaigns. */
export async function leader(
  client: KvClient,
  name: Uint8Array,
  signal: AbortSignal,
): Promise<{ header: ResponseHeader; kv: KeyValue }> {
  const resp = await client.range(byCreateRequest(prefixOf(name), 'first'), signal);
  const kv = resp.kvs[0];
  if (kv === undefined) throw new EtcdError(ERR_ELECTION_NO_LEADER);
  return { header: resp.header!, kv };
}
