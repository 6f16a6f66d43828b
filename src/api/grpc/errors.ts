// The one table from etcd's error messages to gRPC status codes (reference §1.15), as etcd 3.4's
// v3rpc layer answers them (rpctypes/error.go and togRPCError in v3rpc/util.go). Lower layers throw
// EtcdError with the client-facing message; a few also say the same thing in the words of etcd's
// internal packages ("mvcc: required revision has been compacted", "lease not found", "auth: ..."),
// and those are translated to the client-facing message here, as togRPCError does. A message in
// no row is answered as etcd 3.4 answers an unmapped error: code Unknown, message unchanged.
import { Err, EtcdError } from '../../base/errors.js';

import { Status, GrpcError, isGrpcError } from '../../base/grpc-status.js';

/** gRPC status codes, under the name this module's table uses. */
export const Code = Status;
export type Code = (typeof Status)[keyof typeof Status];
export { GrpcError, isGrpcError };

export interface ErrorRow {
  /** The message the client sees. */
  readonly message: string;
  readonly code: Code;
  /** The same failure in the words of etcd's internal packages, translated to `message`. */
  readonly internal?: readonly string[];
}

const C = Code;

/** etcd 3.4's mapping. Codes differ from 3.5+ in places (e.g. "not capable" is Unavailable here). */
export const ERROR_TABLE: readonly ErrorRow[] = [
  { message: Err.emptyKey, code: C.INVALID_ARGUMENT },
  { message: Err.keyNotFound, code: C.INVALID_ARGUMENT },
  { message: Err.valueProvided, code: C.INVALID_ARGUMENT },
  { message: Err.leaseProvided, code: C.INVALID_ARGUMENT },
  { message: Err.tooManyOps, code: C.INVALID_ARGUMENT },
  { message: Err.duplicateKey, code: C.INVALID_ARGUMENT },
  // Not in 3.4 (which accepted any sort option); 3.5 answers it with InvalidArgument.
  { message: Err.invalidSortOption, code: C.INVALID_ARGUMENT },
  { message: Err.compacted, code: C.OUT_OF_RANGE, internal: ['mvcc: required revision has been compacted'] },
  {
    message: Err.futureRev,
    code: C.OUT_OF_RANGE,
    internal: ['mvcc: required revision is a future revision'],
  },
  { message: Err.noSpace, code: C.RESOURCE_EXHAUSTED, internal: ['etcdserver: no space'] },
  { message: Err.leaseNotFound, code: C.NOT_FOUND, internal: ['lease not found'] },
  { message: Err.leaseExist, code: C.FAILED_PRECONDITION, internal: ['lease already exists'] },
  { message: Err.leaseTTLTooLarge, code: C.OUT_OF_RANGE, internal: ['too large lease TTL'] },
  { message: Err.watchCanceled, code: C.CANCELLED },
  { message: Err.memberExist, code: C.FAILED_PRECONDITION, internal: ['membership: ID exists'] },
  { message: Err.peerURLExist, code: C.FAILED_PRECONDITION, internal: ['membership: peerURL exists'] },
  { message: Err.memberNotEnoughStarted, code: C.FAILED_PRECONDITION },
  { message: Err.memberBadURLs, code: C.INVALID_ARGUMENT },
  {
    message: Err.memberNotFound,
    code: C.NOT_FOUND,
    internal: ['membership: ID removed', 'membership: ID not found'],
  },
  {
    message: Err.memberNotLearner,
    code: C.FAILED_PRECONDITION,
    internal: ['membership: can only promote a learner member'],
  },
  { message: Err.learnerNotReady, code: C.FAILED_PRECONDITION },
  {
    message: Err.tooManyLearners,
    code: C.FAILED_PRECONDITION,
    internal: ['membership: too many learner members in cluster'],
  },
  { message: Err.requestTooLarge, code: C.INVALID_ARGUMENT },
  { message: Err.tooManyRequests, code: C.RESOURCE_EXHAUSTED },
  {
    message: Err.rootUserNotExist,
    code: C.FAILED_PRECONDITION,
    internal: ['auth: root user does not exist'],
  },
  {
    message: Err.rootRoleNotExist,
    code: C.FAILED_PRECONDITION,
    internal: ['auth: root user does not have root role'],
  },
  { message: Err.userAlreadyExist, code: C.FAILED_PRECONDITION, internal: ['auth: user already exists'] },
  { message: Err.userEmpty, code: C.INVALID_ARGUMENT, internal: ['auth: user name is empty'] },
  { message: Err.userNotFound, code: C.FAILED_PRECONDITION, internal: ['auth: user not found'] },
  { message: Err.roleAlreadyExist, code: C.FAILED_PRECONDITION, internal: ['auth: role already exists'] },
  { message: Err.roleNotFound, code: C.FAILED_PRECONDITION, internal: ['auth: role not found'] },
  { message: Err.roleEmpty, code: C.INVALID_ARGUMENT, internal: ['auth: role name is empty'] },
  {
    message: Err.authFailed,
    code: C.INVALID_ARGUMENT,
    internal: ['auth: authentication failed, invalid user ID or password'],
  },
  { message: Err.permissionDenied, code: C.PERMISSION_DENIED, internal: ['auth: permission denied'] },
  {
    message: Err.roleNotGranted,
    code: C.FAILED_PRECONDITION,
    internal: ['auth: role is not granted to the user'],
  },
  {
    message: Err.permissionNotGranted,
    code: C.FAILED_PRECONDITION,
    internal: ['auth: permission is not granted to the role'],
  },
  {
    message: Err.authNotEnabled,
    code: C.FAILED_PRECONDITION,
    internal: ['auth: authentication is not enabled'],
  },
  { message: Err.invalidAuthToken, code: C.UNAUTHENTICATED, internal: ['auth: invalid auth token'] },
  { message: Err.invalidAuthMgmt, code: C.INVALID_ARGUMENT, internal: ['auth: invalid auth management'] },
  { message: Err.authOldRevision, code: C.INVALID_ARGUMENT, internal: ['auth: revision in header is old'] },
  { message: Err.noLeader, code: C.UNAVAILABLE },
  { message: Err.notLeader, code: C.FAILED_PRECONDITION },
  { message: Err.leaderChanged, code: C.UNAVAILABLE },
  { message: Err.notCapable, code: C.UNAVAILABLE },
  { message: Err.stopped, code: C.UNAVAILABLE },
  { message: Err.timeout, code: C.UNAVAILABLE },
  { message: Err.timeoutDueToLeaderFail, code: C.UNAVAILABLE },
  { message: Err.timeoutDueToConnectionLost, code: C.UNAVAILABLE },
  { message: Err.timeoutWaitAppliedIndex, code: C.UNAVAILABLE },
  { message: Err.unhealthy, code: C.UNAVAILABLE },
  { message: Err.corrupt, code: C.DATA_LOSS },
  { message: Err.notSupportedForLearner, code: C.UNAVAILABLE },
  { message: Err.badLeaderTransferee, code: C.FAILED_PRECONDITION },
  // What grpc-go makes of a handler returning context.Canceled / context.DeadlineExceeded.
  { message: Err.contextCanceled, code: C.CANCELLED },
  { message: Err.contextDeadlineExceeded, code: C.DEADLINE_EXCEEDED },
  // 3.5's names for the same two (ErrGRPCCanceled / ErrGRPCDeadlineExceeded).
  { message: Err.canceled, code: C.CANCELLED },
  { message: 'etcdserver: context deadline exceeded', code: C.DEADLINE_EXCEEDED },
];

const byMessage = new Map<string, { code: Code; message: string }>();
for (const row of ERROR_TABLE) {
  if (byMessage.has(row.message)) throw new Error(`error table: ${row.message} listed twice`);
  byMessage.set(row.message, { code: row.code, message: row.message });
  for (const m of row.internal ?? []) byMessage.set(m, { code: row.code, message: row.message });
}

/** The status etcd 3.4 answers for an error with this message. */
export function statusForMessage(message: string): { code: Code; message: string } {
  return byMessage.get(message) ?? { code: Code.UNKNOWN, message };
}

/** The GrpcError a client should see for an EtcdError. */
export function grpcErrorFromEtcd(err: EtcdError): GrpcError {
  const s = statusForMessage(err.message);
  return new GrpcError(s.code, s.message);
}
