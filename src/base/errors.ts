// Expected failures carry etcd's exact message (clients match on the text, reference §1.15). The
// gRPC status code for each message is decided in one table at the edge (src/api/grpc/errors.ts).

export const Err = {
  emptyKey: 'etcdserver: key is not provided',
  keyNotFound: 'etcdserver: key not found',
  valueProvided: 'etcdserver: value is provided',
  leaseProvided: 'etcdserver: lease is provided',
  tooManyOps: 'etcdserver: too many operations in txn request',
  duplicateKey: 'etcdserver: duplicate key given in txn request',
  invalidSortOption: 'etcdserver: invalid sort option',
  compacted: 'etcdserver: mvcc: required revision has been compacted',
  futureRev: 'etcdserver: mvcc: required revision is a future revision',
  noSpace: 'etcdserver: mvcc: database space exceeded',
  leaseNotFound: 'etcdserver: requested lease not found',
  leaseExist: 'etcdserver: lease already exists',
  leaseTTLTooLarge: 'etcdserver: too large lease TTL',
  requestTooLarge: 'etcdserver: request is too large',
  tooManyRequests: 'etcdserver: too many requests',
  noLeader: 'etcdserver: no leader',
  notLeader: 'etcdserver: not leader',
  leaderChanged: 'etcdserver: leader changed',
  stopped: 'etcdserver: server stopped',
  timeout: 'etcdserver: request timed out',
  notCapable: 'etcdserver: not capable',
  canceled: 'etcdserver: request canceled',
  corrupt: 'etcdserver: corrupt cluster',
  memberNotFound: 'etcdserver: member not found',
} as const;

export type ErrMessage = (typeof Err)[keyof typeof Err];

/** A failure the client is meant to see, with etcd's exact message. */
export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(message: ErrMessage | string) {
    super(message);
  }
}
