// The v3lockpb.Lock service (etcd 3.4's v3lock server): Lock queues for a named lock under the
// caller's lease and answers once it holds it; Unlock deletes the key Lock answered with. The work
// is server/concurrency's. etcd runs these services over an in-process clientv3 whose errors lose
// their gRPC codes, so every failure from inside answers Unknown with etcd's message
// (e.g. `etcdserver: requested lease not found`); only the interceptor-level refusals (no leader
// with `hasleader`, a learner) keep their own codes.
import { Err, EtcdError } from '../../base/errors.js';
import type { LockRequest, LockResponse, UnlockRequest, UnlockResponse } from '../../generated/v3lockpb.js';
import { lock, unlock, type KvClient } from '../../server/concurrency/index.js';
import type { CallContext } from './bind.js';
import { Code, GrpcError, grpcErrorFromEtcd } from './errors.js';

/** What the lock and election services need of their member besides the in-process client. */
export interface ConcurrencyMember {
  readonly isLearner: boolean;
}

/**
 * Runs one request of the lock or election service as etcd does: a learner refuses it (etcd's
 * interceptor), and an EtcdError from the in-process client becomes Unknown with its message.
 */
export async function viaInProcessClient<T>(member: ConcurrencyMember, f: () => Promise<T>): Promise<T> {
  if (member.isLearner) throw new EtcdError(Err.notSupportedForLearner);
  try {
    return await f();
  } catch (err) {
    // The table still translates internal wording to the client-facing message; only the code is lost.
    if (err instanceof EtcdError) throw new GrpcError(Code.UNKNOWN, grpcErrorFromEtcd(err).message);
    throw err;
  }
}

/** The Lock service's implementation for bindService. */
export function lockService(member: ConcurrencyMember, client: KvClient) {
  return {
    Lock(r: LockRequest, call: CallContext): Promise<LockResponse> {
      return viaInProcessClient(member, async () => {
        const held = await lock(client, r.name, r.lease, call.signal);
        return { header: held.header, key: held.key };
      });
    },
    Unlock(r: UnlockRequest, call: CallContext): Promise<UnlockResponse> {
      return viaInProcessClient(member, async () => ({ header: await unlock(client, r.key, call.signal) }));
    },
  };
}
