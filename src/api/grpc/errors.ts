// The one table from etcd's error messages to gRPC status codes (reference §1.15), as etcd 3.4's
// v3rpc layer answers them (rpctypes/error.go and togRPCError in v3rpc/util.go). Lower layers throw
// EtcdError with the client-facing message; a few also say the same thing in the words of etcd's
// internal packages ("mvcc: required revision has been compacted", "lease not found", "auth: ..."),
// and those are translated to the client-facing message here, as togRPCError does. A message in
// no row is answered as etcd 3.4 answers an unmapped error: code Unknown, message unchanged.
import { Err, EtcdError } from '../../base/errors.js';

/** gRPC status codes (the same numbers as src/platform's Status; api code may not import platform). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/**
 * A failure answered with this gRPC status. The gRPC server recognises it by shape (name
 * 'GrpcError', an integer code 1..16), so this class and src/platform's GrpcError are interchangeable.
 */
export class GrpcError extends Error {
  override name = 'GrpcError';
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

/** True for any GrpcError-shaped value (this module's or src/platform's class). */
export function isGrpcError(e: unknown): e is GrpcError {
  if (!(e instanceof Error) || e.name !== 'GrpcError') return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 16;
}

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
