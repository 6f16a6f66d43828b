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
  // The rest of etcd 3.4's client-facing messages (etcdserver/api/v3rpc/rpctypes/error.go).
  watchCanceled: 'etcdserver: watch canceled',
  memberExist: 'etcdserver: member ID already exist',
  peerURLExist: 'etcdserver: Peer URLs already exists',
  memberNotEnoughStarted: 'etcdserver: re-configuration failed due to not enough started members',
  memberBadURLs: 'etcdserver: given member URLs are invalid',
  memberNotLearner: 'etcdserver: can only promote a learner member',
  learnerNotReady: 'etcdserver: can only promote a learner member which is in sync with leader',
  tooManyLearners: 'etcdserver: too many learner members in cluster',
  rootUserNotExist: 'etcdserver: root user does not exist',
  rootRoleNotExist: 'etcdserver: root user does not have root role',
  userAlreadyExist: 'etcdserver: user name already exists',
  userEmpty: 'etcdserver: user name is empty',
  userNotFound: 'etcdserver: user name not found',
  roleAlreadyExist: 'etcdserver: role name already exists',
  roleNotFound: 'etcdserver: role name not found',
  roleEmpty: 'etcdserver: role name is empty',
  authFailed: 'etcdserver: authentication failed, invalid user ID or password',
  permissionDenied: 'etcdserver: permission denied',
  roleNotGranted: 'etcdserver: role is not granted to the user',
  permissionNotGranted: 'etcdserver: permission is not granted to the role',
  authNotEnabled: 'etcdserver: authentication is not enabled',
  invalidAuthToken: 'etcdserver: invalid auth token',
  invalidAuthMgmt: 'etcdserver: invalid auth management',
  authOldRevision: 'etcdserver: revision of auth store is old',
  timeoutDueToLeaderFail: 'etcdserver: request timed out, possibly due to previous leader failure',
  timeoutDueToConnectionLost: 'etcdserver: request timed out, possibly due to connection lost',
  timeoutWaitAppliedIndex: 'etcdserver: request timed out, waiting for the applied index took too long',
  timeoutLeaderTransfer: 'etcdserver: request timed out, leader transfer took too long',
  unhealthy: 'etcdserver: unhealthy cluster',
  notSupportedForLearner: 'etcdserver: rpc not supported for learner',
  badLeaderTransferee: 'etcdserver: bad leader transferee',
  // What gRPC itself says when the caller's context ends (context.Canceled / DeadlineExceeded).
  contextCanceled: 'context canceled',
  contextDeadlineExceeded: 'context deadline exceeded',
} as const;

export type ErrMessage = (typeof Err)[keyof typeof Err];

/** A failure the client is meant to see, with etcd's exact message. */
export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(message: string) {
    super(message);
  }
}
