// Every row of the error table, checked against etcd 3.4's rpctypes/error.go written out again here
// independently (message → code name), plus the internal-message translations and the fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError } from '../../base/errors.js';
import { Code, ERROR_TABLE, GrpcError, grpcErrorFromEtcd, isGrpcError, statusForMessage } from './errors.js';

// etcd 3.4.23 etcdserver/api/v3rpc/rpctypes/error.go, server-side statuses.
const ETCD_34: Record<string, keyof typeof Code> = {
  'etcdserver: key is not provided': 'INVALID_ARGUMENT',
  'etcdserver: key not found': 'INVALID_ARGUMENT',
  'etcdserver: value is provided': 'INVALID_ARGUMENT',
  'etcdserver: lease is provided': 'INVALID_ARGUMENT',
  'etcdserver: too many operations in txn request': 'INVALID_ARGUMENT',
  'etcdserver: duplicate key given in txn request': 'INVALID_ARGUMENT',
  'etcdserver: mvcc: required revision has been compacted': 'OUT_OF_RANGE',
  'etcdserver: mvcc: required revision is a future revision': 'OUT_OF_RANGE',
  'etcdserver: mvcc: database space exceeded': 'RESOURCE_EXHAUSTED',
  'etcdserver: requested lease not found': 'NOT_FOUND',
  'etcdserver: lease already exists': 'FAILED_PRECONDITION',
  'etcdserver: too large lease TTL': 'OUT_OF_RANGE',
  'etcdserver: watch canceled': 'CANCELLED',
  'etcdserver: member ID already exist': 'FAILED_PRECONDITION',
  'etcdserver: Peer URLs already exists': 'FAILED_PRECONDITION',
  'etcdserver: re-configuration failed due to not enough started members': 'FAILED_PRECONDITION',
  'etcdserver: given member URLs are invalid': 'INVALID_ARGUMENT',
  'etcdserver: member not found': 'NOT_FOUND',
  'etcdserver: can only promote a learner member': 'FAILED_PRECONDITION',
  'etcdserver: can only promote a learner member which is in sync with leader': 'FAILED_PRECONDITION',
  'etcdserver: too many learner members in cluster': 'FAILED_PRECONDITION',
  'etcdserver: request is too large': 'INVALID_ARGUMENT',
  'etcdserver: too many requests': 'RESOURCE_EXHAUSTED',
  'etcdserver: root user does not exist': 'FAILED_PRECONDITION',
  'etcdserver: root user does not have root role': 'FAILED_PRECONDITION',
  'etcdserver: user name already exists': 'FAILED_PRECONDITION',
  'etcdserver: user name is empty': 'INVALID_ARGUMENT',
  'etcdserver: user name not found': 'FAILED_PRECONDITION',
  'etcdserver: role name already exists': 'FAILED_PRECONDITION',
  'etcdserver: role name not found': 'FAILED_PRECONDITION',
  'etcdserver: role name is empty': 'INVALID_ARGUMENT',
  'etcdserver: authentication failed, invalid user ID or password': 'INVALID_ARGUMENT',
  'etcdserver: permission denied': 'PERMISSION_DENIED',
  'etcdserver: role is not granted to the user': 'FAILED_PRECONDITION',
  'etcdserver: permission is not granted to the role': 'FAILED_PRECONDITION',
  'etcdserver: authentication is not enabled': 'FAILED_PRECONDITION',
  'etcdserver: invalid auth token': 'UNAUTHENTICATED',
  'etcdserver: invalid auth management': 'INVALID_ARGUMENT',
  'etcdserver: revision of auth store is old': 'INVALID_ARGUMENT',
  'etcdserver: no leader': 'UNAVAILABLE',
  'etcdserver: not leader': 'FAILED_PRECONDITION',
  'etcdserver: leader changed': 'UNAVAILABLE',
  'etcdserver: not capable': 'UNAVAILABLE',
  'etcdserver: server stopped': 'UNAVAILABLE',
  'etcdserver: request timed out': 'UNAVAILABLE',
  'etcdserver: request timed out, possibly due to previous leader failure': 'UNAVAILABLE',
  'etcdserver: request timed out, possibly due to connection lost': 'UNAVAILABLE',
  'etcdserver: request timed out, waiting for the applied index took too long': 'UNAVAILABLE',
  'etcdserver: unhealthy cluster': 'UNAVAILABLE',
  'etcdserver: corrupt cluster': 'DATA_LOSS',
  'etcdserver: rpc not supported for learner': 'UNAVAILABLE',
  'etcdserver: bad leader transferee': 'FAILED_PRECONDITION',
};

// Rows beyond rpctypes 3.4: gRPC's own context statuses and 3.5's additions.
const EXTRA: Record<string, keyof typeof Code> = {
  'context canceled': 'CANCELLED',
  'context deadline exceeded': 'DEADLINE_EXCEEDED',
  'etcdserver: request canceled': 'CANCELLED',
  'etcdserver: context deadline exceeded': 'DEADLINE_EXCEEDED',
  'etcdserver: invalid sort option': 'INVALID_ARGUMENT',
};

void test('every etcd 3.4 error message maps to etcd 3.4 code, unchanged', () => {
  for (const [message, code] of Object.entries(ETCD_34)) {
    assert.deepEqual(statusForMessage(message), { code: Code[code], message }, message);
    const g = grpcErrorFromEtcd(new EtcdError(message));
    assert.equal(g.code, Code[code], message);
    assert.equal(g.message, message);
  }
});

void test('the table has exactly the 3.4 rows plus the documented extras, each once', () => {
  const expected = { ...ETCD_34, ...EXTRA };
  assert.deepEqual(
    Object.fromEntries(ERROR_TABLE.map((r) => [r.message, r.code])),
    Object.fromEntries(Object.entries(expected).map(([m, c]) => [m, Code[c]])),
  );
  assert.equal(ERROR_TABLE.length, Object.keys(expected).length);
  for (const [message, code] of Object.entries(EXTRA)) {
    assert.deepEqual(statusForMessage(message), { code: Code[code], message });
  }
});

void test("internal packages' messages are answered with the client-facing message and code", () => {
  const cases: [string, string, keyof typeof Code][] = [
    [
      'mvcc: required revision has been compacted',
      'etcdserver: mvcc: required revision has been compacted',
      'OUT_OF_RANGE',
    ],
    [
      'mvcc: required revision is a future revision',
      'etcdserver: mvcc: required revision is a future revision',
      'OUT_OF_RANGE',
    ],
    ['etcdserver: no space', 'etcdserver: mvcc: database space exceeded', 'RESOURCE_EXHAUSTED'],
    ['lease not found', 'etcdserver: requested lease not found', 'NOT_FOUND'],
    ['lease already exists', 'etcdserver: lease already exists', 'FAILED_PRECONDITION'],
    ['too large lease TTL', 'etcdserver: too large lease TTL', 'OUT_OF_RANGE'],
    ['membership: ID exists', 'etcdserver: member ID already exist', 'FAILED_PRECONDITION'],
    ['membership: peerURL exists', 'etcdserver: Peer URLs already exists', 'FAILED_PRECONDITION'],
    ['membership: ID removed', 'etcdserver: member not found', 'NOT_FOUND'],
    ['membership: ID not found', 'etcdserver: member not found', 'NOT_FOUND'],
    [
      'membership: can only promote a learner member',
      'etcdserver: can only promote a learner member',
      'FAILED_PRECONDITION',
    ],
    [
      'membership: too many learner members in cluster',
      'etcdserver: too many learner members in cluster',
      'FAILED_PRECONDITION',
    ],
    ['auth: root user does not exist', 'etcdserver: root user does not exist', 'FAILED_PRECONDITION'],
    [
      'auth: root user does not have root role',
      'etcdserver: root user does not have root role',
      'FAILED_PRECONDITION',
    ],
    ['auth: user already exists', 'etcdserver: user name already exists', 'FAILED_PRECONDITION'],
    ['auth: user name is empty', 'etcdserver: user name is empty', 'INVALID_ARGUMENT'],
    ['auth: user not found', 'etcdserver: user name not found', 'FAILED_PRECONDITION'],
    ['auth: role already exists', 'etcdserver: role name already exists', 'FAILED_PRECONDITION'],
    ['auth: role not found', 'etcdserver: role name not found', 'FAILED_PRECONDITION'],
    ['auth: role name is empty', 'etcdserver: role name is empty', 'INVALID_ARGUMENT'],
    [
      'auth: authentication failed, invalid user ID or password',
      'etcdserver: authentication failed, invalid user ID or password',
      'INVALID_ARGUMENT',
    ],
    ['auth: permission denied', 'etcdserver: permission denied', 'PERMISSION_DENIED'],
    [
      'auth: role is not granted to the user',
      'etcdserver: role is not granted to the user',
      'FAILED_PRECONDITION',
    ],
    [
      'auth: permission is not granted to the role',
      'etcdserver: permission is not granted to the role',
      'FAILED_PRECONDITION',
    ],
    [
      'auth: authentication is not enabled',
      'etcdserver: authentication is not enabled',
      'FAILED_PRECONDITION',
    ],
    ['auth: invalid auth token', 'etcdserver: invalid auth token', 'UNAUTHENTICATED'],
    ['auth: invalid auth management', 'etcdserver: invalid auth management', 'INVALID_ARGUMENT'],
    ['auth: revision in header is old', 'etcdserver: revision of auth store is old', 'INVALID_ARGUMENT'],
  ];
  for (const [internal, message, code] of cases) {
    assert.deepEqual(statusForMessage(internal), { code: Code[code], message }, internal);
  }
  const internalCount = ERROR_TABLE.reduce((n, r) => n + (r.internal?.length ?? 0), 0);
  assert.equal(internalCount, cases.length);
});

void test('a message in no row is Unknown with the message unchanged, as etcd 3.4 answers', () => {
  for (const m of [
    'election: not leader',
    'etcdserver: request timed out, leader transfer took too long',
    'auth: authentication failed, password was given for no password user',
  ]) {
    assert.deepEqual(statusForMessage(m), { code: Code.UNKNOWN, message: m });
  }
});

void test('isGrpcError recognises the one GrpcError class only', () => {
  assert.equal(isGrpcError(new GrpcError(Code.NOT_FOUND, 'x')), true);
  assert.equal(isGrpcError(Object.assign(new Error('y'), { name: 'GrpcError', code: 14 })), false);
  assert.equal(isGrpcError({ name: 'GrpcError', code: 3, message: 'not an Error' }), false);
  assert.equal(isGrpcError(new EtcdError('etcdserver: no leader')), false);
});
