// etcd 3.4's v3rpc interceptor checks that apply to every method: a client that sets the gRPC
// metadata `hasleader: true` (clientv3.WithRequireLeader) is refused with "etcdserver: no leader"
// while this member knows no leader.
import { Err, EtcdError } from '../../base/errors.js';
import type { CallContext } from './bind.js';

/** etcd's rpctypes.MetadataRequireLeaderKey / MetadataHasLeader. */
export const METADATA_REQUIRE_LEADER_KEY = 'hasleader';
export const METADATA_HAS_LEADER = 'true';

export function requireLeaderInterceptor(
  leaderId: () => bigint,
): (call: CallContext, method: string) => void {
  return (call) => {
    if (call.metadata[METADATA_REQUIRE_LEADER_KEY] === METADATA_HAS_LEADER && leaderId() === 0n) {
      throw new EtcdError(Err.noLeader);
    }
  };
}
